# ruff: noqa: E501 (the battery is a table: one damage a line reads best)
"""A battery of damaged deliveries, as a hostile tester or a tired person would make them.

Row damage: the synthetic region's files are delivered again with damaged rows added (a
cell missing or one too many, a decimal comma, a last row cut inside a figure, a quote
never closed, NUL bytes, a blank total, more deaths than spells, dates in 2099, a
mistyped code, ...). Each damaged row names a period or provider the clean files do not
hold, so a row read as if whole would put a new figure in a published table (and no two
damaged rows share a period, so none replaces another as a re-issue would). One run
takes them all; then each must have left its trace (a quarantine entry with its rule, on
its file and line), every file must account for its rows (in = loaded + quarantined +
superseded), and every published figure must equal the clean run's or be absent.

File damage: files that cannot be read at all are refused with a message naming the file
and what is wrong, before anything is loaded.
"""

from __future__ import annotations

import io
import math
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.home import resolve_home
from dagster_project.ingest.landing import LandingFileError
from dagster_project.ingest.run import ingest_feed
from dagster_project.runner import run_pipeline

pytestmark = pytest.mark.slow

# Tables that describe the inputs rather than publish figures: they change with any delivery.
_ABOUT_INPUTS = {"publication", "landing_history", "data_quality"}


@dataclass(frozen=True)
class Damage:
    """One damaged row added to `path` (under landing; `member` inside a zip), and the rule
    that must quarantine it. `last`: written as the file's last line with no line ending."""

    what: str
    path: str
    row: str
    rule: str
    last: bool = False
    member: str | None = None


HALF_A_RECORD = "<the file's first record, cut to half its cells>"
ODS_ROW = ",".join(["ZX999", "A TRUST", "Y56", "QZA", *[""] * 6, "2019-01-01", *[""] * 16])
HCAI = "C. difficile;NHS acute trust;{code}; Zobby;London;;{year};{month};Community-onset;{figure};Yes;No"

DAMAGES = [
    # VTE: the issue's own cases, and the shape of a row
    Damage("one cell too many", "vte/vte-2024-25.csv", "ZA001,2019-20 Q1,1000,950,7", "row_well_formed"),
    Damage("a cell missing", "vte/vte-2024-25.csv", "ZA001,2019-20 Q2,1000", "row_well_formed"),
    Damage("assessed above admitted", "vte/vte-2024-25.csv", "ZA001,2019-20 Q3,100,120", "assessed_within_admitted"),
    Damage("quoted decimal comma", "vte/vte-2024-25.csv", 'ZA001,2019-20 Q4,"1000,5",950', "admitted_count"),
    Damage("quarter in 2099", "vte/vte-2023-24.csv", "ZA002,2099-00 Q1,1000,950", "quarter_in_period"),
    Damage("mistyped code", "vte/vte-2023-24.csv", "ZA0O2,2019-20 Q1,1000,950", "organisation_in_register"),
    Damage("last row cut inside a figure", "vte/vte-2023-24.csv", "ZA002,2019-20 Q2,1000,9", "row_well_formed", last=True),
    # Incidents
    Damage("incident in 2099", "incidents/incidents-2024-25.csv", "INCX01,ZA001,2099-01-01,2099-01-02,Patient accident,No harm,", "incident_date_in_period"),
    Damage("NUL byte", "incidents/incidents-2024-25.csv", "INCX02,ZA001,2019-06-01,2019-06-02,Pati\x00ent accident,No harm,", "row_well_formed"),
    Damage("unknown harm", "incidents/incidents-2024-25.csv", "INCX03,ZA001,2019-06-01,2019-06-02,Patient accident,Catastrophic,", "degree_of_harm_known"),
    Damage("reported before it happened", "incidents/incidents-2024-25.csv", "INCX04,ZA001,2019-06-05,2019-06-01,Patient accident,Low,", "reported_after_incident"),
    Damage("30 February", "incidents/incidents-2024-25.csv", "INCX05,ZA001,2019-02-30,2019-03-02,Patient accident,Low,", "incident_date_real"),
    Damage("mistyped code", "incidents/incidents-2024-25.csv", "INCX06,ZA0O1,2019-06-01,2019-06-02,Patient accident,Low,", "organisation_in_register"),
    Damage("one cell too many", "incidents/incidents-2024-25.csv", "INCX07,ZA001,2019-06-01,2019-06-02,Patient accident,Low,,Wrong site", "row_well_formed"),
    Damage("quote never closed", "incidents/incidents-2023-24.csv", 'INCX08,ZA001,2019-06-01,2019-06-02,"Patient accident,Low,\r\n', "row_well_formed", last=True),
    # Friends and Family Test
    Damage("blank total", "fft/fft-inpatient-2024-05.csv", "2019_20,APRIL,ZA001,ZOBBY HOSPITALS NHS TRUST,QZA,264,80,11,3,8,4,,", "responses_complete"),
    Damage("answers not adding up", "fft/fft-inpatient-2024-06.csv", "2019_20,MAY,ZA001,ZOBBY HOSPITALS NHS TRUST,QZA,264,80,11,3,8,4,360,", "answers_sum_to_total"),
    Damage("month in 2099", "fft/fft-inpatient-2024-09.csv", "2099_00,APRIL,ZA001,ZOBBY HOSPITALS NHS TRUST,QZA,264,80,11,3,8,4,370,1713", "month_in_period"),
    Damage("row cut short", "fft/fft-inpatient-2024-10.csv", "2019_20,JUNE,ZA001,ZOBBY HOSPITALS NHS TRUST,QZA", "row_well_formed"),
    Damage("mistyped code", "fft/fft-inpatient-2024-07.csv", "2019_20,JULY,ZA0O1,ZOBBY HOSPITALS NHS TRUST,QZA,264,80,11,3,8,4,370,1713", "organisation_in_register"),
    Damage("decimal comma", "fft/fft-inpatient-2024-08.csv", "2019_20,AUGUST,ZA001,ZOBBY HOSPITALS NHS TRUST,QZA,264,80,11,3,8,4,370,1713,5", "row_well_formed"),
    # Readmissions
    Damage("interval above the value", "readmissions/readmissions-2024-25.csv", "2019/20,Provider,ZA001,ZOBBY,16+,14.2,15.0,16.0,1730,15148", "lower_ci_within_value"),
    Damage("last row cut inside a figure", "readmissions/readmissions-2024-25.csv", "2019/20,Provider,ZA001,ZOBBY,<16,14.2,13.0,15.0,1730,15", "row_well_formed", last=True),
    Damage("more readmissions than discharges", "readmissions/readmissions-2023-24.csv", "2018/19,Provider,ZA001,ZOBBY,16+,14.2,13.0,15.0,17300,15148", "readmissions_within_discharges"),
    # National Joint Registry
    Damage("decimal comma", "njr/njr-2024-25.csv", "ZA001,2019-20,0,95,0.05,0.9", "row_well_formed"),
    Damage("a percentage for a fraction", "njr/njr-2023-24.csv", "ZA001,2018-19,95%,0.05,0.9", "compliance_fraction"),
    # Hip fracture
    Damage("arrival in 2099", "hip_fracture/hip-fracture-2024-25.csv", "HFX1,ZA001,2099-04-02 19:50,2099-04-03 11:50,,Y,Y,Y,Y,Y,Y", "arrival_in_period"),
    Damage("surgery before arrival", "hip_fracture/hip-fracture-2024-25.csv", "HFX2,ZA001,2019-04-02 19:50,2019-04-01 11:50,,Y,Y,Y,Y,Y,Y", "surgery_after_arrival"),
    Damage("day-first date", "hip_fracture/hip-fracture-2024-25.csv", "HFX3,ZA001,02/04/2019 19:50,,,Y,Y,Y,Y,Y,Y", "arrival_shape"),
    Damage("a cell missing", "hip_fracture/hip-fracture-2024-25.csv", "HFX4,ZA001,2019-04-02 19:50,2019-04-03 11:50,,Y,Y,Y,Y,Y", "row_well_formed"),
    # Surveys
    Damage("decimal comma shifting the scores", "inpatient_survey/inpatient-survey-2024.csv", "ZA001,2019,75,3,57.0,83.1,47.8,80.4", "row_well_formed"),
    Damage("score above 100", "inpatient_survey/inpatient-survey-2023.csv", "ZA001,2018,75.3,57.0,83.1,47.8,180.4", "q5_score"),
    Damage("a percentage sign", "staff_survey/staff-survey-2024.csv", "ZA001,2019,85%", "recommend_care_percentage"),
    Damage("mistyped code", "staff_survey/staff-survey-2023.csv", "ZA0O1,2018,61.5", "organisation_in_register"),
    # UKHSA
    Damage("a fraction of a case", "hcai/CDI_2024-25.csv", HCAI.format(code="ZA001", year=2019, month=4, figure="12.5"), "figure_count"),
    Damage("a figure with no code", "hcai/CDI_2024-25.csv", HCAI.format(code="", year=2019, month=5, figure="7"), "organisation_code_present"),
    Damage("month in 2099", "hcai/CDI_2024-25.csv", HCAI.format(code="ZA001", year=2099, month=5, figure="7"), "month_in_period"),
    Damage("mistyped code", "hcai/CDI_2024-25.csv", HCAI.format(code="ZA0O1", year=2019, month=6, figure="7"), "organisation_in_register"),
    Damage("one cell too many", "hcai/MSSA_2024-25.csv", HCAI.format(code="ZA001", year=2019, month=4, figure="7").replace("C. difficile", "MSSA") + ";extra", "row_well_formed"),
    Damage("an objective in words", "hcai_objectives/cdi-objectives-2024-25.csv", "ZA001,ZOBBY,2019-20,twelve", "objective_count"),
    # Clusters, SHMI (inside NHS Digital's zip), PROMs
    Damage("mistyped code", "incident_clusters/nrls-cluster-list-2024-25.csv", "ZA0O1,ZOBBY,Acute specialist", "organisation_in_register"),
    Damage("a record cut to half its cells", "proms/Hip Replacement Provider 2425.csv", HALF_A_RECORD, "row_well_formed"),
    Damage("an opening date written as ISO", "organisations/etr.csv", ODS_ROW, "open_date_shape"),
    Damage("more deaths than spells", "shmi/SHMI data files, Apr24-Mar25.zip", "ZY001,ZOBBY AMBULANCE SERVICE NHS TRUST,1.2500,2.0,100,150,120.0000", "deaths_within_spells", member="SHMI data/SHMI data at trust level, Apr24-Mar25 (csv).csv"),
]  # fmt: skip


def _append(data: bytes, row: str, last: bool) -> tuple[bytes, int]:
    """`data` with `row` added as a line of its own; and that line's number."""
    if data and not data.endswith(b"\n"):
        data += b"\r\n"
    line = data.count(b"\n") + 1
    return data + row.encode("utf-8") + (b"" if last else b"\r\n"), line


def _damage(landing: Path) -> dict[Damage, tuple[str, int]]:
    """Apply every damage; where each landed, as (source file, line)."""
    placed: dict[Damage, tuple[str, int]] = {}
    ordered = sorted(DAMAGES, key=lambda d: d.last)  # a file's last row goes in last
    for damage in ordered:
        path = landing / damage.path
        row = damage.row
        if row == HALF_A_RECORD:
            cells = path.read_text(encoding="utf-8").splitlines()[1].split(",")
            row = ",".join(cells[: len(cells) // 2])
        if damage.member is None:
            data, line = _append(path.read_bytes(), row, damage.last)
            path.write_bytes(data)
            placed[damage] = (path.name, line)
            continue
        with zipfile.ZipFile(path) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        members[damage.member], line = _append(members[damage.member], damage.row, damage.last)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        path.write_bytes(buffer.getvalue())
        placed[damage] = (f"{path.name}!{damage.member}", line)
    return placed


@pytest.fixture(scope="module")
def damaged(synthetic_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged")
    home = resolve_home(root).ensure()
    shutil.copytree(synthetic_run.home.landing, home.landing, dirs_exist_ok=True)
    placed = _damage(home.landing)
    outcome = run_pipeline(home, job_name="build_publication")
    assert outcome.success, outcome.failures
    return home, placed


def _quarantine(home) -> pd.DataFrame:
    return pd.concat(
        pd.read_parquet(p) for p in home.quarantine.rglob("*.parquet") if p.name != "_empty.parquet"
    )


def test_at_least_forty_kinds_of_damage_across_every_feed():
    files = [*DAMAGES, *FILE_DAMAGES]
    assert len(files) >= 40
    feeds = {d.path.split("/")[0] for d in DAMAGES} | {f for f, *_ in FILE_DAMAGES}
    assert feeds >= {"vte", "incidents", "fft", "readmissions", "njr", "hip_fracture",
                     "inpatient_survey", "staff_survey", "hcai", "hcai_objectives",
                     "incident_clusters", "shmi", "proms", "organisations"}  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: f"{d.path.split('/')[0]}: {d.what}")
def test_each_damaged_row_is_quarantined_with_its_rule_file_and_line(damaged, damage):
    home, placed = damaged
    source, line = placed[damage]
    held = _quarantine(home)
    mine = held[(held.source_file == source) & (held.row_number == line)]
    assert damage.rule in set(mine.rule), (source, line, sorted(set(mine.rule)))
    assert mine.reason.str.len().gt(0).all()


def test_every_file_accounts_for_every_row(damaged):
    home, _ = damaged
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        history = con.execute(
            "select source_file, rows_in, rows_loaded, records_quarantined, rows_superseded "
            "from landing_history where status <> 'not loaded'"
        ).df()
    finally:
        con.close()
    assert len(history) > 200
    balance = history.rows_loaded + history.records_quarantined + history.rows_superseded
    assert (history.rows_in == balance).all(), history[history.rows_in != balance]


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("show tables").fetchall()]
        return {
            n: con.execute(f'select * from "{n}"').df() for n in names if n not in _ABOUT_INPUTS
        }
    finally:
        con.close()


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    if pd.isna(a) or pd.isna(b):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def test_every_published_figure_equals_the_clean_runs_or_is_absent(synthetic_run, damaged):
    home, _ = damaged
    clean, dirty = _tables(synthetic_run.home.published_db), _tables(home.published_db)
    assert clean.keys() == dirty.keys()
    for name, after in dirty.items():
        before = clean[name]
        numbers = [c for c in after.columns if pd.api.types.is_numeric_dtype(after[c])]
        keys = [c for c in after.columns if c not in numbers]
        sentinel = "\x1f"
        left = after.assign(**{k: after[k].astype("string").fillna(sentinel) for k in keys})
        right = before.assign(**{k: before[k].astype("string").fillna(sentinel) for k in keys})
        joined = left.merge(right, on=keys, how="left", suffixes=("", "_clean"), indicator=True)
        new = joined[joined["_merge"] == "left_only"]
        if not numbers:
            assert new.empty, f"{name}: rows the clean run does not publish\n{new[keys]}"
            continue
        figures = new[numbers]
        assert figures.isna().all().all(), f"{name}: new figures\n{new[keys + numbers]}"
        matched = joined[joined["_merge"] == "both"]
        for column in numbers:
            differ = [
                not _same(a, b)
                for a, b in zip(matched[column], matched[f"{column}_clean"], strict=True)
            ]
            assert not any(differ), f"{name}.{column} changed\n{matched[differ][keys]}"


# --------------------------------------------------------------------------- file damage

FILE_DAMAGES = [
    ("vte", "vte-empty.csv", b"", "no"),
    ("vte", "vte-image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "NUL bytes"),
    ("incidents", "incidents-other.csv", b"Colour,Shape\r\nred,square\r\n", "not recognised"),
    ("fft", "fft-inpatient-2019-04.zip", b"PK\x03\x04 cut short", "zip"),
    ("kh03", "Beds-Q1-2019-20.xlsx", b"PK\x03\x04 not a workbook", "workbook"),
    ("njr", "njr-2019-20.txt", b"Organisation code\r\n", "is not a .csv, .zip, .xlsx, .xlsm or .ods file"),
    ("shmi", "mortality.csv", b"PROVIDER_CODE,SPELLS,OBSERVED,EXPECTED\r\nRA2,1,1,1\r\n", "SHMI file's name"),
    ("fft", "friends-and-family-2024-04.csv", b"Yearnumber,Periodname,Org code,Org name,1 Very Good SUM,2 Good SUM,3 Neither good nor poor SUM,4 Poor SUM,5 Very poor SUM,6 Dont Know SUM,Total Responses\r\n", "setting"),
    ("proms", "PartLink Hip and Knee Replacement.csv", b"Organisation Code,Organisation Name,Hip Replacement - Total HES Procedures\r\nRA2,X,1\r\n", "not recognised"),
    ("hcai", "MRSA_2019-20.csv", b"Title: MRSA\r\nnothing;else\r\n", "header"),
    ("organisations", "etr.zip", b"", "holds no CSV"),
]  # fmt: skip


def _no_csv_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "no data here")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("feed", "name", "data", "problem"),
    FILE_DAMAGES,
    ids=[f"{f}: {n}" for f, n, *_ in FILE_DAMAGES],
)
def test_a_file_that_cannot_be_read_is_refused_naming_it(tmp_path, feed, name, data, problem):
    home = resolve_home(tmp_path).ensure()
    folder = home.landing / feed
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data if name != "etr.zip" else _no_csv_zip())
    with pytest.raises(LandingFileError) as refused:
        ingest_feed(home, feed)
    message = str(refused.value)
    assert name in message, message
    assert problem.lower() in message.lower(), message
