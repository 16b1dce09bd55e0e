"""The synthetic quality feeds: published layouts, planted effects where the truth says, null
providers well inside the limits, and files the existing parsers read.

Every figure is recomputed from the files as written (a pipeline's view); the
truth file is only asked who was planted, and with what.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dagster_project.ingest import hcai, kh03, reference
from dagster_project.ingest.landing import LandingCsv, iter_landing_csvs
from dagster_project.synth import organisations, write_incidents_file, write_synthetic_region
from dagster_project.synth.infection import CDI_APPORTIONMENT

YEARS = ("2023-24", "2024-25")
SEED = 1
Z998 = 3.090232
NULL_Z = 1.5
SETTINGS = ("inpatient", "ae", "maternity", "outpatient", "community", "mental_health", "ambulance")
ORGANISMS = {"mrsa", "mssa", "e_coli", "klebsiella", "p_aeruginosa", "c_difficile"}
LONDON = ZoneInfo("Europe/London")

HEADERS = {
    "fft": "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
    "3 Neither good nor poor SUM,4 Poor SUM,5 Very poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible",
    "inpatient_survey": "Organisation code,Survey year,Q1,Q2,Q3,Q4,Q5",
    "staff_survey": "Organisation code,Survey year,Recommend care",
    "incidents": "Incident ID,Organisation code,Incident date,Reported date,Category,"
    "Degree of harm,Never event type",
    "vte": "Organisation code,Quarter,Admitted,Risk assessed",
    "readmissions": "Reporting period,Breakdown,Level,Level description,Age group,"
    "Indicator value,Lower CI,Upper CI,Numerator,Denominator",
    "njr": "Organisation code,Financial year,Compliance,Consent not recorded,"
    "Cemented or hybrid over 70",
    "hip_fracture": "Spell ID,Organisation code,Arrival,Surgery,Orthogeriatric assessment,"
    "Joint care,Geriatrician rehabilitation,Falls assessment,Bone health assessment,"
    "AMTS pre-op,AMTS post-op",
}
HCAI_HEADER = (
    "Collection;Organisation type;Organisation code;Organisation name;PHE Centre;STP;Year;Month;"
    "Metric;Figure;Data signed off;Data changed since last publication?"
)


def _fy_months(year: str) -> list[tuple[int, int]]:
    first = int(year[:4])
    return [(first + (m <= 3), m) for m in (*range(4, 13), 1, 2, 3)]


def expected_files(feed: str, year: str) -> set[str]:
    first = int(year[:4])
    names = {
        "inpatient_survey": {f"inpatient-survey-{first}.csv"},
        "staff_survey": {f"staff-survey-{first}.csv"},
        "incidents": {f"incidents-{year}.csv"},
        "vte": {f"vte-{year}.csv"},
        "readmissions": {f"readmissions-{year}.csv"},
        "hcai_objectives": {f"cdi-objectives-{year}.csv"},
        "incident_clusters": {f"nrls-cluster-list-{year}.csv"},
        "njr": {f"njr-{year}.csv"},
        "hip_fracture": {f"hip-fracture-{year}.csv"},
        "kh03": {f"Beds-Open-Overnight-Web_File-Q{q}-{year}.xlsx" for q in range(1, 5)},
        "hcai": {
            f"{stem}_{year}.csv"
            for stem in ("MRSA", "MSSA", "Ecoli", "Klebsiella", "Paeruginosa", "CDI")
        },
    }
    if feed == "fft":
        return {
            f"fft-{s}-{y}-{m:02d}." + ("xlsx" if (s, m) == ("maternity", 8) else "csv")
            for s in SETTINGS
            for y, m in _fy_months(year)
        }
    return names[feed]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("synth_feeds")
    summary = write_synthetic_region(root / "landing", root / "truth.json", seed=SEED)
    truth = json.loads((root / "truth.json").read_text())
    return {"landing": root / "landing", "summary": summary, "truth": truth, "cache": {}}


def _cached(region: dict, key: str, build):
    if key not in region["cache"]:
        region["cache"][key] = build()
    return region["cache"][key]


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _frame(region: dict, feed: str, name: str) -> pd.DataFrame:
    return _cached(region, f"{feed}/{name}", lambda: _read(region["landing"] / feed / name))


def _effects(region: dict) -> dict:
    return region["truth"]["effects"]


def _roles(region: dict) -> dict[str, str]:
    return _effects(region)["roles"]


def _nulls(region: dict) -> list[str]:
    return _effects(region)["null_providers"]


def _bed_days(region: dict) -> pd.DataFrame:
    """Occupied G&A bed days per provider and year, from the KH03 workbooks as parsed."""

    def build() -> pd.DataFrame:
        frames = [
            kh03.parse_kh03(f.path, f.data) for f in iter_landing_csvs(region["landing"] / "kh03")
        ]
        beds = pd.concat(frames)
        beds = beds[beds["organisation_code"] != "ENG"]
        start = pd.to_datetime(beds["period_start"])
        days = ((start + pd.DateOffset(months=3)) - start).dt.days
        beds = beds.assign(
            bed_days=(beds["occupied_general_acute"].astype(float) * days).round(),
            year=beds["quarter_label"].str[:7],
        )
        return beds.groupby(["year", "organisation_code"])["bed_days"].sum().unstack(0)

    return _cached(region, "bed_days", build)


def _hcai(region: dict, stem: str, year: str) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        path = region["landing"] / "hcai" / f"{stem}_{year}.csv"
        frame = hcai.parse_hcai(LandingCsv(path, None, path.read_bytes()))
        return frame.assign(n=frame["figure"].astype(int))

    return _cached(region, f"hcai/{stem}/{year}", build)


def _z_binomial(x, n, p):
    return (x - n * p) / np.sqrt(n * p * (1 - p))


def _z_poisson(x, mu):
    return (x - mu) / np.sqrt(mu)


# --------------------------------------------------------------------------- layouts


def test_same_arguments_give_the_same_bytes_and_another_seed_does_not(tmp_path):
    def run(name: str, seed: int) -> dict[str, bytes]:
        landing = tmp_path / name / "landing"
        write_synthetic_region(
            landing, tmp_path / name / "truth.json", providers=12, years=["2024-25"], seed=seed,
            records_per_provider=60,
        )  # fmt: skip
        files = {p.relative_to(landing).as_posix(): p.read_bytes() for p in landing.rglob("*.*")}
        files["truth.json"] = (tmp_path / name / "truth.json").read_bytes()
        return files

    first, again, other = run("a", 5), run("b", 5), run("c", 6)
    assert first == again
    assert first.keys() == other.keys()
    workbooks = [k for k in first if k.endswith(".xlsx")]
    assert len(workbooks) == 5  # four KH03 quarters and one FFT maternity month
    assert all(first[k] != other[k] for k in first)


def test_every_feed_writes_its_files_with_exactly_the_published_header(region):
    landing, summary = region["landing"], region["summary"]
    assert {"files", "providers", "years", "records", "truth"} <= summary.keys()
    for feed in (*HEADERS, "kh03", "hcai"):
        expected = set().union(*(expected_files(feed, y) for y in YEARS))
        written = {p.name for p in (landing / feed).iterdir()}
        assert written == expected, feed
        assert summary["feeds"][feed]["files"] == len(expected), feed
        assert set(region["truth"]["feeds"]["written"][feed]) == expected, feed
        for name in written:
            if name.endswith(".xlsx"):
                continue
            data = (landing / feed / name).read_bytes()
            assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n"), name
            first_line = data.split(b"\r\n", 1)[0].decode("utf-8-sig")
            assert first_line == (HCAI_HEADER if feed == "hcai" else HEADERS[feed]), name
            if feed == "hcai":
                assert data.startswith("\ufeff".encode()), "UKHSA exports carry a byte-order mark"
            else:
                assert not data.startswith(b"\xef\xbb\xbf"), name


def test_row_counts_in_the_summary_are_the_data_rows_written(region):
    landing, feeds = region["landing"], region["summary"]["feeds"]
    for feed in ("incidents", "vte", "readmissions", "njr", "hip_fracture", "inpatient_survey"):
        rows = sum(
            (landing / feed / name).read_bytes().count(b"\r\n") - 1
            for y in YEARS
            for name in expected_files(feed, y)
        )
        assert rows == feeds[feed]["rows"], feed
    assert 100_000 <= feeds["incidents"]["rows"] <= 200_000


def test_fft_files_are_organisation_level_with_small_counts_and_eligible_only_where_published(
    region,
):
    answers = ["1 Very Good SUM", "2 Good SUM", "3 Neither good nor poor SUM", "4 Poor SUM",
               "5 Very poor SUM", "6 Dont Know SUM"]  # fmt: skip
    small = 0
    codes = {p["code"] for p in region["truth"]["providers"]}
    for setting in SETTINGS:
        seen: set[str] = set()
        for y, m in _fy_months("2024-25"):
            if (setting, m) == ("maternity", 8):
                continue
            frame = _read(region["landing"] / "fft" / f"fft-{setting}-{y}-{m:02d}.csv")
            assert set(frame["Yearnumber"]) == {"2024_25"}
            assert set(frame["Periodname"]) == {dt.date(y, m, 1).strftime("%B").upper()}
            assert set(frame["Org code"]) <= codes and frame["Org code"].is_unique
            assert frame["Parent org code"].str.fullmatch(r"Q[A-Z0-9]{2}").all()
            counts = frame[answers].astype(int)
            assert (counts.sum(axis=1) == frame["Total Responses"].astype(int)).all()
            small += int(counts.isin([1, 2, 3, 4]).sum().sum())
            if setting in ("inpatient", "ae"):
                eligible = frame["Total Eligible"].astype(int)
                assert (eligible >= frame["Total Responses"].astype(int)).all()
            else:
                assert (frame["Total Eligible"] == "").all()
            seen |= set(frame["Org code"])
        assert seen, f"no provider reports {setting}"
        if setting in ("inpatient", "outpatient"):
            assert seen == codes
    assert small > 500, "disclosure control needs counts of 1 to 4"


def test_one_maternity_month_a_year_is_an_nhs_england_workbook(region):
    for year in YEARS:
        name = f"fft-maternity-{year[:4]}-08.xlsx"
        assert region["truth"]["feeds"]["fft"]["xlsx_files"][year] == name
        book = openpyxl.load_workbook(region["landing"] / "fft" / name, read_only=True)
        assert book.sheetnames == ["Parent & Self Trusts - Organisa"]
        rows = list(book["Parent & Self Trusts - Organisa"].iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r and r[0] == "Yearnumber")
        assert header >= 2 and rows[1][0] == "Period:" and rows[1][1] == f"August {year[:4]}"
        assert all(cell is None for cell in rows[header - 1])
        assert ",".join(rows[header]) == HEADERS["fft"]
        data = [r for r in rows[header + 1 :] if r and r[0] == year.replace("-", "_")]
        assert data and all(r[1] == "AUGUST" and r[12] is None for r in data)
        assert rows[-1][0] == "Source: synthetic"
        book.close()


# --------------------------------------------------------------------------- parsers


def test_existing_parsers_read_the_kh03_workbooks_with_the_rosters_regions(region):
    roster = {p.code: p for p in organisations.make_providers(24, SEED)}
    for f in iter_landing_csvs(region["landing"] / "kh03"):
        frame = kh03.parse_kh03(f.path, f.data)
        quarter = re.search(r"Q(\d)-(\d{4}-\d{2})", f.path.name)
        assert set(frame["quarter_label"]) == {f"{quarter.group(2)} Q{quarter.group(1)}"}
        england = frame[frame["organisation_code"] == "ENG"]
        trusts = frame[frame["organisation_code"] != "ENG"]
        assert len(england) == 1 and set(trusts["organisation_code"]) == set(roster)
        for code, row in trusts.set_index("organisation_code").iterrows():
            assert row["region_code"] == roster[code].region_code
        for column in ("available_general_acute", "occupied_general_acute", "occupied_total"):
            total = trusts[column].astype(float).sum()
            assert float(england[column].item()) == pytest.approx(total)
        occupied = trusts["occupied_general_acute"].astype(float)
        assert (occupied <= trusts["available_general_acute"].astype(float)).all()
    beds = _bed_days(region)
    truth = region["truth"]["feeds"]["occupied_general_acute_bed_days"]
    for year in YEARS:
        assert beds[year].astype(int).to_dict() == truth[year]
        average = beds[year] / (366 if year == "2023-24" else 365)
        assert average.between(90, 320).all()


@pytest.mark.parametrize("year", YEARS)
def test_existing_parser_reads_every_organism_and_england_is_the_sum_of_the_trusts(region, year):
    organisms = set()
    for stem in ("MRSA", "MSSA", "Ecoli", "Klebsiella", "Paeruginosa", "CDI"):
        frame = _hcai(region, stem, year)
        organisms |= set(frame["organism"])
        assert set(frame["organisation_type"]) == {"acute_trust", "national"}
        assert frame["month"].nunique() == 12
        wide = frame.pivot_table(
            index=["organisation_code", "month"], columns="metric", values="n", aggfunc="sum"
        )
        onset = wide["hospital_onset"] + wide["community_onset"]
        assert (wide["total"] == onset).all()
        assert (wide["hospital_onset"] == wide["hoha"]).all()
        trusts = frame[frame["organisation_type"] == "acute_trust"]
        national = frame[frame["organisation_type"] == "national"]
        assert set(national["organisation_code"]) == {"ENG"}
        summed = trusts.groupby(["month", "metric"])["n"].sum()
        # Two published metrics share the code `unknown` (seed hcai_metrics): summed alike.
        published = national.groupby(["month", "metric"])["n"].sum()
        assert (published == summed).all()
    assert organisms == ORGANISMS
    # C. difficile's onset and prior-exposure split (HOHA, COHA, COIA, COCA) in the project's
    # codes, from the words the synthetic files write.
    cdi = set(_hcai(region, "CDI", year)["metric"])
    codes = {reference.hcai_metrics()[hcai.metric_name(w)] for w in CDI_APPORTIONMENT}
    assert codes == {"hoha", "coha", "coia", "coca"}
    assert codes <= cdi


# --------------------------------------------------------------------------- planted effects


def _cdi_trust_attributed(region: dict, year: str) -> tuple[pd.Series, pd.Series]:
    frame = _hcai(region, "CDI", year)
    trusts = frame[frame["organisation_type"] == "acute_trust"]
    apportioned = trusts["metric"].isin(["hoha", "coha"])
    cases = trusts[apportioned].groupby("organisation_code")["n"].sum()
    return cases, _bed_days(region)[year].reindex(cases.index)


@pytest.mark.parametrize("year", YEARS)
def test_high_cdi_provider_has_three_times_the_trust_attributed_rate(region, year):
    cases, bed_days = _cdi_trust_attributed(region, year)
    rate = cases / bed_days * 100_000
    high = _roles(region)["high_cdi"]
    others = rate.drop(high)
    assert rate[high] > 2 * others.median()
    assert 2.4 < rate[high] / others.median() < 3.8
    per_bed_day = 21.0 / 100_000  # the HOHA + COHA rate the truth records
    assert _effects(region)["rates"]["hcai_per_100000_bed_days"]["C. difficile"]["HOHA"] == 14.0
    z = _z_poisson(cases, bed_days * per_bed_day)
    assert z[high] > Z998
    assert (z[_nulls(region)].abs() <= NULL_Z + 1e-9).all()


def _incidents(region: dict, year: str) -> pd.DataFrame:
    return _frame(region, "incidents", f"incidents-{year}.csv")


@pytest.mark.parametrize("year", YEARS)
def test_incidents_follow_bed_days_and_one_provider_reports_much_more_severe_harm(region, year):
    frame = _incidents(region, year)
    assert frame["Incident ID"].is_unique
    assert set(frame["Degree of harm"]) == {"No harm", "Low", "Moderate", "Severe", "Death"}
    incident, reported = (pd.to_datetime(frame[c], format="%Y-%m-%d") for c in
                          ("Incident date", "Reported date"))  # fmt: skip
    assert (reported >= incident).all()
    assert incident.min() >= pd.Timestamp(f"{year[:4]}-04-01")
    assert incident.max() < pd.Timestamp(f"{int(year[:4]) + 1}-04-01")
    never = frame[frame["Never event type"] != ""]
    assert 1 <= len(never) <= 10
    assert set(never["Never event type"]) <= {
        "Wrong site surgery", "Retained foreign object post-procedure", "Wrong implant/prosthesis",
    }  # fmt: skip
    truth_never = _effects(region)["never_events"][year]
    assert never.groupby("Organisation code").size().to_dict() == {
        code: len(kinds) for code, kinds in truth_never.items()
    }
    per_provider = frame.groupby("Organisation code")
    counts = per_provider.size()
    severe = per_provider["Degree of harm"].apply(lambda h: h.isin(["Severe", "Death"]).sum())
    bed_days = _bed_days(region)[year].reindex(counts.index)
    assert counts.sum() / bed_days.sum() * 1000 == pytest.approx(45, rel=0.05)
    nulls = _nulls(region)
    assert (_z_poisson(counts, bed_days * 0.045)[nulls].abs() <= NULL_Z + 1e-9).all()
    share = severe / counts
    high = _roles(region)["high_severe_harm"]
    assert share[high] == pytest.approx(0.03, abs=0.006)
    assert share.drop(high).median() == pytest.approx(0.005, abs=0.0015)
    z = _z_binomial(severe, counts, 0.005)
    assert z[high] > Z998
    assert (z[nulls].abs() <= NULL_Z + 1e-9).all()


def _fft_workbook(path: Path) -> pd.DataFrame:
    """The data rows of an FFT workbook, as text, like a CSV read."""
    book = openpyxl.load_workbook(path.with_suffix(".xlsx"), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Yearnumber")
    data = [r for r in rows[header + 1 :] if r and re.fullmatch(r"\d{4}_\d{2}", str(r[0]))]
    text = [["" if v is None else str(v) for v in r] for r in data]
    return pd.DataFrame(text, columns=list(rows[header]))


def _fft_year(region: dict, setting: str, year: str) -> pd.DataFrame:
    def build() -> pd.DataFrame:
        frames = []
        for y, m in _fy_months(year):
            path = region["landing"] / "fft" / f"fft-{setting}-{y}-{m:02d}.csv"
            frames.append(_read(path) if path.exists() else _fft_workbook(path))
        return pd.concat(frames)

    return _cached(region, f"fft-year/{setting}/{year}", build)


@pytest.mark.parametrize("year", YEARS)
def test_poor_experience_provider_is_low_on_fft_and_the_inpatient_survey(region, year):
    frame = _fft_year(region, "inpatient", year)
    numbers = frame[["1 Very Good SUM", "2 Good SUM", "Total Responses"]].astype(int)
    by = numbers.groupby(frame["Org code"]).sum()
    positive = by["1 Very Good SUM"] + by["2 Good SUM"]
    share = positive / by["Total Responses"]
    poor = _roles(region)["poor_experience"]
    assert share[poor] == pytest.approx(0.80, abs=0.02)
    assert share.drop(poor).median() == pytest.approx(0.94, abs=0.01)
    z = _z_binomial(positive, by["Total Responses"], 0.94)
    assert z[poor] < -Z998
    assert (z[_nulls(region)].abs() <= NULL_Z + 1e-9).all()

    survey = _read(region["landing"] / "inpatient_survey" / f"inpatient-survey-{year[:4]}.csv")
    assert set(survey["Survey year"]) == {year[:4]}
    questions = survey.set_index("Organisation code")[["Q1", "Q2", "Q3", "Q4", "Q5"]]
    assert questions.stack().str.fullmatch(r"\d{1,3}\.\d").all()
    responsiveness = questions.astype(float).mean(axis=1)
    rates = _effects(region)["rates"]["inpatient_survey"]
    england = np.mean([q["england"] for q in rates["questions"].values()])
    z_survey = (responsiveness - england) / rates["responsiveness_sd"]
    assert z_survey[poor] < -Z998
    assert (z_survey[_nulls(region)].abs() <= NULL_Z + 0.05).all()  # scores rounded to 0.1


def _hip(region: dict, year: str) -> pd.DataFrame:
    return _frame(region, "hip_fracture", f"hip-fracture-{year}.csv")


def _elapsed_hours(arrival: pd.Series, later: pd.Series) -> pd.Series:
    """Real elapsed hours between local Europe/London wall-clock times."""

    def utc(series: pd.Series) -> pd.Series:
        local = pd.to_datetime(series, format="%Y-%m-%d %H:%M")
        return local.dt.tz_localize("Europe/London", ambiguous="raise", nonexistent="raise")

    return (utc(later) - utc(arrival)).dt.total_seconds() / 3600


@pytest.mark.parametrize("year", YEARS)
def test_hip_fracture_long_waits_provider_and_most_spells_compliant(region, year):
    frame = _hip(region, year)
    assert frame["Spell ID"].is_unique
    flags = frame.columns[5:]
    assert set(frame[flags].stack()) == {"Y", "N"}
    wait = _elapsed_hours(frame["Arrival"], frame["Surgery"])
    assessed = _elapsed_hours(frame["Arrival"], frame["Orthogeriatric assessment"])
    within = wait <= 36
    compliant = within & (assessed <= 72) & (frame[flags] == "Y").all(axis=1)
    assert compliant.mean() > 0.6
    by = pd.DataFrame(
        {"within": within, "compliant": compliant, "code": frame["Organisation code"]}
    )
    per = by.groupby("code").agg(spells=("within", "size"), within=("within", "sum"),
                                 compliant=("compliant", "sum"))  # fmt: skip
    truth = _effects(region)["bpt"]["hip_fracture"]
    assert per.astype(int).to_dict("index") == {
        code: {"spells": v["spells"], "within": v["surgery_within_36h"],
               "compliant": v["bpt_compliant"]}
        for code, v in truth["providers"][year].items()
    }  # fmt: skip
    long_waits = truth["long_waits"]
    assert long_waits == _roles(region)["hip_fracture_long_waits"]
    share = per["within"] / per["spells"]
    assert share[long_waits] < 0.65 and share.drop(long_waits).min() > 0.8
    z = _z_binomial(per["within"], per["spells"], 0.88)
    assert z[long_waits] < -Z998
    assert (z[_nulls(region)].abs() <= NULL_Z + 1e-9).all()


def test_clock_change_spells_are_recorded_and_only_real_elapsed_time_classifies_them(region):
    spells = _effects(region)["bpt"]["hip_fracture"]["clock_change_spells"]
    assert len(spells) == 4 * len(YEARS)
    for spell in spells:
        frame = _hip(region, spell["financial_year"]).set_index("Spell ID")
        row = frame.loc[spell["spell_id"]]
        assert (row["Organisation code"], row["Arrival"], row["Surgery"]) == (
            spell["provider"], spell["arrival"], spell["surgery"],
        )  # fmt: skip
        arrival = dt.datetime.fromisoformat(spell["arrival"]).replace(tzinfo=LONDON)
        surgery = dt.datetime.fromisoformat(spell["surgery"]).replace(tzinfo=LONDON)
        wall = (surgery.replace(tzinfo=None) - arrival.replace(tzinfo=None)).total_seconds()
        real = (surgery.astimezone(dt.UTC) - arrival.astimezone(dt.UTC)).total_seconds()
        assert wall / 3600 == spell["wall_clock_hours"] and real / 3600 == spell["elapsed_hours"]
        assert abs(real - wall) == 3600 and abs(real / 3600 - 36) <= 1
        assert spell["surgery_within_36h"] == (real <= 36 * 3600)
        assert spell["within_36h_by_wall_clock"] == (wall <= 36 * 3600)
        assert spell["surgery_within_36h"] != spell["within_36h_by_wall_clock"]
    months = {s["arrival"][5:7] for s in spells}
    assert months == {"10", "03"}


def test_njr_best_practice_tariff_roles(region):
    bpt = _effects(region)["bpt"]["njr"]
    for year in YEARS:
        frame = _read(region["landing"] / "njr" / f"njr-{year}.csv").set_index("Organisation code")
        values = frame[["Compliance", "Consent not recorded", "Cemented or hybrid over 70"]]
        assert values.stack().str.fullmatch(r"[01]\.\d{3}").all()
        values = values.astype(float)
        passes = pd.DataFrame(
            {
                "Compliance": values["Compliance"] >= 0.85,
                "Consent not recorded": values["Consent not recorded"] < 0.15,
                "Cemented or hybrid over 70": values["Cemented or hybrid over 70"] >= 0.80,
            }
        )
        failing = {code: list(row.index[~row]) for code, row in passes.iterrows() if not row.all()}
        assert failing == {
            bpt["fail_one"]["provider"]: bpt["fail_one"]["fails"],
            bpt["fail_several"]["provider"]: bpt["fail_several"]["fails"],
        }
        assert len(bpt["fail_one"]["fails"]) == 1 and len(bpt["fail_several"]["fails"]) >= 2
        assert sorted(bpt["passes_all"][year]) == sorted(set(frame.index) - set(failing))


# --------------------------------------------------------------------------- null providers


@pytest.mark.parametrize("year", YEARS)
def test_null_providers_stay_well_inside_the_limits_on_the_other_indicators(region, year):
    nulls = _nulls(region)
    vte = _read(region["landing"] / "vte" / f"vte-{year}.csv")
    vte = vte[vte["Organisation code"] != region["truth"]["mistyped_code"]["typed"]]
    assert set(vte["Quarter"]) == {f"{year} Q{q}" for q in range(1, 5)}
    numbers = vte[["Admitted", "Risk assessed"]].astype(int)
    assert (numbers["Risk assessed"] <= numbers["Admitted"]).all()
    by = numbers.groupby(vte["Organisation code"]).sum()
    z = _z_binomial(by["Risk assessed"], by["Admitted"], 0.95)
    assert (z.abs() <= NULL_Z + 1e-9).all()

    readmissions = _read(region["landing"] / "readmissions" / f"readmissions-{year}.csv")
    assert set(readmissions["Reporting period"]) == {year.replace("-", "/")}
    for age, rate in (("<16", 0.105), ("16+", 0.143)):
        group = readmissions[readmissions["Age group"] == age].set_index("Level")
        england = group.loc["England"]
        assert (
            float(england["Lower CI"])
            < float(england["Indicator value"])
            < float(england["Upper CI"])
        )
        group = group.drop(index="England")
        n = group["Denominator"].astype(int)
        x = group["Numerator"].astype(int)
        assert (_z_binomial(x, n, rate)[nulls].abs() <= NULL_Z + 1e-9).all()
        value = group["Indicator value"].astype(float)
        assert ((group["Lower CI"].astype(float) <= value)
                & (value <= group["Upper CI"].astype(float))).all()  # fmt: skip

    staff = _read(region["landing"] / "staff_survey" / f"staff-survey-{year[:4]}.csv")
    recommend = staff.set_index("Organisation code")["Recommend care"].astype(float)
    assert ((recommend - 63.0) / 5.0).abs().max() <= NULL_Z + 0.02

    for setting in SETTINGS:
        frame = _fft_year(region, setting, year)
        numbers = frame[["1 Very Good SUM", "2 Good SUM", "Total Responses"]].astype(int)
        by = numbers.groupby(frame["Org code"]).sum()
        p = _effects(region)["rates"]["fft_positive_share"][setting]
        z = _z_binomial(by["1 Very Good SUM"] + by["2 Good SUM"], by["Total Responses"], p)
        assert (z.reindex(nulls).dropna().abs() <= NULL_Z + 1e-9).all(), setting


def test_effect_providers_are_distinct_null_role_providers_and_the_truth_says_so(region):
    truth = region["truth"]
    effects = truth["effects"]
    roles = effects["roles"]
    by_code = {p["code"]: p for p in truth["providers"]}
    assert roles["high_shmi"] == truth["shmi"]["planted_high"]
    assert len(set(roles.values())) == len(roles) == 7
    for code in roles.values():
        assert by_code[code]["role"] == "null"
    assert not set(roles.values()) & set(effects["null_providers"])
    assert set(effects["null_providers"]) | set(roles.values()) == set(by_code)
    planted = {(e["role"], e["indicator"]): e for e in effects["planted"]}
    assert planted[("high_cdi", "cdi_trust_apportioned_per_100000_bed_days")]["direction"] == (
        "higher"
    )
    assert planted[("poor_experience", "fft_inpatient_positive_share")]["direction"] == "lower"
    assert (
        planted[("high_severe_harm", "incidents_severe_or_death_share")]["provider"]
        == (roles["high_severe_harm"])
    )
    assert effects["null_bounds"]["z"] == NULL_Z
    assert effects["rates"]["incidents_per_1000_bed_days"] == 45.0
    for name, indicator in effects["indicators"].items():
        assert set(indicator["providers"]) == set(YEARS), name
    assert not list(region["landing"].rglob("*.json"))


def test_a_region_too_small_for_enough_null_providers_borrows_proms_only_roles(tmp_path):
    write_synthetic_region(
        tmp_path / "landing", tmp_path / "truth.json", providers=12, years=["2024-25"],
        records_per_provider=60, feeds=["njr"],
    )  # fmt: skip
    truth = json.loads((tmp_path / "truth.json").read_text())
    roles = truth["effects"]["roles"]
    by_code = {p["code"]: p for p in truth["providers"]}
    assert len(set(roles.values())) == len(roles)
    assert all(by_code[c]["role"] != "mistyped_code" for c in roles.values())
    assert {p.name for p in (tmp_path / "landing").iterdir()} == {
        "proms", "organisations", "shmi", "njr",
    }  # fmt: skip


# --------------------------------------------------------------------------- big files


def test_big_incident_file_is_written_in_chunks_with_bounded_memory(tmp_path):
    path = tmp_path / "incidents-big.csv"
    rows = 200_000
    providers = organisations.make_providers(12, 3)
    tracemalloc.start()
    try:
        written = write_incidents_file(path, rows, providers, "2024-25", 3, chunk_rows=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == rows
    size = path.stat().st_size
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte file"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert ",".join(next(reader)) == HEADERS["incidents"]
        ids, codes, lines = set(), set(), 0
        for record in reader:
            ids.add(record[0])
            codes.add(record[1])
            lines += 1
    assert lines == rows and len(ids) == rows
    assert codes == {p.code for p in providers}


def test_big_incident_file_is_deterministic_and_takes_a_provider_count(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_incidents_file(first, 5_000, 20, "2023-24", 9)
    write_incidents_file(second, 5_000, 20, "2023-24", 9)
    assert first.read_bytes() == second.read_bytes()
    frame = pd.read_csv(io.BytesIO(first.read_bytes()), dtype=str, keep_default_na=False)
    assert len(frame) == 5_000 and frame["Organisation code"].nunique() == 20
    assert math.isclose(
        frame["Degree of harm"].isin(["Severe", "Death"]).mean(), 0.005, abs_tol=0.004
    )
