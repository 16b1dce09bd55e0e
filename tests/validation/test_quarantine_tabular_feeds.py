"""Planted bad rows in the one-table feeds end in quarantine with their file, line, rule and
reason; nothing is lost, and a measure that breaks a rule is set aside for its row alone.

Each feed gets one file with a title above the header, blank lines within the data and notes
after it, run through the real ingest and the real Great Expectations suite on a temporary
home. Every planted row says which rules it breaks; the test holds the pipeline to exactly
those, and checks what a person reading raw/ and quarantine/ would check.
"""

from __future__ import annotations

import csv as csvlib
import io
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.ingest import layouts
from dagster_project.ingest.run import ingest_feed
from dagster_project.ingest.tabular import Layout, _key
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed
from dagster_project.validation.suites import load_suite


@dataclass(frozen=True)
class Row:
    """One data row as written, the rules it breaks, and the groups it should have set aside
    (in the order `set_aside` names them)."""

    cells: tuple[str, ...]
    breaks: frozenset[str]
    set_aside: tuple[str, ...]
    code: str | None  # the code raw/ should hold, where it is not the one written


def row(line: str, *breaks: str, set_aside: tuple[str, ...] = (), code: str | None = None) -> Row:
    """A row from its CSV text (quote a cell holding a comma) and the rules it breaks."""
    (cells,) = csvlib.reader([line])
    return Row(tuple(cells), frozenset(breaks), set_aside, code)


@dataclass(frozen=True)
class Planted:
    name: str
    header: str
    rows: tuple[Row, ...]
    title: str = "Quality Accounts extract"


FFT = "2024_25,{period},{code},Trust {code},QE1,{counts}"
FFT_OK = "60,30,5,3,1,1,100,400"
HIP = "{id},RA2,{arrival},{surgery},{assessed},{flags}"
SPELL = {
    "arrival": "2024-08-01 10:00",
    "surgery": "2024-08-02 09:30",
    "assessed": "2024-08-01 15:00",
    "flags": "Y,Y,Y,Y,Y,N",
}


def fft(code: str, counts: str = FFT_OK, period: str = "AUGUST") -> str:
    return FFT.format(code=code, counts=counts, period=period)


def spell(spell_id: str, **changed: str) -> str:
    return HIP.format(id=spell_id, **{**SPELL, **changed})


PLANTED: dict[str, Planted] = {
    "fft": Planted(
        # Neither the name nor the title gives a month, so a period that cannot be read
        # leaves its row unplaced.
        "FFT_Inpatient_data.csv",
        "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
        "3 Neither good nor poor SUM,4 Poor SUM,5 Very poor SUM,6 Don't Know SUM,"
        "Total Responses,Total Eligible",
        (
            row(fft("RA2")),
            row("2024_25,AUGUST,,ENGLAND,,600,300,50,30,10,10,1000,4000", code="ENG"),
            row(f"2024_25,AUGUST,,A trust,QE1,{FFT_OK}", "organisation_code_present"),
            row(fft("rb1"), "organisation_code_shape"),
            row(fft("RC1", period="AUGUTS"), "month_known"),
            row(fft("RD1", "6o,30,5,3,1,1,100,400"), "very_good_count", set_aside=("responses",)),
            row(
                fft("RE1", "60,30,5,3,1,1,99,400"),
                "answers_sum_to_total",
                set_aside=("responses",),
            ),
            row(
                fft("RF1", "60,30,5,3,1,1,100,90"),
                "responses_within_eligible",
                set_aside=("eligible",),
            ),
            row(
                fft("RG1", "60,30,5,3,1,1,100,n/a"),
                "total_eligible_count",
                set_aside=("eligible",),
            ),
            row(
                fft("RH1", "60,30,5,3,1,x,100,?"),
                "dont_know_count",
                "total_eligible_count",
                set_aside=("eligible", "responses"),
            ),
            row(fft("RJ1", "7,3,0,0,0,0,10,")),
        ),
        title="Friends and Family Test: Inpatient",
    ),
    "inpatient_survey": Planted(
        "inpatient-survey-2023.csv",
        "Organisation code,Survey year,Q1,Q2,Q3,Q4,Q5",
        (
            row("RA2,2023,71.2,80,65.5,90.1,77"),
            row(",2023,71.2,80,65.5,90.1,77", "organisation_code_present"),
            row("RA2-X,2023,71.2,80,65.5,90.1,77", "organisation_code_shape"),
            row("RB1,2023/24,71.2,80,65.5,90.1,77", "survey_year_shape"),
            row("RC1,,71.2,80,65.5,90.1,77", "survey_year_present"),
            row("RD1,2023,71.2,80,101,90.1,77", "q3_score", set_aside=("scores",)),
            row("RE1,2023,71.2,80,65.5,90.1,", "q5_present", set_aside=("scores",)),
            row("RF1,2023,n/a,80,65.5,90.1,77", "q1_score", set_aside=("scores",)),
            row("RG1,2023,68,79.9,70,88,75.25"),
        ),
    ),
    "staff_survey": Planted(
        "staff-survey-2023.csv",
        "Organisation code,Survey year,Recommend care",
        (
            row("RA2,2023,71.5"),
            row("RB1,2023,85%", "recommend_care_percentage"),
            row("RC1,2023,", "recommend_care_present"),
            row("RD1,2023,100.5", "recommend_care_percentage"),
            row("R1,2023,70", "organisation_code_shape"),
            row("RE1,23,70", "survey_year_shape"),
            row("RF1,2023,64"),
        ),
    ),
    "incidents": Planted(
        "incidents-2024-25.csv",
        "Incident ID,Organisation code,Incident date,Reported date,Category,Degree of harm,"
        "Never event type",
        (
            row("INC1,RA2,2024-08-01,2024-08-02,Medication,Low,"),
            row("INC2,RA2,2024-08-01,2024-08-02,Medication,Catastrophic,", "degree_of_harm_known"),
            row("INC3,RA2,2024-08-01,2024-08-02,Medication,,", "degree_of_harm_present"),
            row("INC4,RA2,01/08/2024,2024-08-02,Medication,Low,", "incident_date_shape"),
            row("INC5,RA2,2024-02-30,2024-03-02,Medication,Low,", "incident_date_real"),
            row("INC6,RA2,2024-08-05,2024-08-01,Medication,Low,", "reported_after_incident"),
            row(
                "INC7,RA2,2024-08-01,2024-08-02,,Moderate,",
                "category_present",
                set_aside=("category",),
            ),
            row(",RA2,2024-08-01,2024-08-02,Medication,Low,", "incident_id_present"),
            row("INC9,RA2,2024-08-01,2024-13-01,Medication,Low,", "reported_date_real"),
            row("INC10,RA2,,2024-08-02,Medication,Low,", "incident_date_present"),
            row('INC11,RB1,2024-08-03,2024-08-03,"Treatment, procedure",Severe,Wrong site surgery'),
        ),
    ),
    "vte": Planted(
        "vte-2024-25.csv",
        "Organisation code,Quarter,Admitted,Risk assessed",
        (
            row("RA2,2024-25 Q1,1000,950"),
            row("RB1,2024 Q1,1000,950", "quarter_shape"),
            row("RC1,,1000,950", "quarter_present"),
            row('RD1,2024-25 Q1,"1000,5",950', "admitted_count"),  # a decimal comma
            row("RE1,2024-25 Q1,800,900", "assessed_within_admitted"),
            row("RF1,2024-25 Q1,800,", "risk_assessed_present"),
            row(",2024-25 Q1,800,700", "organisation_code_present"),
            row("England,2024-25 Q1,90000,85000", code="ENG"),
            row("RG1,2024-25 Q1,800,790"),
        ),
    ),
    "readmissions": Planted(
        # NHS Digital's compendium layout (indicator I02040), as in docs/feeds.md.
        "readmissions-2024-25.csv",
        "Reporting period,Breakdown,Level,Level description,Age group,Indicator value,"
        "Lower CI,Upper CI,Numerator,Denominator",
        (
            row("2024-25,Provider,RA2,A TRUST,0-15,10.29,9.08,11.62,261,2536"),
            row("2024-25,Provider,RA2,A TRUST,16+,11.42,10.90,11.96,1730,15148"),
            row("2024-25,Provider,RB1,B TRUST,18+,11.4,10.9,11.9,1730,15148", "age_group_known"),
            row(
                "2024-5,Provider,RC1,C TRUST,16+,11.4,10.9,11.9,1730,15148", "financial_year_shape"
            ),
            row(
                "2024-25,Provider,RD1,D TRUST,16+,x,10.9,11.9,1730,15148", "indicator_value_number"
            ),
            row(
                "2024-25,Provider,RE1,E TRUST,16+,11.4,10.9,11.9,130,100",
                "readmissions_within_discharges",
            ),
            row("2024-25,Provider,RF1,F TRUST,,11.4,10.9,11.9,1730,15148", "age_group_present"),
            row(
                "2024-25,Provider,RG1,G TRUST,16+,11.4,10.9,11.9,1730,15148.5", "denominator_count"
            ),
            row(
                "2024-25,Provider,RH1,H TRUST,16+,11.4,12.0,12.9,1730,15148",
                "lower_ci_within_value",
            ),
            row("2024-25,Provider,RJ1,J TRUST,16+,11.4,10.9,,1730,15148", "upper_ci_present"),
        ),
    ),  # fmt: skip
    "njr": Planted(
        "njr-2024-25.csv",
        "Organisation code,Financial year,Compliance,Consent not recorded,"
        "Cemented or hybrid over 70",
        (
            row("RA2,2024-25,0.97,0.01,0.92"),
            row("RB1,2024-25,1.2,0.01,0.92", "compliance_fraction"),
            row("RC1,2024-25,0.97,5%,0.92", "consent_fraction"),
            row("RD1,2024-25,0.97,0.01,1.5", "cemented_fraction", set_aside=("cemented",)),
            row("RE1,,0.97,0.01,0.92", "financial_year_present"),
            row("RF1,2024-25,,0.01,0.92", "compliance_present"),
            row("RG1,2024-25,0.97,0.01,n/a", "cemented_fraction", set_aside=("cemented",)),
            row("RH1,2024-5,0.97,0.01,0.92", "financial_year_shape"),
            row("RJ1,2024-25,1,0,"),
        ),
    ),
    "hip_fracture": Planted(
        "hip-fracture-2024-25.csv",
        "Spell ID,Organisation code,Arrival,Surgery,Orthogeriatric assessment,Joint care,"
        "Geriatrician rehabilitation,Falls assessment,Bone health assessment,AMTS pre-op,"
        "AMTS post-op",
        (
            row(spell("HF1")),
            row(spell("HF2", surgery="2024-08-01 09:00"), "surgery_after_arrival"),
            row(spell("HF3", arrival="01/08/2024 10:00"), "arrival_shape"),
            row(spell("HF4", arrival="2024-08-01 25:00"), "arrival_real"),
            row(spell("HF5", flags="Yes,Y,Y,Y,Y,N"), "joint_care_flag", set_aside=("joint_care",)),
            row(
                spell("HF6", assessed="2024-08-02"),
                "orthogeriatric_shape",
                set_aside=("orthogeriatric_assessment",),
            ),
            row(
                spell("HF7", flags="Y,Y,y,?,Y,N"),
                "falls_assessment_flag",
                "bone_health_assessment_flag",
                set_aside=("bone_health_assessment", "falls_assessment"),
            ),
            row(spell(""), "spell_id_present"),
            row(spell("HF9", surgery="2024-02-30 10:00"), "surgery_real"),
            row(
                spell("HF10", assessed="2024-08-32 10:00"),
                "orthogeriatric_real",
                set_aside=("orthogeriatric_assessment",),
            ),
            row(spell("HF11", flags="Y,N,Y,Y,,")),
        ),
    ),
}


def write_file(planted: Planted) -> tuple[str, list[int], list[int]]:
    """The file as a publisher might send it (title, blank lines inside, notes after), the
    line each row is on and the lines of the notes."""
    lines = [planted.title, ""]

    def emit(cells: tuple[str, ...]) -> None:
        buffer = io.StringIO()
        csvlib.writer(buffer, lineterminator="").writerow(cells)
        lines.append(buffer.getvalue())

    lines.append(planted.header)
    row_lines = []
    for index, planted_row in enumerate(planted.rows):
        emit(planted_row.cells)
        row_lines.append(len(lines))
        if index % 3 == 2:
            lines.append("")
    lines += ["", '"Source: NHS England, © Crown copyright 2024"', "Note: provisional"]
    return "\r\n".join(lines) + "\r\n", row_lines, [len(lines) - 1, len(lines)]


@dataclass
class Outcome:
    raw: pd.DataFrame
    held: pd.DataFrame
    lines: list[int]
    rows_in: int
    records_quarantined: int
    note: str
    notes: list[int]


def run_feed(tmp_path: Path, feed: str) -> Outcome:
    planted = PLANTED[feed]
    home = Home(tmp_path)
    folder = home.landing / feed
    folder.mkdir(parents=True)
    text, lines, notes = write_file(planted)
    (folder / planted.name).write_bytes(text.encode("cp1252"))
    (entry,) = ingest_feed(home, feed).files
    (outcome,) = validate_feed(home, feed).files
    return Outcome(
        raw=pd.read_parquet(run.raw_file(home, entry.table, entry.key)),
        held=pd.read_parquet(run.quarantine_file(home, entry.table, entry.key)),
        lines=lines,
        rows_in=outcome.rows_in,
        records_quarantined=outcome.records_quarantined,
        note=entry.note,
        notes=notes,
    )


def same(kept: object, written: str) -> bool:
    """A typed raw value is the value written (numbers compared as numbers)."""
    if isinstance(kept, numbers.Number):
        return math.isclose(float(kept), float(written))
    return str(kept) == written


@pytest.mark.parametrize("feed", sorted(PLANTED))
def test_planted_rows_are_quarantined_by_rule_and_nothing_is_lost(
    tmp_path: Path, feed: str
) -> None:
    planted = PLANTED[feed]
    (table,) = FEEDS[feed].tables
    layout = next(
        v for v in vars(layouts).values() if isinstance(v, Layout) and v.table == table.name
    )
    suite = load_suite(table.suites[layout.kind])
    rules = {rule.name: rule for rule in suite.rules()}
    assert {r for p in planted.rows for r in p.breaks} <= set(rules), "rules exist"
    outcome = run_feed(tmp_path, feed)
    raw, held, lines = outcome.raw, outcome.held, outcome.lines
    by_line = dict(zip(lines, planted.rows, strict=True))

    # Exactly the planted rule breaks, each on the line it was written on.
    expected = {
        (line, rule) for line, planted_row in by_line.items() for rule in planted_row.breaks
    }
    assert set(zip(held["row_number"], held["rule"], strict=True)) == expected
    assert len(held) == len(expected), "one entry per rule broken"

    # Every quarantine row names the file, the line, the rule and the reason, and keeps the
    # values as written.
    assert (held["source_file"] == planted.name).all()
    (header,) = csvlib.reader([planted.header])
    header_columns = [
        next((c.name for c in layout.columns if _key(h) in c.folded), None) for h in header
    ]
    for entry in held.itertuples():
        rule = rules[entry.rule]
        assert (entry.grain, entry.reason) == (rule.grain, rule.reason)
        assert entry.reason
        assert entry.action == (
            "record quarantined" if rule.grain == "record" else f"{rule.grain} set aside"
        )
        record = json.loads(entry.record)
        cells = dict(zip(header_columns, by_line[entry.row_number].cells, strict=True))
        for column, text in cells.items():
            if column is None:  # a column the layout does not read (NHS Digital's Breakdown)
                continue
            if column != layout.code_column:
                assert record[column] == (text or None), (entry.rule, column)

    # No row lost: each data row is in raw or quarantined whole, never both, never neither.
    whole = set(held.loc[held["grain"] == "record", "row_number"])
    kept = set(raw["row_number"])
    assert not whole & kept
    assert whole | kept == set(lines)
    assert len(raw) + len(whole) == len(planted.rows) == outcome.rows_in
    assert outcome.records_quarantined == len(whole)
    first, second = outcome.notes
    assert outcome.note == f"2 note line(s) without data skipped (line {first}, {second})"

    # A measure that broke a rule is blanked for its row alone; the rest of the row is kept.
    for record in raw.itertuples(index=False):
        planted_row = by_line[record.row_number]
        assert (record.set_aside if record.set_aside is not pd.NA else None) == (
            ",".join(planted_row.set_aside) or None
        )
        blanked = {c for group in planted_row.set_aside for c in suite.groups[group]}
        values = record._asdict()
        for column, text in zip(header_columns, planted_row.cells, strict=True):
            if column is None:
                continue
            if column in blanked:
                assert values[column] is pd.NA, (record.row_number, column)
            elif column == layout.code_column:
                assert values[column] == (planted_row.code or text)
            elif text:
                assert same(values[column], text), (record.row_number, column, text)
            else:
                assert values[column] is pd.NA
