"""A re-issued file replaces what it carries; the old version stays, as history.

Files are run through the real ingest and Great Expectations suites on a
temporary home. Arrival order comes from the register, as the landing sensor
writes it: the tests deliver files one at a time and record each, so "later"
means later delivered, whatever the names say.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.home import Home
from dagster_project.ingest import arrivals
from dagster_project.ingest.landing import iter_landing_csvs
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.held import held_summary
from dagster_project.validation.run import landing_file, validate_feed

FFT_HEADER = (
    "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
    "3 Neither Good nor Poor SUM,4 Poor SUM,5 Very Poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible"
)


def _fft(month: str, rows: dict[str, str]) -> str:
    lines = [FFT_HEADER]
    for code, counts in rows.items():
        lines.append(f"2024_25,{month},{code},Trust {code},QE1,{counts}")
    return "\n".join(lines) + "\n"


def _deliver(home: Home, feed: str, name: str, text: str) -> Path:
    """A delivery as the sensor sees it: the file lands, its checksum is written down."""
    path = home.landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for csv in iter_landing_csvs(path.parent):
        arrivals.record(home, [arrivals.Delivery(feed, csv.source, csv.sha256)])
    return path


def _raw(home: Home, table: str, sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute(
            f"create view t as select * from read_parquet('{home.raw}/{table}/*.parquet', "
            "union_by_name = true)"
        )
        con.execute(
            f"create view history as select * from read_parquet('{home.raw}/_history/*/*.parquet',"
            " union_by_name = true)"
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


def _run(home: Home, feed: str):
    ingest_feed(home, feed)
    return validate_feed(home, feed)


def test_a_reissued_month_replaces_the_first_issue_and_history_keeps_both(home):
    _deliver(home, "fft", "inpatient-april.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"}))
    _deliver(home, "fft", "inpatient-may.csv", _fft("May", {"RA1": "50,30,5,3,1,1,90,400"}))
    _run(home, "fft")
    # NHS England corrects April; the new file's name sorts *before* the old one.
    _deliver(
        home,
        "fft",
        "corrected-inpatient-april.csv",
        _fft("April", {"RA1": "70,20,5,3,1,1,100,400"}),
    )
    report = _run(home, "fft")

    current = _raw(home, "fft_responses", "select month, very_good, source_file from t order by 1")
    assert [(str(m), v, s) for m, v, s in current] == [
        ("2024-04-01", 70, "corrected-inpatient-april.csv"),
        ("2024-05-01", 50, "inpatient-may.csv"),
    ]
    history = _raw(
        home, "fft_responses", "select source_file, superseded_by_file, record from history"
    )
    assert len(history) == 1
    source, by, record = history[0]
    assert (source, by) == ("inpatient-april.csv", "corrected-inpatient-april.csv")
    assert json.loads(record)["very_good"] == "60"
    # Every row delivered is somewhere: loaded, quarantined or superseded.
    totals = report.totals()
    assert totals["rows_in"] == totals["rows_valid"] + totals["records_quarantined"] + 1
    assert totals["rows_superseded"] == 1


def test_the_landing_table_says_where_each_file_went(home):
    _deliver(home, "fft", "inpatient-april.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"}))
    _deliver(
        home, "fft", "inpatient-april-again.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"})
    )
    _deliver(home, "fft", "inpatient-april-v2.csv", _fft("April", {"RA1": "61,30,5,3,1,1,101,400"}))
    _run(home, "fft")
    con = duckdb.connect()
    rows = con.execute(
        "select source_file, arrival_order, rows_loaded, rows_superseded, superseded_by, note "
        "from read_parquet(?) order by arrival_order, source_file",
        [str(landing_file(home, "fft"))],
    ).fetchall()
    # The same bytes under two names share one arrival and load once (the first by name).
    assert rows == [
        ("inpatient-april-again.csv", 1, 0, 1, "inpatient-april-v2.csv", None),
        (
            "inpatient-april.csv",
            1,
            0,
            0,
            None,
            "same content as another file in landing: loaded once",
        ),
        ("inpatient-april-v2.csv", 2, 1, 0, None, None),
    ]


def test_a_file_delivered_twice_is_loaded_once_and_keeps_its_place(home):
    path = _deliver(
        home, "fft", "inpatient-april.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"})
    )
    _deliver(home, "fft", "inpatient-april-v2.csv", _fft("April", {"RA1": "61,30,5,3,1,1,101,400"}))
    # The first issue is delivered again (same bytes): it is not newer than the correction.
    path.unlink()
    _deliver(home, "fft", "inpatient-april.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"}))
    _run(home, "fft")
    assert _raw(home, "fft_responses", "select source_file, very_good from t") == [
        ("inpatient-april-v2.csv", 61)
    ]
    register = arrivals.read_register(home)
    assert sorted(a.order for a in register.values()) == [1, 2]


def test_a_corrected_file_releases_what_the_first_had_in_quarantine(home):
    # Provider RA1's second quarter: risk-assessed above admitted breaks a rule.
    header = "Org code,Quarter,Admitted,Risk assessed\n"
    _deliver(home, "vte", "vte-q2.csv", header + "RA1,2024-25 Q2,100,120\nRA2,2024-25 Q2,80,75\n")
    _run(home, "vte")
    assert held_summary(home, {"vte_assessments"}).rows
    _deliver(home, "vte", "vte-q2-ra1-corrected.csv", header + "RA1,2024-25 Q2,120,118\n")
    report = _run(home, "vte")
    assert held_summary(home, {"vte_assessments"}).rows == []
    loaded = _raw(home, "vte_assessments", "select organisation_code, admitted from t order by 1")
    # RA2's row in the first file is untouched: the correction was for RA1 only.
    assert loaded == [("RA1", 120), ("RA2", 80)]
    assert report.totals()["rows_superseded"] == 1


def test_withdrawing_the_later_file_makes_the_first_current_again(home):
    _deliver(home, "fft", "inpatient-april.csv", _fft("April", {"RA1": "60,30,5,3,1,1,100,400"}))
    later = _deliver(
        home, "fft", "inpatient-april-v2.csv", _fft("April", {"RA1": "61,30,5,3,1,1,101,400"})
    )
    _run(home, "fft")
    later.unlink()
    report = _run(home, "fft")
    assert _raw(home, "fft_responses", "select source_file, very_good from t") == [
        ("inpatient-april.csv", 60)
    ]
    assert _raw(home, "fft_responses", "select count(*) from history") == [(0,)]
    assert report.totals()["rows_superseded"] == 0
