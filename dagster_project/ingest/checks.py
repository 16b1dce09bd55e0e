"""Asset checks on ingest: a re-issue that leaves out organisations the file it replaces had.

A later delivery replaces an earlier one's rows period by period (supersession.py). Where
a table is matched on period alone (national publications: a month of FFT, a SHMI
publication, a PROMs year), a re-issue without a trust the first issue had makes that
trust's figures for the period leave the warehouse. The publisher may have withdrawn them
or the file may have been cut short; either way a person should know, so the check warns
and names the organisations, the period and both files. Tables matched on the organisation
too (providers' extracts) cannot lose one this way, and are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pandas as pd

from dagster_project.feeds.catalogue import FEEDS, TABLES
from dagster_project.home import Home
from dagster_project.ingest.run import incoming_file, read_manifest
from dagster_project.ingest.supersession import period_of, superseded_file
from dagster_project.resources import HomeResource

CHECK_NAME = "reissue_keeps_organisations"


@dataclass(frozen=True)
class Dropped:
    """Organisations an earlier file had for a period that the file replacing it lacks."""

    table: str
    period: str
    earlier: str
    later: str
    codes: tuple[str, ...]

    def describe(self) -> str:
        columns = " and ".join(TABLES[self.table].supersede_by or ()) or "the whole register"
        period = self.period.replace("|", " / ")
        return (
            f"{self.later} replaces {self.earlier} for {self.table} {columns} {period}".rstrip()
            + f" without {', '.join(self.codes)}"
        )


def _checked_tables(feed: str) -> list[str]:
    return [
        name
        for name in FEEDS[feed].table_names
        if TABLES[name].supersede_by is not None
        and TABLES[name].code_column not in TABLES[name].supersede_by
    ]


def dropped_organisations(home: Home, feed: str) -> list[Dropped]:
    """Every (period, earlier file, later file) where the later lacks organisations."""
    manifest = read_manifest(home, feed)
    found: list[Dropped] = []
    for table in _checked_tables(feed):
        entries = [e for e in manifest.files if e.table == table]
        by_sha = {e.sha256: e for e in entries}
        codes: dict[str, pd.DataFrame] = {}
        for earlier in entries:
            replaced = superseded_file(home, table, earlier.key)
            if not earlier.rows_superseded or not replaced.exists():
                continue
            old = _codes(home, table, earlier.key, codes)
            for row in pd.read_parquet(replaced).itertuples():
                later = by_sha.get(row.by_sha256)
                if later is None:
                    continue
                new = _codes(home, table, later.key, codes)
                had = set(old.loc[old["period"] == row.period, "code"])
                kept = set(new.loc[new["period"] == row.period, "code"])
                missing = tuple(sorted(had - kept))
                if missing:
                    found.append(Dropped(table, row.period, earlier.source, later.source, missing))
    return found


def _codes(home: Home, table: str, key: str, cache: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A parsed file's (period, organisation code) rows, codes as compared: trimmed, upper."""
    if key not in cache:
        frame = pd.read_parquet(incoming_file(home, table, key))
        column = frame.get(TABLES[table].code_column, pd.Series(None, index=frame.index))
        code = column.astype("string").str.strip().str.upper()
        cache[key] = pd.DataFrame({"period": period_of(frame, table), "code": code})
        cache[key] = cache[key][cache[key]["code"].fillna("") != ""]
    return cache[key]


def build_reissue_check(feed: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["ingest", feed]),
        name=CHECK_NAME,
        description="A re-issue has every organisation the file it replaces had for the "
        "periods it replaces; one it leaves out loses its figures for those periods.",
    )
    def _check(home: HomeResource) -> dg.AssetCheckResult:
        dropped = dropped_organisations(home.home(), feed)
        return dg.AssetCheckResult(
            passed=not dropped,
            severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(d.describe() for d in dropped) or None,
            metadata={
                "organisations_dropped": dg.MetadataValue.json(
                    [
                        {
                            "table": d.table,
                            "period": d.period,
                            "earlier": d.earlier,
                            "later": d.later,
                            "codes": list(d.codes),
                        }
                        for d in dropped
                    ]
                )
            },
        )

    return _check


REISSUE_CHECKS = [build_reissue_check(feed) for feed in FEEDS if _checked_tables(feed)]
