"""Asset checks on ingest: a publisher's national figure against the sum of its organisations.

Several publishers print a national row beside their organisations. Where the publisher's
own file makes the national figure the sum of its organisations, a file read wrongly (a
block of rows lost or read twice, a figure shifted into the next column, thousands
separators misread) shows as a national figure its organisations no longer add up to:

- UKHSA data-capture exports and archive tables: per organism, metric and month, NHS acute
  trusts add up to the National (or `Totals`) row (true of every real E. coli file,
  2016-17 to 2020-21).
- NHS England KH03: the England row's average beds are the sum of the trusts' (to the
  rounding of an average; true of the real 2020-21 Q1 and Q2 workbooks).
- NHS England FFT: `England (including Independent Sector Providers)` is the sum of the
  organisations' counts; where one is suppressed (`*`) the sum can only fall short.
- NHS Digital PROMs PartLink: England also counts procedures no listed organisation
  carries, so the organisations may fall short of England (by 0.03% in 2016-17 to
  2019-20) but never exceed it.

Each file is checked against itself, from its parsed text (raw/_incoming), so a file that
fails to add up is named whatever validation later sets aside.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.figures import ungroup_column
from dagster_project.home import Home
from dagster_project.ingest.kh03 import BED_COLUMNS
from dagster_project.ingest.layouts import FFT_ANSWERS
from dagster_project.ingest.run import incoming_file, read_manifest
from dagster_project.resources import HomeResource

CHECK_NAME = "national_total_reconciles"
_MISMATCHES_LISTED = 10

Rows = Callable[[pd.DataFrame], pd.Series]


def _code_is(code: str) -> Rows:
    return lambda f: f["organisation_code"].astype("string").str.upper().eq(code).fillna(False)


def _code_is_not(code: str) -> Rows:
    return lambda f: ~_code_is(code)(f)


def _type_is(kind: str) -> Rows:
    return lambda f: f["organisation_type"].astype("string").eq(kind).fillna(False)


@dataclass(frozen=True)
class NationalTotal:
    """A table whose files carry a national row its organisations add up to.

    `by`: what one national figure is for; `exact`: False where the national figure may
    also count what no listed organisation carries (the sum may fall short, not exceed);
    `tolerance`: for averages, the rounding allowed.
    """

    table: str
    measures: tuple[str, ...]
    by: tuple[str, ...]
    national: Rows
    members: Rows
    exact: bool = True
    tolerance: float = 0.0


NATIONAL_TOTALS: dict[str, NationalTotal] = {
    t.table: t
    for t in (
        NationalTotal(
            "hcai_counts",
            ("figure",),
            ("organism", "metric", "month"),
            _type_is("national"),
            _type_is("acute_trust"),
        ),
        NationalTotal(
            "kh03_beds",
            tuple(c for c in BED_COLUMNS if not c.startswith("occupancy")),
            ("period_start",),
            _code_is("ENG"),
            _code_is_not("ENG"),
            tolerance=0.01,
        ),
        NationalTotal(
            "fft_responses",
            (*FFT_ANSWERS, "total_responses", "total_eligible"),
            ("setting", "month"),
            _code_is("ENG"),
            _code_is_not("ENG"),
        ),
        NationalTotal(
            "proms_participation",
            ("hes_procedures", "pre_op_questionnaires", "linked", "q2_issued", "q2_returned"),
            ("financial_year", "procedure"),
            lambda f: f["provider_code"].astype("string").str.upper().isin(["ENGLAND", "ENG"]),
            lambda f: ~f["provider_code"].astype("string").str.upper().isin(["ENGLAND", "ENG"]),
            exact=False,
        ),
    )
}


@dataclass(frozen=True)
class Mismatch:
    source: str
    period: str
    measure: str
    national: float
    organisations: float

    def describe(self) -> str:
        return (
            f"{self.source} {self.period} {self.measure}: national {self.national:g}, "
            f"organisations {self.organisations:g}"
        )


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(ungroup_column(values.astype("string")), errors="coerce")


def reconcile(frame: pd.DataFrame, spec: NationalTotal, source: str) -> list[Mismatch]:
    """Where one parsed file's national figures and its organisations' sums disagree."""
    national, members = spec.national(frame), spec.members(frame)
    if not national.any():
        return []
    found: list[Mismatch] = []
    keys = [frame[c].astype("string").fillna("") for c in spec.by if c in frame.columns]
    for measure in spec.measures:
        if measure not in frame.columns:
            continue
        values = _numbers(frame[measure])
        # A figure present but not a number (`*`, suppressed) leaves the sum short.
        unread = frame[measure].notna() & values.isna() & members
        table = pd.DataFrame(
            {
                "national": values.where(national),
                "members": values.where(members),
                "unread": unread,
            }
        )
        grouped = table.groupby(keys, dropna=False) if keys else table.groupby(lambda _: "")
        sums = grouped.agg(
            national=("national", "sum"),
            has_national=("national", "count"),
            members=("members", "sum"),
            unread=("unread", "any"),
        )
        for period, row in sums[sums["has_national"] > 0].iterrows():
            gap = row["national"] - row["members"]
            short_allowed = not spec.exact or row["unread"]
            if abs(gap) <= spec.tolerance or (short_allowed and gap > 0):
                continue
            label = " / ".join(period) if isinstance(period, tuple) else str(period)
            found.append(Mismatch(source, label, measure, row["national"], row["members"]))
    return found


def national_mismatches(home: Home, feed: str) -> tuple[int, list[Mismatch]]:
    """(files checked, mismatches) over every parsed file of the feed with a national row."""
    checked, found = 0, []
    for entry in read_manifest(home, feed).files:
        spec = NATIONAL_TOTALS.get(entry.table or "")
        path = incoming_file(home, entry.table, entry.key) if spec else None
        if spec is None or path is None or not path.exists():
            continue
        frame = pd.read_parquet(path)
        checked += 1
        found += reconcile(frame, spec, entry.source)
    return checked, found


def build_national_check(feed: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["ingest", feed]),
        name=CHECK_NAME,
        description="Where the publisher's file gives a national figure its organisations add "
        "up to, they do: a mismatch means rows lost, doubled or misread.",
    )
    def _check(home: HomeResource) -> dg.AssetCheckResult:
        checked, found = national_mismatches(home.home(), feed)
        listed = "; ".join(m.describe() for m in found[:_MISMATCHES_LISTED])
        more = len(found) - _MISMATCHES_LISTED
        return dg.AssetCheckResult(
            passed=not found,
            severity=dg.AssetCheckSeverity.WARN,
            description=(listed + (f"; and {more} more" if more > 0 else "")) or None,
            metadata={
                "files_checked": dg.MetadataValue.int(checked),
                "mismatches": dg.MetadataValue.int(len(found)),
            },
        )

    return _check


NATIONAL_CHECKS = [
    build_national_check(feed)
    for feed, spec in FEEDS.items()
    if any(t in NATIONAL_TOTALS for t in spec.table_names)
]
