"""NHS Digital Summary Hospital-level Mortality Indicator (SHMI), trust-level files.

Each file is one quarterly publication covering a rolling twelve months; the
publication is named by the file (`shmi-2012-july.csv`), not by a column.
Headers drift between publications (`PROVIDER NAME` / `PROVIDER_NAME`, a
`PO_BANDING` column that comes and goes), so columns are found by folded name.
The publisher's own limits and banding are kept beside the counts, so the
warehouse can show where its recomputation agrees.
"""

from __future__ import annotations

import re

import pandas as pd

from dagster_project.ingest.calendar import month_number
from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp
from dagster_project.ingest.proms import fold

SHMI = "shmi"

_COLUMNS = {
    "indicator code": "indicator_code",
    "provider": "provider_code",
    "provider name": "provider_name",
    "denominator": "spells",
    "observed": "observed",
    "expected": "expected",
    "value": "published_shmi",
    "po ll": "published_poisson_lower",
    "po ul": "published_poisson_upper",
    "po banding": "published_poisson_banding",
    "od ll": "published_lower_limit",
    "od ul": "published_upper_limit",
    "od banding": "published_banding",
}
REQUIRED = ("provider_code", "spells", "observed", "expected")
SHMI_COLUMNS = list(dict.fromkeys(_COLUMNS.values()))

_MONTH_YEAR = re.compile(
    r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[-_ ]?(\d{4})"
)
_YEAR_MONTH = re.compile(
    r"(?i)(\d{4})[-_ ]?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
)


def is_shmi(header: list[str]) -> bool:
    folded = {fold(h) for h in header}
    return {"provider", "observed", "expected", "denominator"} <= folded


def publication_from_file_name(name: str) -> str | None:
    """`shmi-2012-july.csv` (or `SHMI July 2012.csv`) -> `2012-07-01`."""
    match = _YEAR_MONTH.search(name)
    if match:
        year, month = match.group(1), match.group(2)
    else:
        match = _MONTH_YEAR.search(name)
        if not match:
            return None
        month, year = match.group(1), match.group(2)
    return f"{int(year):04d}-{month_number(month):02d}-01"


def parse_shmi(csv: LandingCsv) -> pd.DataFrame:
    publication = publication_from_file_name(csv.csv_name)
    if publication is None:
        raise LandingFileError(
            csv.source,
            "a SHMI file's name must say which publication it is, e.g. shmi-2012-july.csv",
        )
    raw = csv.read_frame()
    mapping = {c: _COLUMNS[fold(c)] for c in raw.columns[1:] if fold(c) in _COLUMNS}
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise LandingFileError(csv.source, f"SHMI header lacks: {', '.join(missing)}")
    frame = raw[["row_number", *mapping]].rename(columns=mapping)
    for column in SHMI_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[["row_number", *SHMI_COLUMNS]].copy()
    frame = stamp(frame, csv.source, csv.sha256, "shmi_trust")
    frame.insert(5, "publication", publication)
    return frame
