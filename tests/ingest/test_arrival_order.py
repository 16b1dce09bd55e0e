"""Several new files seen at once: an original and its correction are told apart by what the
files say, then by when they were last modified, never by their names; where nothing tells
them apart the run stops naming both. And a re-issue that leaves out organisations is named
by an asset check.

Real files in a temporary home, through the ingest a run uses (and Dagster for the check).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import dagster as dg
import openpyxl
import pytest

from dagster_project.home import Home
from dagster_project.ingest import arrivals
from dagster_project.ingest.assets import build_ingest_asset
from dagster_project.ingest.checks import CHECK_NAME, build_reissue_check
from dagster_project.ingest.landing import LandingCsv, Stated, stated_issue
from dagster_project.ingest.run import ArrivalOrderError, ingest_feed
from dagster_project.resources import HomeResource

FFT_HEADER = (
    "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
    "3 Neither Good nor Poor SUM,4 Poor SUM,5 Very Poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible"
)
VTE = "Org code,Quarter,Admitted,Risk assessed\n"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


def _fft(month: str, very_good: dict[str, int], above: str = "") -> str:
    rows = "".join(
        f"2024_25,{month},{code},Trust {code},QE1,{n},30,5,3,1,1,100,400\n"
        for code, n in very_good.items()
    )
    return f"{above}{FFT_HEADER}\n{rows}"


def _write(home: Home, feed: str, name: str, text: str, modified: float) -> Path:
    path = home.landing / feed / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (modified, modified))
    return path


def _outcome(home: Home, feed: str) -> dict[str, tuple[int, list[str]]]:
    report = ingest_feed(home, feed)
    return {f.source: (f.arrival, f.superseded_by) for f in report.files}


@pytest.mark.parametrize(
    ("lines", "stated"),
    [
        (
            "Published:,20th August 2020\nRevised:,19th November 2020\n",
            Stated(dt.date(2020, 11, 19), True),
        ),
        ("Publication date:;Wednesday, May 03, 2017;;;\n", Stated(dt.date(2017, 5, 3), False)),
        ('"Published:","2024-09-12",,\n', Stated(dt.date(2024, 9, 12), False)),
        ("Title:,Friends and Family Test\n", Stated(None, False)),
    ],
)
def test_what_a_csv_says_of_its_own_issue(tmp_path, lines, stated):
    path = tmp_path / "file.csv"
    path.write_text(lines + FFT_HEADER + "\n")
    assert stated_issue(LandingCsv(path, None)) == stated


def test_what_a_workbook_says_of_its_own_issue(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Title:", "Beds open overnight"], ["Published:", "20th August 2020"],
                ["Revised:", dt.datetime(2020, 11, 19)], ["Org Code", "Available"]):  # fmt: skip
        sheet.append(row)
    book.save(tmp_path / "kh03.xlsx")
    assert stated_issue(LandingCsv(tmp_path / "kh03.xlsx", None)) == Stated(
        dt.date(2020, 11, 19), True
    )


def test_the_correction_is_the_file_whose_content_says_it_is_later(home):
    now = time.time()
    # The correction was copied in first (older modification time) and its name sorts first.
    revised = _fft("April", {"RA1": 70}, "Published:,10 May 2024\nRevised:,20 June 2024\n")
    _write(home, "fft", "fft-inpatient-april-a.csv", revised, now - 60)
    first = _fft("April", {"RA1": 60}, "Published:,10 May 2024\n")
    _write(home, "fft", "fft-inpatient-april-b.csv", first, now)
    outcome = _outcome(home, "fft")
    assert outcome == {
        "fft-inpatient-april-b.csv": (1, ["fft-inpatient-april-a.csv"]),
        "fft-inpatient-april-a.csv": (2, []),
    }


def test_without_dates_the_later_modified_file_is_the_correction(home):
    now = time.time()
    _write(home, "vte", "a-corrected.csv", VTE + "RA1,2024-25 Q1,100,99\n", now)
    _write(home, "vte", "b-first.csv", VTE + "RA1,2024-25 Q1,100,120\n", now - 60)
    assert _outcome(home, "vte") == {
        "a-corrected.csv": (2, []),
        "b-first.csv": (1, ["a-corrected.csv"]),
    }


def test_two_competing_files_nothing_tells_apart_stop_the_run_naming_both(home):
    now = time.time()
    _write(home, "vte", "vte-q1.csv", VTE + "RA1,2024-25 Q1,100,120\n", now)
    _write(home, "vte", "vte-q1-copy.csv", VTE + "RA1,2024-25 Q1,100,99\n", now)
    with pytest.raises(ArrivalOrderError) as caught:
        ingest_feed(home, "vte")
    message = str(caught.value)
    assert message.startswith("vte-q1-copy.csv and vte-q1.csv (landing/vte/)")
    assert "organisation_code and quarter RA1 / 2024-25 Q1" in message
    assert "nothing tells which is the correction" in message
    assert arrivals.read_register(home) == {}  # neither is numbered until a person decides
    # Touching the correction settles it.
    os.utime(home.landing / "vte" / "vte-q1-copy.csv", (now + 1, now + 1))
    assert _outcome(home, "vte")["vte-q1.csv"] == (1, ["vte-q1-copy.csv"])


def test_identical_files_and_other_periods_do_not_compete(home):
    now = time.time()
    text = VTE + "RA1,2024-25 Q1,100,99\n"
    _write(home, "vte", "vte-q1.csv", text, now)
    _write(home, "vte", "vte-q1-again.csv", text, now)
    _write(home, "vte", "vte-q2.csv", VTE + "RA1,2024-25 Q2,100,98\n", now)
    _write(home, "vte", "vte-q1-ra2.csv", VTE + "RA2,2024-25 Q1,80,75\n", now)
    report = ingest_feed(home, "vte")
    assert sorted(f.arrival for f in report.files) == [1, 1, 2, 3]
    assert not any(f.superseded_by for f in report.files)
    assert [f.source for f in report.files if f.table is None] == ["vte-q1.csv"]  # duplicate


def test_a_reissue_without_organisations_is_flagged_naming_them(home):
    ingest = build_ingest_asset("fft")
    check = build_reissue_check("fft")
    resources = {"home": HomeResource(root=str(home.root))}

    def evaluation() -> dg.AssetCheckEvaluation:
        result = dg.materialize([ingest, check], resources=resources)
        (found,) = result.get_asset_check_evaluations()
        assert found.check_name == CHECK_NAME
        return found

    now = time.time()
    april = _fft("April", {"RA1": 60, "RA2": 50, "RBZ": 40})
    _write(home, "fft", "fft-inpatient-2024-04.csv", april, now - 60)
    _write(home, "fft", "fft-inpatient-2024-05.csv", _fft("May", {"RA1": 60, "RA2": 50}), now - 60)
    assert evaluation().passed
    _write(home, "fft", "fft-inpatient-2024-04-v2.csv", _fft("April", {"RA1": 61}), now)
    flagged = evaluation()
    assert not flagged.passed and flagged.severity == dg.AssetCheckSeverity.WARN
    assert flagged.description == (
        "fft-inpatient-2024-04-v2.csv replaces fft-inpatient-2024-04.csv for fft_responses "
        "setting and month INPATIENT / 2024-04-01 without RA2, RBZ"
    )
    (dropped,) = flagged.metadata["organisations_dropped"].value
    assert dropped["codes"] == ["RA2", "RBZ"]


def test_the_sensor_numbers_one_new_file_and_leaves_several_for_the_run(home, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(home.root))
    from dagster_project.definitions import defs as load

    defs = load()
    sensor = defs.resolve_sensor_def("landing_sensor")

    def tick(cursor: str | None) -> str | None:
        context = dg.build_sensor_context(
            cursor=cursor, definitions=defs, resources={"home": HomeResource(root=str(home.root))}
        )
        assert sensor.evaluate_tick(context).run_requests
        return context.cursor

    now = time.time()
    _write(home, "vte", "vte-q1.csv", VTE + "RA1,2024-25 Q1,100,120\n", now - 120)
    cursor = tick(None)
    assert [a.source for a in arrivals.read_register(home).values()] == ["vte-q1.csv"]
    # Two files at once: the sensor cannot read which is the correction, so the run numbers.
    _write(home, "vte", "vte-q1-b.csv", VTE + "RA1,2024-25 Q1,100,99\n", now)
    _write(home, "vte", "vte-q1-a.csv", VTE + "RA1,2024-25 Q1,100,98\n", now - 60)
    tick(cursor)
    assert len(arrivals.read_register(home)) == 1
    assert _outcome(home, "vte") == {
        "vte-q1-a.csv": (2, ["vte-q1-b.csv"]),
        "vte-q1-b.csv": (3, []),
        "vte-q1.csv": (1, ["vte-q1-b.csv"]),
    }
