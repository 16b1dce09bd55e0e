"""Each layout's national figure reconciles with its organisations where the publisher's
own file says it should (dagster_project/ingest/reconciliation.py).

Real files from ../shared/data when present: UKHSA E. coli 2016-17 to 2020-21 (archive
tables and data-capture exports), NHS England KH03 2020-21 Q1 and Q2, NHS Digital PROMs
PartLink 2016-17, 2017-18 and the 2019-20 provisional pack. A figure changed by hand must
then be found, naming the file, the period and the measure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import real_data

from dagster_project.definitions import defs
from dagster_project.home import Home
from dagster_project.ingest.reconciliation import (
    CHECK_NAME,
    NATIONAL_TOTALS,
    national_mismatches,
    reconcile,
)
from dagster_project.ingest.run import incoming_file, ingest_feed, read_manifest


def _home(tmp_path: Path, feed: str, files: list[Path]) -> Home:
    home = Home(tmp_path)
    (home.landing / feed).mkdir(parents=True)
    for path in files:
        shutil.copy(path, home.landing / feed / path.name)
    ingest_feed(home, feed)
    return home


@pytest.mark.parametrize(
    ("feed", "folder", "pattern", "files"),
    [
        ("hcai", "hcai", "*.csv", 5),
        ("kh03", "kh03", "*.xlsx", 2),
        ("proms", "proms", "*/PartLink*", 2),
        ("proms", "proms_provisional", "*/PartLink*", 1),
    ],
)
def test_the_real_files_reconcile(tmp_path, feed, folder, pattern, files) -> None:
    paths = sorted(real_data(folder).glob(pattern))
    home = _home(tmp_path, feed, paths)
    checked, found = national_mismatches(home, feed)
    assert checked == files and found == []


def test_a_changed_ukhsa_figure_is_named(tmp_path: Path) -> None:
    home = _home(tmp_path, "hcai", [real_data("hcai") / "Ecoli_2019-20.csv"])
    (entry,) = read_manifest(home, "hcai").files
    frame = pd.read_parquet(incoming_file(home, "hcai_counts", entry.key))
    trust = frame.index[
        (frame["organisation_type"] == "acute_trust") & (frame["metric"] == "total")
    ][0]
    frame.loc[trust, "figure"] = str(int(frame.loc[trust, "figure"]) + 1)
    (mismatch,) = reconcile(frame, NATIONAL_TOTALS["hcai_counts"], entry.source)
    assert mismatch.measure == "figure" and "total" in mismatch.period
    assert mismatch.organisations == mismatch.national + 1


def test_fft_england_reconciles_unless_a_count_is_suppressed() -> None:
    spec = NATIONAL_TOTALS["fft_responses"]
    frame = pd.DataFrame(
        {
            "organisation_code": ["ENG", "RXL", "RXN"],
            "setting": "inpatient",
            "month": "2025-07-01",
            "very_good": ["15", "10", "5"],
            "good": ["9", "4", "*"],
            "total_responses": ["30", "20", "11"],
        }
    )
    (mismatch,) = reconcile(frame, spec, "fft.xlsm")
    assert (mismatch.measure, mismatch.national, mismatch.organisations) == (
        "total_responses",
        30,
        31,
    ), "a suppressed count may leave the sum short; a total above England is wrong"


def test_every_feed_with_a_national_row_has_the_check() -> None:
    checks = {
        key.asset_key.path[-1]
        for key in defs().resolve_asset_graph().asset_check_keys
        if key.name == CHECK_NAME
    }
    assert checks == {"hcai", "kh03", "fft", "proms"}
