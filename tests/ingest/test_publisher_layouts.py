"""Publishers' current layouts beside the project's own extract formats.

Each fixture is built here from a publisher's real header (the source is named beside it)
with invented values, so a change to what a publisher ships is caught by the header it
changes. Layouts that could not be established, or that are aggregates a record-level table
cannot take, are documented in docs/feeds.md rather than faked here.
"""

from __future__ import annotations

import csv as csvlib
import io
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.ingest import hcai, layouts, reference, tabular
from dagster_project.ingest.landing import LandingCsv, LandingFileError
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed

# NHS England, VTE risk assessment, quarterly CSV since the collection restarted in April
# 2024: one row per provider and month, the month given as its first day ("Note the date of
# each month of collection is given as the first of the month in the CSV file",
# https://www.england.nhs.uk/statistics/statistical-work-areas/vte/vte-risk-assessment-2024-25/q2-commentary).
# Column names as NHS England's publication code writes the published CSV.
VTE_NHSE_HEADER = (
    "org_code",
    "org_name",
    "icb_name",
    "region",
    "operated_by",
    "org_type",
    "number_of_vte_assessed_admissions",
    "total_admissions",
    "percentage_of_admitted_patients_risk_assessed_for_vte",
    "operational_standard_met",
    "date",
)
VTE_NHSE_ROWS = (
    ("RA2", "ZANLEY HOSPITALS NHS TRUST", "NHS ZANLEY ICB", "SOUTH EAST COMMISSIONING REGION",
     "", "NHS acute care provider", "1900", "2000", "0.95", "yes", "2024-07-01"),
    ("RA2", "ZANLEY HOSPITALS NHS TRUST", "NHS ZANLEY ICB", "SOUTH EAST COMMISSIONING REGION",
     "", "NHS acute care provider", "1,850", "2,000", "0.925", "no", "2024-08-01"),
    ("RA2", "ZANLEY HOSPITALS NHS TRUST", "NHS ZANLEY ICB", "SOUTH EAST COMMISSIONING REGION",
     "", "NHS acute care provider", "1980", "2000", "0.99", "yes", "2024-09-01"),
    ("NT4", "ZOBBY CLINIC", "NHS ZANLEY ICB", "SOUTH EAST COMMISSIONING REGION",
     "ZOBBY HEALTHCARE", "Independent provider", "99", "100", "0.99", "yes", "2024-09-01"),
)  # fmt: skip


def _csv_bytes(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> bytes:
    buffer = io.StringIO()
    writer = csvlib.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _landing(name: str, data: bytes) -> LandingCsv:
    return LandingCsv(Path(name), None, data)


def test_nhs_englands_vte_csv_is_recognised_and_each_month_placed_in_its_quarter() -> None:
    data = _csv_bytes(VTE_NHSE_HEADER, VTE_NHSE_ROWS)
    csv = _landing("VTE-Risk-Assessment-Q2-2024-25.csv", data)
    assert FEEDS["vte"].recognise(csv) is not None, "recognised by its header"
    frame = tabular.parse_frame(csv, layouts.VTE)
    assert frame["organisation_code"].tolist() == ["RA2", "RA2", "RA2", "NT4"]
    assert frame["month"].tolist() == ["2024-07-01", "2024-08-01", "2024-09-01", "2024-09-01"]
    assert set(frame["quarter"]) == {"2024-25 Q2"}
    assert frame["risk_assessed"].tolist() == ["1900", "1,850", "1980", "99"]
    assert frame["admitted"].tolist() == ["2000", "2,000", "2000", "100"]
    assert frame["row_number"].tolist() == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("published", "month", "quarter"),
    [
        ("2024-04-01", "2024-04-01", "2024-25 Q1"),
        ("01/12/2024", "2024-12-01", "2024-25 Q3"),
        ("2025-03-01 00:00", "2025-03-01", "2024-25 Q4"),
        ("July 2024", "July 2024", None),  # not read: kept as published, quarter left blank
    ],
)
def test_the_vte_month_gives_the_financial_quarter(
    published: str, month: str, quarter: str | None
) -> None:
    rows = ((*VTE_NHSE_ROWS[0][:-1], published),)
    frame = tabular.parse_frame(_landing("vte.csv", _csv_bytes(VTE_NHSE_HEADER, rows)), layouts.VTE)
    assert frame["month"].tolist() == [month]
    got = frame["quarter"].tolist()[0]
    assert (None if got is pd.NA else got) == quarter


def test_a_vte_month_that_cannot_be_placed_is_quarantined_and_the_rest_validate(
    tmp_path: Path,
) -> None:
    """Validated as delivered; a month with no readable date has no quarter and is
    quarantined whole, never counted in a guessed quarter."""
    rows = (*VTE_NHSE_ROWS[:1], VTE_NHSE_ROWS[2], (*VTE_NHSE_ROWS[3][:-1], "Sept"))
    home = Home(tmp_path)
    (home.landing / "vte").mkdir(parents=True)
    (home.landing / "vte" / "vte-q2-2024-25.csv").write_bytes(_csv_bytes(VTE_NHSE_HEADER, rows))
    (entry,) = ingest_feed(home, "vte").files
    validate_feed(home, "vte")
    raw = pd.read_parquet(run.raw_file(home, "vte_assessments", entry.key))
    held = pd.read_parquet(run.quarantine_file(home, "vte_assessments", entry.key))
    assert raw["month"].tolist() == ["2024-07-01", "2024-09-01"]
    assert raw["admitted"].tolist() == [2000, 2000]
    assert set(held["row_number"]) == {4}
    assert "quarter_present" in set(held["rule"])


# --------------------------------------------------------------------------- incidents


def test_nrls_degrees_of_harm_are_read_in_the_projects_words() -> None:
    """The NRLS's degrees of harm as its organisation reports spell them (No harm, Low harm,
    Moderate harm, Severe harm, Death: http://www.nrls.npsa.nhs.uk/organisationdata/); a word
    that is none of them stays as written, for the suite to quarantine."""
    header = "Incident ID,Organisation code,Incident date,Reported date,Category,Degree of harm"
    harms = ["No Harm", "Low harm", "Moderate harm", "Severe harm", "Death", "Catastrophic"]
    lines = [f"INC{n},RA2,2024-08-01,2024-08-02,Medication,{harm}" for n, harm in enumerate(harms)]
    data = "\n".join([header, *lines, ""]).encode()
    frame = tabular.parse_frame(_landing("incidents.csv", data), layouts.INCIDENTS)
    assert frame["degree_of_harm"].tolist() == [
        "No harm", "Low", "Moderate", "Severe", "Death", "Catastrophic",
    ]  # fmt: skip


# --------------------------------------------------------------------------- UKHSA metrics


@pytest.mark.parametrize(
    ("published", "code"),
    [
        ("Unknown", "unknown"),
        ("Unknown (3 months)", "unknown"),
        ("Unknown 3 months", "unknown"),
        ("No information", "unknown"),
        ("Hospital-onset, healthcare associated", "hoha"),
        ("Community-onset, indeterminate association", "coia"),
        ("Total cases", "total"),
    ],
)
def test_ukhsa_metrics_renamed_between_years_map_to_one_code_through_the_seed(
    published: str, code: str
) -> None:
    """UKHSA's data-capture exports name the prior-exposure metrics differently from year to
    year; each spelling must be a row of seed hcai_metrics, not a fallback."""
    source = hcai.metric_name(published)
    assert source in reference.hcai_metrics(), f"{published!r} is named in the seed"
    assert reference.hcai_metrics()[source] == code


# --------------------------------------------------------------------------- surveys

_STAGING = Path(__file__).parents[2] / "dbt" / "models" / "staging"


def _staged(model: str, table: str, raw: Path) -> list[tuple]:
    """The staging model's SQL run over the validated Parquet: the indicator value as dbt
    computes it, without building the warehouse."""
    import duckdb

    sql = (_STAGING / f"{model}.sql").read_text()
    sql = sql.replace(f"{{{{ source('raw', '{table}') }}}}", f"read_parquet('{raw}')")
    assert "read_parquet" in sql, "the model reads its source as the test expects"
    return duckdb.sql(sql).fetchall()


def _ods_bytes(rows: list[list[object]], sheet: str) -> bytes:
    """An OpenDocument workbook holding `rows` in `sheet`, as the CQC ships one."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="odf") as writer:
        pd.DataFrame([["Respondents"]]).to_excel(
            writer, sheet_name="Trust_Respondents", header=False, index=False
        )
        pd.DataFrame(rows).to_excel(writer, sheet_name=sheet, header=False, index=False)
    return buffer.getvalue()


# The CQC's adult inpatient survey trust-level benchmark data (`20220128_aip20_trust-benchmark
# -data.ods`, sheet `Trust_Scores`): columns `trustcode`, `trustname`, `n_tpat` and a mean
# score from 0 to 10 per question, `mean` and the question's code (`meanq46`, read as
# `meaninp` once `q46` is replaced): github.com/britishredcrosssociety/resilience-index,
# R/capacity/health-inequalities/england/quality/cqc-surveys.R. Which five questions make
# the responsiveness indicator in a year could not be established, so these question
# numbers are INVENTED, given to the parser in place of seed survey_questions.
CQC_TEST_QUESTIONS = {
    "q1": ("q32", "involved in decisions"), "q2": ("q34", "worries and fears"),
    "q3": ("q35", "privacy"), "q4": ("q51", "medication side effects"),
    "q5": ("q56", "who to contact"),
}  # fmt: skip
CQC_HEADER = ["trustcode", "trustname", "n_tpat", "q1", "meanq32", "meanq34", "meanq35",
              "meanq45", "meanq51", "meanq56"]  # fmt: skip
CQC_ROWS = [
    ["RA2", "ZANLEY HOSPITALS NHS TRUST", 512, 1, 7.2, 8.05, 6.1, 8.8, 9.3, 7.75],
    ["RXX", "ZOBBY HOSPITALS NHS TRUST", 388, 1, 7.0, 7.5, None, 8.0, 8.0, 8.0],
]  # fmt: skip


@pytest.fixture
def cqc_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    def questions(survey: str, year: int) -> dict[str, tuple[str, str]]:
        return CQC_TEST_QUESTIONS if (survey, year) == ("inpatient_survey", 2020) else {}

    monkeypatch.setattr(reference, "survey_questions", questions)


def test_the_cqc_inpatient_benchmark_workbook_is_recognised_and_scaled_to_100(
    cqc_questions: None,
) -> None:
    data = _ods_bytes([CQC_HEADER, *CQC_ROWS], "Trust_Scores")
    csv = _landing("20220128_aip20_trust-benchmark-data.ods", data)
    assert FEEDS["inpatient_survey"].recognise(csv) is not None, "recognised by its header"
    frame = pd.concat(list(FEEDS["inpatient_survey"].parse(csv, None)), ignore_index=True)
    assert frame["organisation_code"].tolist() == ["RA2", "RXX"]
    assert frame["survey_year"].tolist() == ["2020", "2020"]
    assert frame["financial_year"].tolist() == ["2020-21", "2020-21"]
    # The seed's questions, not the file's own `q1` nor the overall question `meanq45`.
    assert frame.loc[0, ["q1", "q2", "q3", "q4", "q5"]].tolist() == ["72", "80.5", "61", "93",
                                                                     "77.5"]  # fmt: skip
    assert pd.isna(frame.loc[1, "q3"]), "a score the CQC left blank stays blank"
    assert frame["row_number"].tolist() == [2, 3]


def test_responsiveness_from_the_cqc_workbook_equals_the_hand_calculation(
    tmp_path: Path, cqc_questions: None
) -> None:
    """NHS Digital: the indicator is the average score of five questions of the National
    Inpatient Survey, on 0 to 100; the CQC scores 0 to 10. RA2 by hand: (7.2 + 8.05 + 6.1 +
    9.3 + 7.75) x 10 / 5 = 76.8. RXX has a question the CQC left blank, so its scores are
    set aside and no responsiveness is reported for it."""
    home = Home(tmp_path)
    (home.landing / "inpatient_survey").mkdir(parents=True)
    path = home.landing / "inpatient_survey" / "20220128_aip20_trust-benchmark-data.ods"
    path.write_bytes(_ods_bytes([["Adult Inpatient Survey 2020"], [], CQC_HEADER, *CQC_ROWS],
                                "Trust_Scores"))  # fmt: skip
    (entry,) = ingest_feed(home, "inpatient_survey").files
    validate_feed(home, "inpatient_survey")
    raw = run.raw_file(home, "inpatient_survey", entry.key)
    staged = {row[0]: row[-2] for row in _staged("stg_nhs__inpatient_survey", "inpatient_survey",
                                                 raw)}  # fmt: skip
    assert staged["RA2"] == pytest.approx(76.8, abs=1e-9)
    assert staged["RXX"] is None


def test_a_cqc_workbook_for_a_year_the_seed_does_not_map_is_refused_naming_the_seed() -> None:
    """No year's responsiveness questions are in seed survey_questions yet (not established
    from a public source), so a real CQC file is recognised and refused with what to add."""
    data = _ods_bytes([CQC_HEADER, *CQC_ROWS], "Trust_Scores")
    csv = _landing("20220128_aip20_trust-benchmark-data.ods", data)
    assert FEEDS["inpatient_survey"].recognise(csv) is not None
    with pytest.raises(LandingFileError, match="seed survey_questions names no question"):
        list(FEEDS["inpatient_survey"].parse(csv, None))


# NHS Staff Survey, `NSS<yy> detailed spreadsheets organisational results.xlsx`: a `Notes`
# sheet, then a sheet per block of questions (`YOUR JOB Q1-3`, ...), each question named in a
# merged cell atop its answers (`Q25d - ...`), the header row below (row 5) holding
# `ODS code`, `Organisation name`, `Benchmarking group`, `Region`, `ICS`, `Weighting` and per
# answer `% Agree`, `% Strongly agree`, ..., `Base (number of responses)`; one row per
# organisation, `Weighting` `Occupation Group` or `Unweighted`: github.com/ebmgt/NHS-Gender,
# Code/11. Datafile creation from org type download file (Benchmarking_Group) - NHS-Gender.R
# and Data files/data_trusts_well-being - organisational results.csv. Values invented.
NSS_ORG = ["ODS code", "Organisation name", "Benchmarking group", "Region", "ICS", "Weighting"]
NSS_ANSWERS = ["% Strongly disagree", "% Disagree", "% Neither agree nor disagree", "% Agree",
               "% Strongly agree", "Base (number of responses)"]  # fmt: skip
NSS_QUESTION = ("Q25d - If a friend or relative needed treatment I would be happy with the "
                "standard of care provided by this organisation")  # fmt: skip


def _nss_bytes(q25d: list[tuple[object, object]], question: str = NSS_QUESTION) -> bytes:
    """The workbook, with Q25c before Q25d on the question's sheet (so the right block of
    `% Agree` is taken) and a first question sheet without the question."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "NHS Staff Survey 2023"
    first = book.create_sheet("YOUR JOB Q1-3")
    first["G1"] = "Q1 - Do you have face-to-face contact with patients / service users?"
    first.append([])
    for number, row in enumerate([[*NSS_ORG, "% Yes, frequently"], ["RA2", "Z", "A", "R", "I",
                                  "Occupation Group", 90.0]], start=5):  # fmt: skip
        for column, value in enumerate(row, start=1):
            first.cell(number, column, value)
    sheet = book.create_sheet("YOUR ORGANISATION Q25")
    sheet["G1"] = "Q25c - I would recommend my organisation as a place to work."
    sheet.merge_cells("G1:L4")
    sheet["M1"] = question
    sheet.merge_cells("M1:R4")
    for column, value in enumerate([*NSS_ORG, *NSS_ANSWERS, *NSS_ANSWERS], start=1):
        sheet.cell(5, column, value)
    orgs = [("RA2", "ZANLEY HOSPITALS NHS TRUST", "Occupation Group"),
            ("NT4", "ZOBBY CLINIC", "Unweighted"), ("RXX", "ZOBBY HOSPITALS NHS TRUST",
            "Occupation Group")]  # fmt: skip
    for number, ((code, name, weighting), (agree, strongly)) in enumerate(
        zip(orgs, q25d, strict=True), start=6
    ):
        row = [code, name, "Acute and Acute & Community Trusts", "South East", "Zanley ICS",
               weighting, 5.0, 10.0, 20.0, 40.0, 25.0, 800,  # Q25c
               3.0, 7.0, 18.0, agree, strongly, 790]  # fmt: skip
        for column, value in enumerate(row, start=1):
            sheet.cell(number, column, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


NSS_Q25D = [(48.25, 23.5), (50.0, 12.125), (None, None)]


def test_the_staff_surveys_organisational_results_are_recognised_and_agree_added() -> None:
    csv = _landing("NSS23 detailed spreadsheets organisational results.xlsx", _nss_bytes(NSS_Q25D))
    assert FEEDS["staff_survey"].recognise(csv) is not None, "recognised by its header"
    frame = pd.concat(list(FEEDS["staff_survey"].parse(csv, None)), ignore_index=True)
    assert frame["organisation_code"].tolist() == ["RA2", "NT4", "RXX"]
    assert frame["survey_year"].tolist() == ["2023"] * 3
    assert frame["recommend_care"].tolist()[:2] == ["71.75", "62.125"]
    assert pd.isna(frame["recommend_care"].tolist()[2]), "no answers: left blank, judged"
    assert frame["row_number"].tolist() == [6, 7, 8]


def test_staff_recommend_care_from_the_staff_survey_equals_the_hand_calculation(
    tmp_path: Path,
) -> None:
    """NHS Digital's Quality Accounts guidance: add the percentages who agreed and strongly
    agreed. RA2 by hand: 48.25 + 23.5 = 71.75; RXX has no answers and is quarantined."""
    home = Home(tmp_path)
    (home.landing / "staff_survey").mkdir(parents=True)
    name = "NSS23 detailed spreadsheets organisational results.xlsx"
    (home.landing / "staff_survey" / name).write_bytes(_nss_bytes(NSS_Q25D))
    (entry,) = ingest_feed(home, "staff_survey").files
    validate_feed(home, "staff_survey")
    raw = run.raw_file(home, "staff_survey", entry.key)
    staged = {row[0]: row[3] for row in _staged("stg_nhs__staff_survey", "staff_survey", raw)}
    assert staged == {"RA2": pytest.approx(71.75), "NT4": pytest.approx(62.125)}
    held = pd.read_parquet(run.quarantine_file(home, "staff_survey", entry.key))
    assert set(held["row_number"]) == {8}


@pytest.mark.parametrize(("year", "question"), [(2021, "Q21d"), (2022, "Q23d"), (2023, "Q25d")])
def test_the_staff_surveys_question_number_per_year_comes_from_the_seed(
    year: int, question: str
) -> None:
    assert reference.survey_questions("staff_survey", year)["recommend_care"][0] == question


def test_a_staff_survey_whose_question_reads_otherwise_is_refused() -> None:
    """The seed's question number is checked against the question's wording in the file, so
    a wrong number for a year is caught rather than read from another question."""
    other = "Q25d - I would recommend my organisation as a place to work."
    csv = _landing("NSS23 detailed spreadsheets organisational results.xlsx",
                   _nss_bytes(NSS_Q25D, other))  # fmt: skip
    with pytest.raises(LandingFileError, match="not the wording seed survey_questions"):
        list(FEEDS["staff_survey"].parse(csv, None))


@pytest.mark.parametrize("feed", ["inpatient_survey", "staff_survey"])
def test_the_projects_extract_as_a_workbook_is_still_read_beside_the_publishers(
    feed: str,
) -> None:
    """Looking for the publisher's header first must not refuse the extract in a workbook."""
    import openpyxl

    rows = {
        "inpatient_survey": [["Organisation code", "Survey year", "Q1", "Q2", "Q3", "Q4", "Q5"],
                             ["RA2", 2023, 71.2, 80.0, 65.5, 90.1, 77.0]],
        "staff_survey": [["Organisation code", "Survey year", "Recommend care"],
                         ["RA2", 2023, 71.5]],
    }[feed]  # fmt: skip
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    csv = _landing(f"{feed}-2023.xlsx", buffer.getvalue())
    assert FEEDS[feed].recognise(csv) is not None
    frame = pd.concat(list(FEEDS[feed].parse(csv, None)), ignore_index=True)
    assert frame["organisation_code"].tolist() == ["RA2"]
    assert frame["financial_year"].tolist() == ["2023-24"]
