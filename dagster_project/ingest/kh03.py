"""NHS England KH03 "beds open overnight" quarterly workbooks: average beds per trust and sector.

KH03 gives the denominator of trust infection rates: occupied bed days for a
quarter = average daily occupied general and acute beds x days in the quarter.
The sheet `NHS Trust by Sector` has a block of metadata (`Period:`, `Source:`,
...), a two-line header (a group row `Available` / `Occupied` / `% Occupied`
over a sector row `Total`, `General & Acute`, ...), an England row, then one
row per trust with its NHS England region code.

The header is found by its labels, not its position, and columns are named
`<group>_<sector>` (`available_general_acute`, `occupied_maternity`,
`occupancy_total` for the `% Occupied` fraction), so a moved or added column
does not shift the data. Every value is kept as text, as published.

The quarter comes from the `Period:` metadata ("April to June 2020": the first
month named and the year after it, which must start a financial quarter, or
"Q1 2020-21"); failing that, from the `Year` (`2020-21`) and `Period End`
(`June`) columns of the first data row that has them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from dagster_project.ingest.calendar import month_number
from dagster_project.ingest.landing import STAMP_COLUMNS, LandingFileError, stamp

SHEET = "NHS Trust by Sector"
FILE_KIND = "kh03"
NATIONAL_CODE = "ENG"

SECTORS = ("total", "general_acute", "learning_disabilities", "maternity", "mental_illness")
GROUPS = ("available", "occupied", "occupancy")
BED_COLUMNS = [f"{group}_{sector}" for group in GROUPS for sector in SECTORS]
META_COLUMNS = STAMP_COLUMNS
KH03_COLUMNS = [
    "period_start",
    "quarter_label",
    "region_code",
    "organisation_code",
    "organisation_name",
    *BED_COLUMNS,
]
COLUMNS = META_COLUMNS + KH03_COLUMNS
REQUIRED = ("organisation_code", "available_general_acute", "occupied_general_acute")

_HEADER_SEARCH_ROWS = 40
_SECTOR_NAMES = {
    "total": "total",
    "general & acute": "general_acute",
    "general and acute": "general_acute",
    "g&a": "general_acute",
    "learning disabilities": "learning_disabilities",
    "learning disability": "learning_disabilities",
    "maternity": "maternity",
    "mental illness": "mental_illness",
}
_IDENTIFIERS = {
    "region code": "region_code",
    "nhs england region code": "region_code",
    "region": "region_code",
    "org code": "organisation_code",
    "organisation code": "organisation_code",
    "provider code": "organisation_code",
    "trust code": "organisation_code",
    "org name": "organisation_name",
    "organisation name": "organisation_name",
    "provider name": "organisation_name",
    "trust name": "organisation_name",
    "year": "year",
    "period end": "period_end",
}
_NATIONAL_NAMES = {"england", "england total", "total", "national"}


def _fold(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return re.sub(r"\s+", " ", text.lower().replace("organization", "organisation")).strip(" :")


def _text(value: object) -> str | None:
    """A cell as text: whole numbers without `.0`, other floats in full, blanks as None."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _group(label: str) -> str | None:
    if "%" in label or "percent" in label or "occupancy" in label:
        return "occupancy"
    if "occupied" in label:
        return "occupied"
    if "available" in label:
        return "available"
    return None


def _sector(label: str) -> str:
    """`General & Acute` -> `general_acute`; a sector not seen before in snake_case."""
    slug = re.sub(r"[^a-z0-9]+", "_", label.replace("&", "and")).strip("_")
    return _SECTOR_NAMES.get(label, slug)


def _header_columns(groups_row: tuple, names_row: tuple) -> dict[int, str]:
    """Sheet column index -> canonical name, from the two header lines."""
    columns: dict[int, str] = {}
    group: str | None = None
    for index, name in enumerate(names_row):
        above = _fold(groups_row[index]) if index < len(groups_row) else ""
        if above:
            group = _group(above)
        label = _fold(name)
        if not label:
            continue
        if label in _IDENTIFIERS:
            columns.setdefault(index, _IDENTIFIERS[label])
        elif group is not None:
            columns[index] = f"{group}_{_sector(label)}"
    return columns


def _find_header(rows: list[tuple]) -> tuple[int, dict[int, str]] | None:
    """Index of the sector header line and its columns, if the sheet has one."""
    for index in range(1, min(len(rows), _HEADER_SEARCH_ROWS)):
        columns = _header_columns(rows[index - 1], rows[index])
        if all(name in columns.values() for name in REQUIRED):
            return index, columns
    return None


def _financial_quarter(year: int, month: int) -> tuple[str, str] | None:
    """First day of the quarter and `2020-21 Q1`, for a month that starts a quarter."""
    if month not in (1, 4, 7, 10):
        return None
    start_year = year if month >= 4 else year - 1
    quarter = (month - 4) // 3 + 1 if month >= 4 else 4
    label = f"{start_year}-{(start_year + 1) % 100:02d} Q{quarter}"
    return f"{year:04d}-{month:02d}-01", label


def quarter_from_period(text: str | None) -> tuple[str, str] | None:
    """`April to June 2020` -> (`2020-04-01`, `2020-21 Q1`); `Q4 2020-21` also works."""
    folded = _fold(text)
    match = re.search(r"(?:q|quarter)\s*([1-4])\D{0,3}(\d{4})\s*[-/]\s*\d{2,4}", folded)
    if match is None:
        match = re.search(r"(\d{4})\s*[-/]\s*\d{2,4}\D{0,3}(?:q|quarter)\s*([1-4])", folded)
        quarter_year = (int(match.group(2)), int(match.group(1))) if match else None
    else:
        quarter_year = (int(match.group(1)), int(match.group(2)))
    if quarter_year:
        quarter, start_year = quarter_year
        month = (quarter * 3 + 1) if quarter < 4 else 1
        return _financial_quarter(start_year + (quarter == 4), month)
    month = next(
        (number for word in re.findall(r"[a-z]+", folded) if (number := month_number(word))),
        None,
    )
    year = re.search(r"\b(\d{4})\b", folded)
    return _financial_quarter(int(year.group(1)), month) if month and year else None


def _quarter_from_columns(year: str | None, period_end: str | None) -> tuple[str, str] | None:
    """Year `2020-21` and Period End `June` -> the quarter that ends in June 2020."""
    match = re.fullmatch(r"(\d{4})\s*[-/]\s*\d{2,4}", (year or "").strip())
    end = month_number((period_end or "").strip())
    if match is None or end is None:
        return None
    start_month = (end - 3) % 12 + 1
    first_year = int(match.group(1))
    return _financial_quarter(first_year + (start_month <= 3), start_month)


def _metadata_period(rows: list[tuple]) -> str | None:
    for row in rows:
        for index, value in enumerate(row):
            if _fold(value) == "period":
                return next((_text(v) for v in row[index + 1 :] if _text(v)), None)
    return None


def _load_rows(name: str, data: bytes) -> list[tuple]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise LandingFileError(name, f"is not a readable Excel workbook ({exc})") from exc
    try:
        sheet = next((s for s in workbook.sheetnames if _fold(s) == _fold(SHEET)), None)
        if sheet is None:
            raise LandingFileError(
                name, f"has no sheet `{SHEET}` (sheets: {', '.join(workbook.sheetnames)})"
            )
        return list(workbook[sheet].iter_rows(min_row=1, values_only=True))
    finally:
        workbook.close()


def parse_kh03(path: Path, data: bytes) -> pd.DataFrame:
    """Sheet `NHS Trust by Sector` as one row per trust plus England (code `ENG`), as text.

    `row_number` is the sheet row. Raises LandingFileError for a workbook that
    cannot be opened, lacks the sheet, has no recognisable header, or names no
    quarter.
    """
    name = path.name
    rows = _load_rows(name, data)
    found = _find_header(rows)
    if found is None:
        raise LandingFileError(
            name,
            f"sheet `{SHEET}` has no header with Org Code and Available / Occupied "
            "General & Acute columns",
        )
    header, columns = found
    records: list[dict[str, object]] = []
    for offset, row in enumerate(rows[header + 1 :], start=header + 2):
        value = {canonical: _text(row[i]) for i, canonical in columns.items() if i < len(row)}
        is_national = not value.get("organisation_code") and (
            _fold(value.get("organisation_name")) in _NATIONAL_NAMES
        )
        if is_national:
            value["organisation_code"] = NATIONAL_CODE
        elif not value.get("organisation_code") and not any(value.get(c) for c in BED_COLUMNS):
            continue  # a spacer, a note or a footnote: no code and no beds
        # A row with beds but no code is kept, for validation to quarantine by name.
        records.append({"row_number": offset, **value})

    quarter = quarter_from_period(_metadata_period(rows[:header]))
    for record in records if quarter is None else ():
        quarter = _quarter_from_columns(record.get("year"), record.get("period_end"))
        if quarter is not None:
            break
    if quarter is None:
        raise LandingFileError(
            name, "names no quarter (no `Period:` line such as `April to June 2020`)"
        )

    extras = sorted(
        {c for c in columns.values() if c not in KH03_COLUMNS and c not in ("year", "period_end")}
    )
    frame = pd.DataFrame(records, columns=["row_number", *KH03_COLUMNS, *extras])
    frame["period_start"], frame["quarter_label"] = quarter
    sha256 = hashlib.sha256(data).hexdigest()
    frame = stamp(frame, name, sha256, FILE_KIND)
    frame["row_number"] = frame["row_number"].astype("int64")
    text_columns = [c for c in frame.columns if c != "row_number"]
    frame[text_columns] = frame[text_columns].astype("str")
    return frame[[*COLUMNS, *extras]]
