"""OpenDocument spreadsheets (`.ods`), read as data, as the CQC publishes its survey results.

The CQC ships each survey's trust-level benchmark data as an `.ods` workbook, which openpyxl
cannot open. The one-table reader (`tabular.py`) asks here for a sheet's rows as it asks
openpyxl for a workbook's: (sheet row, cells), the row numbers a person sees, a merged
cell's value in its first cell only, and the first sheet holding the layout's header
(preferred sheets first). OpenDocument writes a run of identical cells or rows once with a
repeat count (a sheet's blank tail is one row repeated a million times), so blanks are only
spelt out when something follows them.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING
from xml.parsers.expat import ExpatError

from odf import teletype
from odf.namespaces import OFFICENS, TABLENS
from odf.opendocument import load
from odf.table import Table, TableRow

from dagster_project.ingest.landing import LandingCsv, LandingFileError

if TYPE_CHECKING:
    from dagster_project.ingest.tabular import Layout

_CELLS = {(TABLENS, "table-cell"), (TABLENS, "covered-table-cell")}
_NUMBERS = {"float", "percentage", "currency"}


def _value(cell: object) -> object:
    """A cell's value: a number as a float, a date as a date (a moment as a datetime), text
    as text; a covered (merged-over) or empty cell as None."""
    if getattr(cell, "qname", None) == (TABLENS, "covered-table-cell"):
        return None
    kind = cell.getAttrNS(OFFICENS, "value-type")
    if kind in _NUMBERS:
        return float(cell.getAttrNS(OFFICENS, "value"))
    if kind == "date":
        text = cell.getAttrNS(OFFICENS, "date-value")
        moment = dt.datetime.fromisoformat(text)
        return moment if "T" in text else moment.date()
    if kind == "boolean":
        return cell.getAttrNS(OFFICENS, "boolean-value") == "true"
    text = "\n".join(teletype.extractText(p) for p in cell.childNodes if p.tagName == "text:p")
    return text or None


def _repeat(element: object, attribute: str) -> int:
    return int(element.getAttrNS(TABLENS, attribute) or 1)


def _cells(row: object) -> list[object]:
    """A row's cells, repeats spelt out, without its blank tail."""
    cells: list[object] = []
    blanks = 0
    for cell in row.childNodes:
        if cell.qname not in _CELLS:
            continue
        value, times = _value(cell), _repeat(cell, "number-columns-repeated")
        if value is None:
            blanks += times
            continue
        cells += [None] * blanks + [value] * times
        blanks = 0
    return cells


_read: dict[str, dict[str, list[tuple[int, list[object]]]]] = {}


def read_sheets(csv: LandingCsv) -> dict[str, list[tuple[int, list[object]]]]:
    """Each sheet's rows as (sheet row, cells), up to its last non-blank row, in workbook
    order. Parsed once per file: recognising it and reading it each ask for the rows."""
    if csv.sha256 not in _read:
        _read.clear()  # one file at a time: the cache is for its repeated reads
        _read[csv.sha256] = _parse(csv)
    return _read[csv.sha256]


def _parse(csv: LandingCsv) -> dict[str, list[tuple[int, list[object]]]]:
    try:
        document = load(io.BytesIO(csv.data))
    except (zipfile.BadZipFile, KeyError, ValueError, ExpatError) as exc:
        raise LandingFileError(
            csv.source, f"is not a readable OpenDocument spreadsheet ({exc})"
        ) from exc
    sheets: dict[str, list[tuple[int, list[object]]]] = {}
    for table in document.spreadsheet.getElementsByType(Table):
        rows: list[tuple[int, list[object]]] = []
        number = written = 0
        for row in table.getElementsByType(TableRow):
            times = _repeat(row, "number-rows-repeated")
            cells = _cells(row)
            if cells:  # blank rows between data are kept, as openpyxl gives them
                rows += [(n + 1, []) for n in range(written, number)]
                rows += [(number + i + 1, list(cells)) for i in range(times)]
                written = number + times
            number += times
        sheets[table.getAttrNS(TABLENS, "name")] = rows
    return sheets


def sheet_rows(csv: LandingCsv, layout: Layout) -> Iterator[tuple[int, list[object]]]:
    """(sheet row, cells) of the first sheet holding the layout's header, preferred sheets
    (`layout.sheets`, matched anywhere in the sheet name, folded) first."""
    from dagster_project.ingest.tabular import HEADER_SEARCH_ROWS, fold, header_rows

    sheets = read_sheets(csv)
    wanted = [fold(s) for s in layout.sheets]
    names = sorted(
        sheets, key=lambda n: next((i for i, w in enumerate(wanted) if w in fold(n)), len(wanted))
    )
    for name in names:
        if header_rows(iter(sheets[name]), layout) is not None:
            yield from sheets[name]
            return
    raise LandingFileError(
        csv.source,
        f"no sheet has a {layout.kind} header row within its first {HEADER_SEARCH_ROWS} "
        f"rows (sheets: {', '.join(sheets)})",
    )
