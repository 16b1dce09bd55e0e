"""PROMs data packs from 2019-20 on, named `... Hip and Knee Replacements 1920.csv`.

Read from NHS Digital's real 2019-20 provisional pack (../shared/data/proms_provisional/,
plain CSVs, with the publisher's `Organsation Name` in ProvComm) when present. Each file is
recognised by its header; PartLink is ingested and validated. The finalised pack of a year
has the same names as the provisional one, so which is current is decided by arrival, as
for every re-issue: the later delivery supersedes the earlier's rows for that year.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import real_data

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.ingest import arrivals
from dagster_project.ingest.landing import LandingCsv, iter_landing_csvs
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.run import landing_file, validate_feed

PARTLINK = "PartLink Hip and Knee Replacements 1920.csv"
KINDS = {
    PARTLINK: ("partlink", "proms_participation"),
    "ProvComm Hip and Knee Replacements 1920.csv": ("provcomm", None),
    "Time Series Hip and Knee Replacements 1920.csv": ("time_series", None),
    "Key Facts Hip and Knee Replacements 1920.csv": ("key_facts", None),
}


@pytest.fixture(scope="module")
def pack() -> Path:
    return real_data("proms_provisional") / "2019-20"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_file_of_the_2019_20_pack_is_recognised_by_its_header(pack: Path, name: str):
    recognised = FEEDS["proms"].recognise(LandingCsv(pack / name, None))
    assert recognised is not None
    assert (recognised.kind, recognised.table) == KINDS[name]


def _deliver(home: Home, source: Path, folder: str, data: bytes | None = None) -> None:
    """A delivery as the landing sensor sees it: the file lands and its checksum is noted."""
    target = home.landing / "proms" / folder / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        shutil.copy(source, target)
    else:
        target.write_bytes(data)
    for csv in iter_landing_csvs(target.parent):
        arrivals.record(home, [arrivals.Delivery("proms", csv.source, csv.sha256)])


def _finalised(provisional: bytes) -> bytes:
    """The finalised pack's PartLink as a stand-in: the provisional one with more
    post-operative questionnaires returned for one trust (figures invented)."""
    lines = provisional.decode("utf-8-sig").splitlines()
    cells = lines[2].split(",")
    assert cells[0] == "RCF"
    cells[10] = "0.6"  # All Procedures - Response rate
    lines[2] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def test_the_provisional_pack_loads_and_the_finalised_one_supersedes_it(
    pack: Path, tmp_path: Path
) -> None:
    home = Home(tmp_path / "home").ensure()
    for name in sorted(KINDS):
        _deliver(home, pack / name, "2019-20 provisional")
    report = ingest_feed(home, "proms")
    notes = {e.source: (e.table, e.note) for e in report.files}
    assert notes[PARTLINK][0] == "proms_participation"
    assert all(table is None and note for s, (table, note) in notes.items() if s != PARTLINK)
    first = validate_feed(home, "proms")
    totals = first.totals("proms_participation")
    organisations = len((pack / PARTLINK).read_text(encoding="utf-8-sig").splitlines()) - 1
    assert totals["rows_in"] == organisations * 7, "one row per organisation and procedure"
    assert totals["records_quarantined"] <= 0.01 * totals["rows_in"]

    data = _finalised((pack / PARTLINK).read_bytes())
    _deliver(home, pack / PARTLINK, "2019-20 finalised", data)
    ingest_feed(home, "proms")
    second = validate_feed(home, "proms")
    by_status = pd.read_parquet(landing_file(home, "proms")).query("table_name.notna()")
    status = dict(zip(by_status["sha256"], by_status["status"], strict=True))
    old = next(f for f in second.files if f.table and f.rows_superseded)
    assert old.rows_superseded == old.rows_in and status[old.sha256] == "superseded"
    con = duckdb.connect()
    try:
        years = con.execute(
            "select financial_year, count(distinct sha256), max(response_rate) filter "
            "(where provider_code = 'RCF' and procedure = 'All Procedures') "
            f"from read_parquet('{home.raw}/proms_participation/*.parquet') group by all"
        ).fetchall()
    finally:
        con.close()
    assert years == [("2019-20", 1, 0.6)], "only the finalised pack's rows are current"
