"""Rows whose shape shows the file was damaged in transit or by hand.

A CSV reader accepts almost anything: a row with a cell missing or one too many, a
quote opened and never closed (which swallows the rest of the file into one cell),
NUL bytes, a last line cut off mid-figure. Each of those, read as if whole, puts a
wrong number in a published table without a trace. So every parser marks such a row
with what is wrong with it (column `ROW_PROBLEM`), and every suite quarantines a
marked row whole (`validation.suites`, rule `row_well_formed`), naming the file,
the line and the problem.

Written here, not found in a library: the checks need the raw cells and line
numbers as the CSV reader saw them, and the file's last bytes.
"""

from __future__ import annotations

import csv as csvlib
import io
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dagster_project.ingest.landing import LandingCsv

ROW_PROBLEM = "_row_problem"
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*)?\.?\d*%?$")


def header_width(cells: Sequence[object]) -> int:
    """How many cells the header names: up to its last non-blank cell."""
    filled = [i for i, c in enumerate(cells) if str(c if c is not None else "").strip()]
    return filled[-1] + 1 if filled else 0


def row_problem(cells: Sequence[str], width: int) -> str | None:
    """What is wrong with a CSV data row's shape, if anything. A row may carry blank cells
    past the header (a trailing comma), never figures, and never fewer cells than it."""
    if any("\x00" in c for c in cells):
        return "holds NUL bytes, which no text file carries"
    if len(cells) < width:
        return f"has {len(cells)} cells where the header has {width}"
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        last = max(i for i, c in enumerate(cells) if c.strip()) + 1
        return f"has {last} cells where the header has {width}"
    return None


def ends_with_line_break(csv: LandingCsv) -> bool:
    if csv.payload is not None:
        return csv.payload.endswith((b"\n", b"\r"))
    with csv.path.open("rb") as handle:
        handle.seek(0, io.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, io.SEEK_END)
        return handle.read(1) in (b"\n", b"\r")


def final_row_problem(csv: LandingCsv, cells: Sequence[str]) -> str | None:
    """What is wrong with the file's last data row.

    An opening quote never closed makes the reader take everything after it as one cell,
    so the last row holds a line break or the file ends without one: only then is the
    file read again strictly to find out. A file that ends without a line break after a
    figure may have been cut inside it (`950` arriving as `9`), so that row is not
    trusted; one ending after text (a publisher's `No`) is complete or fails its rules.
    """
    terminated = ends_with_line_break(csv)
    if not terminated or any("\n" in c or "\r" in c for c in cells):
        opened = _unclosed_quote_line(csv)
        if opened is not None:
            return (
                f"opens a quote on line {opened} that is never closed, so the rest of the "
                "file was read as one cell"
            )
    if not terminated and cells and _NUMBER.match(cells[-1].strip() or "x"):
        return (
            "is the last line and has no line ending after a figure: the file may have "
            "been cut short inside it"
        )
    return None


def _unclosed_quote_line(csv: LandingCsv) -> int | None:
    """The line of a quote left open at the end of the file, read strictly; None if the
    strict reader finds none (or stops at another fault first, which it cannot place)."""
    with csv.open_binary() as raw:
        handle = io.TextIOWrapper(raw, encoding=csv.encoding, errors="replace", newline="")
        reader = csvlib.reader(handle, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csvlib.Error as exc:
            if "unexpected end of data" in str(exc):
                return start
    return None


def read_checked_frame(csv: LandingCsv) -> pd.DataFrame:
    """Every cell as text under the file's own header, blanks as missing, with the line a
    person sees (`row_number`) and what is wrong with each row's shape (`ROW_PROBLEM`).

    For parsers that take the whole file at once (SHMI, PROMs). Unlike a frame reader,
    a row with a cell missing is not padded out and one with a cell too many does not
    stop the file: each is kept, marked, for its suite to quarantine. Blank lines are
    dropped after numbering.
    """
    rows = list(csv.rows())
    if not rows:
        return pd.DataFrame({"row_number": pd.Series(dtype="int64"), ROW_PROBLEM: []})
    first, header_cells = rows[0]
    del first
    names = [c.strip() for c in header_cells]
    width = header_width(names)
    names = names[:width] if width else names
    numbers, problems, kept = [], [], []
    data = rows[1:]
    for position, (number, cells) in enumerate(data):
        if not any(c.strip() for c in cells):
            continue
        problem = row_problem(cells, width)
        if position == len(data) - 1:
            problem = problem or final_row_problem(csv, cells)
        numbers.append(number)
        problems.append(problem)
        kept.append(cells)
    columns = {
        name: pd.Series(
            [(r[i].strip() or None) if i < len(r) else None for r in kept], dtype=object
        )
        for i, name in enumerate(names)
    }
    frame = pd.DataFrame({"row_number": np.array(numbers, dtype="int64"), **columns})
    frame[ROW_PROBLEM] = pd.array(problems, dtype="string")
    return frame
