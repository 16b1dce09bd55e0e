"""Organisation codes checked against the ODS register the home was given.

A mistyped code is still a well-shaped code: read as if true, it becomes a new
provider in every published table (an "independent sector provider" no one has
heard of). So wherever the home holds an ODS register (the `organisations` feed,
already validated), a row that names a provider must name one the register
lists, open at some point in the row's period. National and regional totals
(`ENG`, the NHS England region codes of seed `nhs_regions`) are comparators, not
providers, and pass. Rows that do not claim to be a provider (a UKHSA CCG or
national row) are not judged. With no register delivered nothing is judged, and
the validation asset warns so in its log and metadata.

Each failing row carries its code in `UNKNOWN_ORGANISATION`, which every suite
requires to be blank (rule `organisation_in_register`), so the quarantine entry
shows the code, the file and the line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from dagster_project.feeds.catalogue import TABLES
from dagster_project.home import Home
from dagster_project.ingest.tabular import NATIONAL_CODE, NATIONAL_NAMES

REGISTER_TABLE = "organisations"
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
# Rows of these UKHSA organisation types name a provider; the rest (CCGs, England) do not.
_PROVIDER_TYPES = {"hcai_counts": ("organisation_type", {"acute_trust"})}


@dataclass(frozen=True)
class Register:
    """Each code's open and close dates (NaT where the register leaves them blank)."""

    dates: pd.DataFrame  # index organisation_code; columns open_date, close_date
    fingerprint: str


@cache
def _totals(seeds_dir: Path = SEEDS_DIR) -> frozenset[str]:
    regions = pd.read_csv(seeds_dir / "nhs_regions.csv", dtype=str)["region_code"]
    return frozenset({NATIONAL_CODE, *regions})


def load_register(home: Home) -> Register | None:
    """The validated ODS register in the home, or None when no extract was delivered."""
    files = sorted(
        p for p in (home.raw / REGISTER_TABLE).glob("*.parquet") if p.name != "_empty.parquet"
    )
    if not files:
        return None
    frame = pd.concat(
        pd.read_parquet(p, columns=["organisation_code", "open_date", "close_date"]) for p in files
    )
    if frame.empty:
        return None
    for column in ("open_date", "close_date"):
        frame[column] = pd.to_datetime(frame[column], format="%Y%m%d", errors="coerce")
    # A code in several extracts is open from its earliest opening to its latest closing.
    dates = frame.groupby("organisation_code").agg(
        open_date=("open_date", "min"),
        close_date=("close_date", lambda s: pd.NaT if s.isna().any() else s.max()),
    )
    digest = hashlib.sha256("\n".join(p.name for p in files).encode()).hexdigest()[:16]
    return Register(dates, digest)


def _periods(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """(first day, last day) of each row's period, where the table says which it is."""
    if "month" in frame.columns:
        start = pd.to_datetime(frame["month"], errors="coerce", format="%Y-%m-%d")
        return start, start + pd.offsets.MonthEnd(0)
    if "financial_year" in frame.columns:
        year = pd.to_numeric(
            frame["financial_year"].astype("string").str.extract(r"^(\d{4})-\d{2}$")[0],
            errors="coerce",
        )
        start = pd.to_datetime(year.astype("Int64").astype("string") + "-04-01", errors="coerce")
        return start, start + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    return None


def unknown_organisations(frame: pd.DataFrame, table: str, register: Register | None) -> pd.Series:
    """Per row, the code if it names a provider the register does not list as open in the
    row's period; blank otherwise (and everywhere when there is no register)."""
    blank = pd.Series(pd.NA, index=frame.index, dtype="string")
    spec = TABLES[table]
    if register is None or table == REGISTER_TABLE or spec.code_column not in frame.columns:
        return blank
    codes = frame[spec.code_column].astype("string")
    # The publisher's own total row, however it writes the code (PartLink: `England`).
    totals = codes.isin(_totals()) | codes.str.casefold().isin(NATIONAL_NAMES)
    judged = codes.notna() & ~totals.fillna(False)
    if table in _PROVIDER_TYPES:
        column, kinds = _PROVIDER_TYPES[table]
        judged &= frame[column].astype("string").isin(kinds).fillna(False)
    dates = register.dates.reindex(codes.fillna(""))
    in_force = codes.isin(register.dates.index).fillna(False).astype(bool)
    periods = _periods(frame)
    if periods is not None:
        start, end = periods
        opened = pd.Series(dates["open_date"].to_numpy(), index=frame.index)
        closed = pd.Series(dates["close_date"].to_numpy(), index=frame.index)
        known = start.notna()
        in_force &= ~(known & opened.notna() & (opened > end))
        in_force &= ~(known & closed.notna() & (closed < start))
    return codes.where(judged & ~in_force, blank)
