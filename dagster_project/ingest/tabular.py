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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice, zip_longest

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from openpyxl.utils.exceptions import InvalidFileException

from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp
from dagster_project.ingest.row_shape import (
    ROW_PROBLEM,
    final_row_problem,
    header_width,
    row_problem,
)

HEADER_SEARCH_ROWS = 40
BATCH_ROWS = 200_000
NATIONAL_CODE = "ENG"
NATIONAL_NAMES = frozenset(
    {"england", "england total", "total", "totals", "grand total", "national", "all",
     "england including independent sector providers"}
)  # fmt: skip
# Rows that re-add rows the file gives in full (NHS England's FFT workbook: England without
# the independent sector, the sum of the rows on show): skipped and counted, never loaded,
# as they are no organisation and would count each one twice.
SUBTOTAL_NAMES = frozenset(
    {"england excluding independent sector providers", "selection excluding suppressed data"}
)
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
    if csv.path.suffix.lower() == ".ods":  # OpenDocument (the CQC's survey results)
        from dagster_project.ingest.opendocument import sheet_rows

        yield from sheet_rows(csv, layout)
        return
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
            if header_rows(enumerate(head, start=1), layout) is not None:
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


_TITLE_ROWS = 3
_titles: dict[str, tuple[str, ...]] = {}


def workbook_titles(csv: LandingCsv) -> tuple[str, ...]:
    """The text of each sheet's first rows: a workbook may name its month and setting only on
    a cover sheet (NHS England's FFT workbook: `Inpatient Friends and Family Test (FFT) Data -
    July 2025` atop `Notes`), not above the table. Read once per file."""
    if not csv.is_workbook:
        return ()
    if csv.sha256 not in _titles:
        try:
            book = openpyxl.load_workbook(io.BytesIO(csv.data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
            return ()
        try:
            found = []
            for sheet in book.worksheets:
                for row in sheet.iter_rows(max_row=_TITLE_ROWS, values_only=True):
                    found += [c.strip() for c in row if isinstance(c, str) and c.strip()]
        finally:
            book.close()
        _titles.clear()  # one file at a time: the cache is for its batches
        _titles[csv.sha256] = tuple(found)
    return _titles[csv.sha256]


def rows(csv: LandingCsv, layout: Layout) -> Iterator[tuple[int, Sequence[object]]]:
    """(line or sheet row number, cells) of the file, streamed."""
    return _workbook_rows(csv, layout) if csv.is_workbook else csv.rows()


def _blank(cell: object) -> bool:
    return cell is None or not str(cell).strip()


def _joined(upper: Sequence[object], lower: Sequence[object]) -> list[object]:
    """Two header rows read as one: the lower row's label where it has one, else the upper's."""
    width = max(len(upper), len(lower))
    cells = [*lower, *[None] * (width - len(lower))]
    return [upper[i] if _blank(c) and i < len(upper) else c for i, c in enumerate(cells)]


def header_rows(
    numbered: Iterable[tuple[int, Sequence[object]]], layout: Layout
) -> tuple[int, int, dict[int, str]] | None:
    """(first row, last row, columns) of the layout's header: one row, or two where the
    publisher spreads it over two (NHS England's FFT workbook: `Breakdown of Responses`
    over `Very Good` ... `Don't Know`, the other labels above, beside the blanks)."""
    above: tuple[int, Sequence[object]] | None = None
    for number, cells in numbered:
        if number > HEADER_SEARCH_ROWS:
            return None
        columns = layout.match(list(cells))
        if columns:
            return number, number, columns
        if above is not None:
            columns = layout.match(_joined(above[1], cells))
            if columns:
                return above[0], number, columns
        above = (number, cells)
    return None


def find_header(csv: LandingCsv, layout: Layout) -> tuple[int, dict[int, str]] | None:
    """The header's (last) row number and columns, if this file is of `layout`."""
    found = header_rows(rows(csv, layout), layout)
    return None if found is None else (found[1], found[2])


@dataclass
class ParseCounts:
    rows: int = 0
    notes: int = 0
    note_lines: list[int] = field(default_factory=list)
    subtotal_lines: list[int] = field(default_factory=list)

    def subtotal(self, number: int) -> None:
        """Count a subtotal row the file also gives in full (a handful a file at most)."""
        self.subtotal_lines.append(number)

    def note(self, number: int) -> None:
        """Count a note line; only the first few line numbers are kept (for the message)."""
        self.notes += 1
        if len(self.note_lines) < _NOTES_LISTED:
            self.note_lines.append(number)

    def describe(self) -> str:
        parts = []
        if self.notes:
            lines = ", ".join(str(n) for n in self.note_lines)
            more = "" if self.notes <= _NOTES_LISTED else f" and {self.notes - _NOTES_LISTED} more"
            parts.append(f"{self.notes} note line(s) without data skipped (line {lines}{more})")
        if self.subtotal_lines:
            lines = ", ".join(str(n) for n in self.subtotal_lines[:_NOTES_LISTED])
            parts.append(
                f"{len(self.subtotal_lines)} subtotal row(s) of rows given in full skipped "
                f"(line {lines})"
            )
        return "; ".join(parts)


@dataclass
class Batches:
    """A file being parsed in batches, and what the parse skipped once it is done."""

    frames: Iterator[pd.DataFrame]
    counts: ParseCounts

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self.frames


def batches(csv: LandingCsv, layout: Layout) -> Batches:
    counts = ParseCounts()
    return Batches(parse_batches(csv, layout, counts), counts)


def parse_batches(
    csv: LandingCsv, layout: Layout, counts: ParseCounts | None = None
) -> Iterator[pd.DataFrame]:
    """The file's data rows as stamped text frames of at most `BATCH_ROWS` rows.

    Each line costs one pass over its cells to tell data from blank lines and notes; the
    rest (columns, blanks as missing, the publisher's total row) is done a batch at a
    time, column by column, which is what makes a file of millions of lines affordable.
    """
    counts = counts if counts is not None else ParseCounts()
    found = header_rows(rows(csv, layout), layout)
    if found is None:
        raise LandingFileError(csv.source, f"has no {layout.kind} header row")
    first, header, columns = found
    preamble: list[list[str]] = []
    # Where each canonical column sits; an optional column the file lacks is left blank.
    where = {name: index for index, name in columns.items()}
    code_index = where[layout.code_column]
    name_index = where.get(layout.name_column) if layout.name_column else None
    # Rows as cell texts, blank as "": a CSV row's cells are text already.
    plain = not csv.is_workbook
    numbers: list[int] = []
    held: list[tuple[str, ...]] = []
    # What is wrong with each held row's shape (CSV only: a sheet has no cells to miscount).
    problems: list[str | None] = []
    width = 0

    def flush() -> pd.DataFrame:
        frame = _frame(layout, where, numbers, held)
        frame[ROW_PROBLEM] = pd.array(problems, dtype="string")
        counts.rows += len(numbers)
        numbers.clear()
        held.clear()
        problems.clear()
        text = [c for c in frame.columns if c != "row_number"]
        if layout.finish is not None:
            # Derivations work on plain values: text as object, missing as None.
            frame[text] = frame[text].astype(object).where(frame[text].notna(), None)
            frame = layout.finish(frame, csv, preamble)
        frame = stamp(frame, csv.source, csv.sha256, layout.kind)
        text = [c for c in frame.columns if c != "row_number"]
        frame[text] = frame[text].astype("string")
        return frame

    emitted = False
    limit, strip = BATCH_ROWS, str.strip
    last: Sequence[str] = ()
    for number, raw in rows(csv, layout):
        if number <= header:
            if number < first:
                preamble.append([c for c in (_cell_text(v) for v in raw) if c])
            else:  # a header over two rows is as wide as the wider of them
                width = max(width, header_width(raw))
            continue
        # Tuples of text, which the cyclic collector soon stops tracking (lists it would walk
        # over and over while a batch of them is held).
        cells = tuple(map(strip, raw)) if plain else tuple(_cell_text(v) or "" for v in raw)
        code = _at(cells, code_index)
        if not code and _is_subtotal(cells, name_index):
            counts.subtotal(number)
            last = ()
            continue
        if code == "-" and all(c in ("", "-") for c in cells):  # a rule drawn with dashes
            counts.note(number)
            last = ()
            continue
        if cells.count("") >= len(cells) - 1:  # a blank line, a note, or a row of one value
            filled = [c for c in cells if c]
            if not filled:
                continue
            if _is_note(filled, _at(cells, code_index) or None):
                counts.note(number)
                last = ()  # a note after the data: the last data row was followed by more
                continue
        # The batch is let go only once the next data row is in hand, so the file's last
        # row is still held when the end of the file shows whether it arrived whole.
        if len(numbers) >= limit:
            emitted = True
            yield flush()
        numbers.append(number)
        held.append(cells)
        problems.append(row_problem(raw, width) if plain else None)
        last = raw
    if plain and numbers and last:
        problems[-1] = problems[-1] or final_row_problem(csv, last)
    if numbers or not emitted:
        yield flush()


def _frame(
    layout: Layout, where: dict[str, int], numbers: list[int], held: list[tuple[str, ...]]
) -> pd.DataFrame:
    """One batch of rows (cell texts, blank as "") as the layout's columns of text, blank as
    missing, built column by column through Arrow rather than cell by cell."""
    size = len(numbers)
    by_position = list(zip_longest(*held, fillvalue=""))
    name_index = where.get(layout.name_column) if layout.name_column else None
    data: dict[str, object] = {"row_number": np.array(numbers, dtype="int64")}
    for name in layout.column_names:
        index = where.get(name)
        present = index is not None and index < len(by_position)
        values = by_position[index] if present else ("",) * size
        if name == layout.code_column:
            values = _coded(values, held, name_index)
        data[name] = _text(values)
    return pd.DataFrame(data)


def _text(values: Sequence[str]) -> pd.arrays.ArrowStringArray:
    """Cell texts as a pandas string array, "" as missing."""
    array = pa.array(values, type=pa.large_string())
    array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.large_string()), array)
    return pd.arrays.ArrowStringArray(array)


def _coded(
    codes: Sequence[str], held: list[tuple[str, ...]], name_index: int | None
) -> Sequence[str]:
    """The code column with the publisher's total row given the code `ENG`: a national name
    where the code would be, or a blank code and a national name (in the name column, or
    first on the row). Codes repeat, so each distinct one is folded once."""
    national = {c for c in set(codes) if c and fold(c) in NATIONAL_NAMES}
    if not national and "" not in codes:
        return codes
    coded = [NATIONAL_CODE if c in national else c for c in codes]
    for position, code in enumerate(coded):
        if not code:
            cells = held[position]
            first = next(c for c in cells if c)
            if _is_national(None, _at(cells, name_index) or None, first):
                coded[position] = NATIONAL_CODE
    return coded


def _at(cells: Sequence[str | None], index: int | None) -> str | None:
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


def _is_subtotal(cells: Sequence[str], name_index: int | None) -> bool:
    """A row re-adding rows given in full (SUBTOTAL_NAMES), by its name or first cell."""
    name = _at(cells, name_index) or next((c for c in cells if c), "")
    return fold(name) in SUBTOTAL_NAMES


def _is_national(code: str | None, name: str | None, first: str) -> bool:
    """The publisher's own total: blank code and a national name (in the name column, or
    first on the row), or a national name where the code would be."""
    if code is not None:
        return fold(code) in NATIONAL_NAMES
    return fold(name) in NATIONAL_NAMES or fold(first) in NATIONAL_NAMES


def parse_frame(csv: LandingCsv, layout: Layout) -> pd.DataFrame:
    """The whole file as one frame, for small files and tests."""
    return pd.concat(list(parse_batches(csv, layout)), ignore_index=True)
