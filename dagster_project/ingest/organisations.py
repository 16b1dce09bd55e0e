"""NHS Organisation Data Service extracts (`etr.csv` and files of the same shape).

ODS ships these without a header: the columns are fixed by position. Only
the first twelve matter here; later fields come and go between extracts.
"""

from __future__ import annotations

import csv as csvlib
import io
import re

import pandas as pd

from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp

ORGANISATIONS = "organisations"

ODS_COLUMNS = [
    "organisation_code",
    "organisation_name",
    "national_grouping",
    "high_level_health_geography",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "address_line_5",
    "postcode",
    "open_date",
    "close_date",
]
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
_DATE = re.compile(r"^\d{8}$")


def looks_like_ods(csv: LandingCsv) -> bool:
    """Headerless, at least twelve fields, an ODS code first and a date where ODS puts one.

    The first row is read as CSV: later extracts quote every field, and an address with a
    comma in it (`"2ND FLOOR, MORSTON HOUSE"`) must not move the date along.
    """
    with csv.open_binary() as handle:
        head = handle.read(64 * 1024)
    if b"\x00" in head:
        return False
    text = head.decode("utf-8-sig", errors="replace")
    first = [cell.strip() for cell in next(csvlib.reader(io.StringIO(text)), [])]
    return (
        len(first) >= len(ODS_COLUMNS)
        and bool(_ODS_CODE.match(first[0]))
        and bool(_DATE.match(first[10]))
    )


def parse_ods(csv: LandingCsv) -> pd.DataFrame:
    raw = csv.read_frame(header=False)
    if raw.shape[1] - 1 < len(ODS_COLUMNS):
        raise LandingFileError(
            csv.source, f"has {raw.shape[1] - 1} columns; an ODS extract has at least 12"
        )
    frame = raw.iloc[:, : len(ODS_COLUMNS) + 1].copy()
    frame.columns = ["row_number", *ODS_COLUMNS]
    frame = frame.loc[~frame[ODS_COLUMNS].isna().all(axis=1)].reset_index(drop=True)
    return stamp(frame, csv.source, csv.sha256, "ods_extract")
