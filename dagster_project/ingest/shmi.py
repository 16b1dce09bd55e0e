"""NHS Digital Summary Hospital-level Mortality Indicator (SHMI), trust-level files.

Each file is one publication covering a rolling twelve months, named by the file, not by a
column: until 2019 by the publication's month (`shmi-2012-july.csv`), since then by the
period it covers (`SHMI data at trust level, Nov20-Oct21 (csv).csv`, inside the published
zip). Headers drift between publications (`PROVIDER NAME` / `PROVIDER_NAME`, a `PO_BANDING`
column that comes and goes; since 2019 `PROVIDER_CODE`, `SHMI_VALUE`, `SHMI_BANDING`,
`SPELLS`), so columns are found by folded name. The publisher's own limits and banding are
kept beside the counts, so the warehouse can show where its recomputation agrees.

The same zip carries the site-level file and the contextual indicators; of those the
palliative care coding rates are read (`PALLIATIVE`), the rest recognised and skipped.
"""

from __future__ import annotations

import re

import pandas as pd

from dagster_project.ingest.calendar import month_number
from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp
from dagster_project.ingest.proms import fold
from dagster_project.ingest.row_shape import ROW_PROBLEM, read_checked_frame

SHMI = "shmi"

_COLUMNS = {
    "indicator code": "indicator_code",
    "provider": "provider_code",
    "provider code": "provider_code",
    "provider name": "provider_name",
    "denominator": "spells",
    "spells": "spells",
    "observed": "observed",
    "expected": "expected",
    "value": "published_shmi",
    "shmi value": "published_shmi",
    "po ll": "published_poisson_lower",
    "po ul": "published_poisson_upper",
    "po banding": "published_poisson_banding",
    "od ll": "published_lower_limit",
    "od ul": "published_upper_limit",
    "od banding": "published_banding",
    "shmi banding": "published_banding",
}
REQUIRED = ("provider_code", "spells", "observed", "expected")
SHMI_COLUMNS = list(dict.fromkeys(_COLUMNS.values()))

_MONTH_YEAR = re.compile(
    r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[-_ ]?(\d{4})"
)
_YEAR_MONTH = re.compile(
    r"(?i)(\d{4})[-_ ]?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
)


_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
# `Nov20-Oct21`, `Mar25-Feb26`: the twelve months a publication named by its period covers.
_MONTH_YY = rf"({_MONTHS})[a-z]*[-_ ]?(\d{{2}})"
_PERIOD = re.compile(rf"(?i)(?<![a-z]){_MONTH_YY}\s*(?:-|_|to)\s*{_MONTH_YY}(?!\d)")
_MONTH_YEAR_SHORT = re.compile(rf"(?i)^\s*{_MONTH_YY}\s*$")


def is_shmi(header: list[str]) -> bool:
    """A trust-level SHMI file (not the site-level one, which carries site codes)."""
    folded = {fold(h) for h in header}
    return (
        {"observed", "expected"} <= folded
        and bool({"provider", "provider code"} & folded)
        and bool({"denominator", "spells"} & folded)
        and not {"site code", "site"} & folded
    )


def is_site_level(header: list[str]) -> bool:
    folded = {fold(h) for h in header}
    return {"observed", "expected"} <= folded and bool({"site code", "site"} & folded)


def is_contextual(header: list[str]) -> bool:
    """One of the contextual indicator files beside SHMI: per provider, no SHMI counts."""
    folded = {fold(h) for h in header}
    return bool({"provider code", "provider"} & folded) and "expected" not in folded


def period_end_from_file_name(name: str) -> str | None:
    """`... Nov20-Oct21 ...` -> `2021-10-01`, the last month the publication covers."""
    match = _PERIOD.search(name)
    if not match:
        return None
    return f"{2000 + int(match.group(4)):04d}-{month_number(match.group(3)):02d}-01"


def publication_from_text(text: str) -> str | None:
    """A publication month as the historical file writes it (`JUL_23`) or in full (`July 2023`)."""
    short = _MONTH_YEAR_SHORT.match(text)
    if short:
        return f"{2000 + int(short.group(2)):04d}-{month_number(short.group(1)):02d}-01"
    return publication_from_file_name(text)


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


def publication_or_period(csv: LandingCsv) -> tuple[str | None, str | None]:
    """(publication month, period end month) from the file's name, or failing that the name of
    the zip it came in (`SHMI data files, Apr19-Mar20.zip`): one of the two."""
    for name in dict.fromkeys((csv.csv_name, csv.path.name)):
        period_end = period_end_from_file_name(name)
        if period_end is not None:
            return None, period_end
        publication = publication_from_file_name(name)
        if publication is not None:
            return publication, None
    raise LandingFileError(
        csv.source,
        "a SHMI file's name must say which publication it is (shmi-2012-july.csv) or the "
        "twelve months it covers (SHMI data at trust level, Nov20-Oct21 (csv).csv)",
    )


def _optional(function, value) -> str | None:
    return function(value) if isinstance(value, str) else None


def parse_shmi(csv: LandingCsv) -> pd.DataFrame:
    """One row per trust and period. A TIME_PERIOD column (the historical file) places each
    row by its own twelve months; otherwise the file's name places the whole file. A row
    whose TIME_PERIOD cannot be read keeps a blank period and is quarantined by the suite."""
    raw = read_checked_frame(csv)
    folded = {fold(c): c for c in raw.columns[1:-1]}
    mapping = {c: _COLUMNS[fold(c)] for c in raw.columns[1:-1] if fold(c) in _COLUMNS}
    missing = [c for c in REQUIRED if c not in mapping.values()]
    if missing:
        raise LandingFileError(csv.source, f"SHMI header lacks: {', '.join(missing)}")
    if "time period" in folded:
        period_end = [_optional(period_end_from_file_name, v) for v in raw[folded["time period"]]]
        month = folded.get("publication month")
        publication = (
            [_optional(publication_from_text, v) for v in raw[month]]
            if month
            else [None] * len(raw)
        )
        # A row is placed by its TIME_PERIOD alone; unreadable, it has no place (quarantined).
        publication = [p if e else None for p, e in zip(publication, period_end, strict=True)]
    else:
        publication, period_end = publication_or_period(csv)
    frame = raw[["row_number", *mapping]].rename(columns=mapping)
    for column in SHMI_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[["row_number", *SHMI_COLUMNS]].copy()
    frame[ROW_PROBLEM] = raw[ROW_PROBLEM]
    for column in ("published_banding", "published_poisson_banding"):  # since 2019 `2.0`
        frame[column] = frame[column].str.replace(r"^([123])\.0+$", r"\1", regex=True)
    frame = stamp(frame, csv.source, csv.sha256, "shmi_trust")
    frame.insert(5, "publication", publication)
    frame.insert(6, "period_end", period_end)
    return frame
