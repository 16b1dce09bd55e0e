"""Tables with one header row, found by their column names wherever the header sits.

Most feeds are one table per file: a header row, perhaps below a block of
metadata (title, period, source), then one row per organisation or event,
perhaps followed by notes and a copyright line. A `Layout` names each
canonical column and the spellings publishers have used for it; the header is
the first row (within the first `HEADER_SEARCH_ROWS`) that holds every required
column. Spellings are compared folded (case, spacing, punctuation and
apostrophes ignored), so `6 Don't Know SUM`, `6 Dont Know SUM` and `6 DontKnow SUM`
are one column and a column moved or added does not shift the data.

Rows stream in batches: a CSV of millions of lines never sits whole in a frame.
Every value stays text, as published, with the line (or sheet row) it came
from: the line a person sees when opening the file, blank lines counted, and
for a quoted cell that runs over several lines the line the row starts on.
Blank rows are skipped; so are notes after the data (a single text cell
where a row of figures would be), which are counted, never silently dropped.
A publisher's own total row (blank code and a name such as `England` or
`Total`, or `England` in the code column) is kept with the code `ENG`, which
the staging models leave out.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp

HEADER_SEARCH_ROWS = 40
BATCH_ROWS = 200_000
NATIONAL_CODE = "ENG"
_NATIONAL_NAMES = {"england", "england total", "total", "totals", "grand total", "national", "all"}
_NOTES_LISTED = 5


def fold(label: object) -> str:
    """A header cell reduced to what identifies it: `6 Don't Know SUM` -> `6 dont know sum`."""
    text = str(label or "").lower().replace("&", " and ").replace("organization", "organisation")
    text = re.sub(r"['\u2019`]", "", text)
    return re.sub(r"[^a-z0-9+%]+", " ", text).strip()


def _key(label: object) -> str:
    """A header cell as compared with a column's spellings: folded, and spaces dropped too
    (`Org Code`, `OrgCode`; `Q 3`, `Q3`)."""
    return fold(label).replace(" ", "")


@dataclass(frozen=True)
class Column:
    name: str
    spellings: tuple[str, ...]
    required: bool = True

    @property
    def folded(self) -> frozenset[str]:
        return frozenset(_key(s) for s in (self.name.replace("_", " "), *self.spellings))


@dataclass(frozen=True)
class Layout:
    """One file kind: its table, its columns, and what it adds from the file itself.

    `finish` derives columns the file states only in its name or metadata (a
    setting, a period) and may raise LandingFileError when it cannot.
    """

    kind: str
    table: str
    columns: tuple[Column, ...]
    code_column: str = "organisation_code"
    name_column: str | None = None
    sheets: tuple[str, ...] = ()
    finish: Callable[[pd.DataFrame, LandingCsv, list[list[str]]], pd.DataFrame] | None = None
    derived: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def output_columns(self) -> list[str]:
        return [*self.column_names, *self.derived]

    def match(self, cells: list[object]) -> dict[int, str] | None:
        """Cell index -> canonical column, if `cells` is this layout's header row."""
        found: dict[int, str] = {}
        for index, cell in enumerate(cells):
            folded = _key(cell)
            if not folded:
                continue
            for column in self.columns:
                if folded in column.folded and column.name not in found.values():
                    found[index] = column.name
                    break
        if all(c.name in found.values() for c in self.columns if c.required):
            return found
        return None


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _cell_value(cell: object) -> object:
    """A workbook cell's value; a date-only cell (midnight, no hours in its format) as a date.

    Excel has no date type, only numbers formatted as dates, which openpyxl reads as
    midnight datetimes; shown to a person they are dates, so they are read as dates.
    """
    value = getattr(cell, "value", None)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        number_format = str(getattr(cell, "number_format", "") or "").lower()
        if "h" not in number_format:
            return value.date()
    return value


def _workbook_rows(csv: LandingCsv, layout: Layout) -> Iterator[tuple[int, list[object]]]:
    """(sheet row, cells) of the first sheet holding the layout's header, preferred sheets
    (`layout.sheets`, matched anywhere in the sheet name, folded) first."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(csv.data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise LandingFileError(csv.source, f"is not a readable Excel workbook ({exc})") from exc
    try:
        wanted = [fold(s) for s in layout.sheets]
        names = sorted(
            workbook.sheetnames,
            key=lambda n: next((i for i, w in enumerate(wanted) if w in fold(n)), len(wanted)),
        )
        for name in names:
            sheet = workbook[name]
            # Some writers record a wrong used range (`A1`), which would cut reading short.
            sheet.reset_dimensions()
            head = islice(sheet.iter_rows(values_only=True), HEADER_SEARCH_ROWS)
            if any(layout.match(list(r)) for r in head):
                for number, row in enumerate(sheet.iter_rows(), start=1):
                    yield number, [_cell_value(c) for c in row]
                return
        raise LandingFileError(
            csv.source,
            f"no sheet has a {layout.kind} header row within its first {HEADER_SEARCH_ROWS} "
            f"rows (sheets: {', '.join(workbook.sheetnames)})",
        )
    finally:
        workbook.close()


def _csv_rows(csv: LandingCsv) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, cells): the CSV reader counts to a row's last line, which for
    a quoted cell running over several lines is not the line a person finds the row on."""
    previous = 0
    for last, cells in csv.rows():
        yield previous + 1, cells
        previous = last


def rows(csv: LandingCsv, layout: Layout) -> Iterator[tuple[int, list[object]]]:
    """(line or sheet row number, cells) of the file, streamed."""
    if csv.is_workbook:
        yield from _workbook_rows(csv, layout)
    else:
        yield from _csv_rows(csv)


def find_header(csv: LandingCsv, layout: Layout) -> tuple[int, dict[int, str]] | None:
    """The header's row number and columns, if this file is of `layout`."""
    for number, cells in rows(csv, layout):
        if number > HEADER_SEARCH_ROWS:
            return None
        columns = layout.match(cells)
        if columns:
            return number, columns
    return None


@dataclass
class ParseCounts:
    rows: int = 0
    notes: int = 0
    note_lines: list[int] = field(default_factory=list)

    def note(self, number: int) -> None:
        """Count a note line; only the first few line numbers are kept (for the message)."""
        self.notes += 1
        if len(self.note_lines) < _NOTES_LISTED:
            self.note_lines.append(number)

    def describe(self) -> str:
        if not self.notes:
            return ""
        lines = ", ".join(str(n) for n in self.note_lines)
        more = "" if self.notes <= _NOTES_LISTED else f" and {self.notes - _NOTES_LISTED} more"
        return f"{self.notes} note line(s) without data skipped (line {lines}{more})"


def parse_batches(
    csv: LandingCsv, layout: Layout, counts: ParseCounts | None = None
) -> Iterator[pd.DataFrame]:
    """The file's data rows as stamped text frames of at most `BATCH_ROWS` rows."""
    counts = counts if counts is not None else ParseCounts()
    found = find_header(csv, layout)
    if found is None:
        raise LandingFileError(csv.source, f"has no {layout.kind} header row")
    header, columns = found
    preamble: list[list[str]] = []
    names = layout.column_names
    buffer: dict[str, list] = {"row_number": [], **{n: [] for n in names}}
    # Where each canonical column sits; an optional column the file lacks is left blank.
    where = {name: index for index, name in columns.items()}
    code_index = where[layout.code_column]
    name_index = where.get(layout.name_column) if layout.name_column else None

    def flush() -> pd.DataFrame:
        frame = pd.DataFrame(buffer, columns=["row_number", *names], dtype="object")
        for name in buffer:
            buffer[name] = []
        frame["row_number"] = frame["row_number"].astype("int64")
        if layout.finish is not None:
            frame = layout.finish(frame, csv, preamble)
        frame = stamp(frame, csv.source, csv.sha256, layout.kind)
        text = [c for c in frame.columns if c != "row_number"]
        frame[text] = frame[text].astype("string")
        return frame

    emitted = False
    for number, raw in rows(csv, layout):
        if number < header:
            preamble.append([c for c in (_cell_text(v) for v in raw) if c])
            continue
        if number == header:
            continue
        cells = [_cell_text(v) for v in raw]
        filled = [c for c in cells if c is not None]
        if not filled:
            continue
        code = _at(cells, code_index)
        if _is_note(filled, code):
            counts.note(number)
            continue
        if _is_national(code, _at(cells, name_index), filled[0]):
            code = NATIONAL_CODE
        buffer["row_number"].append(number)
        for name in names:
            buffer[name].append(code if name == layout.code_column else _at(cells, where.get(name)))
        counts.rows += 1
        if len(buffer["row_number"]) >= BATCH_ROWS:
            emitted = True
            yield flush()
    if buffer["row_number"] or not emitted:
        yield flush()


def _at(cells: list[str | None], index: int | None) -> str | None:
    return cells[index] if index is not None and index < len(cells) else None


def _looks_like_figure(text: str) -> bool:
    return re.fullmatch(r"[-+]?[\d.,%\s]+", text) is not None


def _is_note(filled: list[str], code: str | None) -> bool:
    """One text cell where a row of figures would be: a note, source or copyright line.

    A lone cell in the code column that could be a code (letters and digits only) is a
    row with everything else missing, left for the suite to judge.
    """
    if len(filled) != 1 or _looks_like_figure(filled[0]):
        return False
    return code is None or re.fullmatch(r"[A-Za-z0-9]+", code) is None


def _is_national(code: str | None, name: str | None, first: str) -> bool:
    """The publisher's own total: blank code and a national name (in the name column, or
    first on the row), or a national name where the code would be."""
    if code is not None:
        return fold(code) in _NATIONAL_NAMES
    return fold(name) in _NATIONAL_NAMES or fold(first) in _NATIONAL_NAMES


def parse_frame(csv: LandingCsv, layout: Layout) -> pd.DataFrame:
    """The whole file as one frame, for small files and tests."""
    return pd.concat(list(parse_batches(csv, layout)), ignore_index=True)
