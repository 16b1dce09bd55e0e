"""Counts written with thousands separators are read as numbers in every feed, and a decimal
comma is not mistaken for one.

Publishers and the spreadsheets people pass files through write `"1,234"` (quoted in a CSV),
`1 234`, or a non-breaking or narrow no-break space between the groups. Each file here is
one feed's layout with such figures; validation must load them as the numbers they are.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dagster_project.figures import ungroup
from dagster_project.home import Home
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234", "1234"),
        ("1 234", "1234"),
        (f"1{NBSP}234", "1234"),
        (f"1{NNBSP}234", "1234"),
        ("12,345,678", "12345678"),
        (" 3 231 ", "3231"),
        ("1,234.5", "1234.5"),
        # Not thousands separators: left as written for the suites to refuse.
        ("95,1", "95,1"),
        ("1,23", "1,23"),
        ("1,2345", "1,2345"),
        ("1,234 567", "1,234 567"),
        (",234", ",234"),
        ("*", "*"),
    ],
)
def test_only_groups_of_exactly_three_digits_lose_their_separators(text, expected):
    assert ungroup(text) == expected


FFT = (
    "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
    "3 Neither good nor poor SUM,4 Poor SUM,5 Very poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible\n"
    f'2024_25,AUGUST,RA2,A TRUST,QE1,"1,060",30,5,3,1,1,"1,100",4{NBSP}000\n'
    # A decimal comma in a quoted count is no thousands separator: set aside, not read.
    '2024_25,AUGUST,RB1,B TRUST,QE1,"95,1",30,5,3,1,1,135,400\n'
)
VTE = f"Organisation code,Quarter,Admitted,Risk assessed\nRA2,2024-25 Q1,1{NNBSP}000,950\n"
SHMI = (
    "PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,SPELLS,OBSERVED,EXPECTED\n"
    'RCF,AIREDALE NHS FOUNDATION TRUST,1.0310,2.0,"40,210","1,210",1173.6\n'
)
HCAI = (
    "Collection;Organisation type;Organisation code;Organisation name;PHE Centre;Year;Month;"
    "Metric;Figure\n"
    "E. coli;National;ENG;England;National;2019;4;Total cases;3 231\n"
)


def _partlink() -> str:
    """The 2019-20 PartLink header (NHS Digital, PROMs provisional data pack 2019-20),
    with one invented row written with separators."""
    procedures = ("All Procedures", "Hip Replacement")
    measures = ("Total HES Procedures", "Total Pre-Op Qs", "Participation Rate")
    header = ["Organisation Code", "Organisation Name"]
    header += [f"{p} - {m}" for p in procedures for m in measures]
    row = ["RCF", "A TRUST", '"1,334"', '"1,285"', "0.96", "334", "285", "0.85"]
    return ",".join(header) + "\n" + ",".join(row) + "\n"


def _kh03() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "NHS Trust by Sector"
    for row in (
        [None, "Period:", "April to June 2020"],
        [None],
        [None, None, None, None, "Available", None, "Occupied", None, "% Occupied"],
        [None, "Org Name", "Org Code", "Region Code", *["Total ", "General & Acute"] * 3],
        [None, "A TRUST", "RAA", "Y56", f"1{NBSP}234", "1,000.5", 900, 800.25, 0.73, 0.8],
    ):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _load(tmp_path: Path, feed: str, name: str, data: bytes, table: str) -> pd.DataFrame:
    home = Home(tmp_path)
    (home.landing / feed).mkdir(parents=True)
    (home.landing / feed / name).write_bytes(data)
    (entry,) = ingest_feed(home, feed).files
    validate_feed(home, feed)
    return pd.read_parquet(run.raw_file(home, table, entry.key))


def test_one_table_feeds_read_grouped_counts_and_set_aside_a_decimal_comma(tmp_path: Path):
    raw = _load(tmp_path, "fft", "fft-inpatient-2024-08.csv", FFT.encode(), "fft_responses")
    raw = raw.set_index("organisation_code")
    assert raw.loc["RA2", ["very_good", "total_responses", "total_eligible"]].tolist() == [
        1060,
        1100,
        4000,
    ]
    assert pd.isna(raw.loc["RB1", "very_good"]), "95,1 is a decimal comma, not 951"


def test_vte_reads_grouped_counts(tmp_path: Path):
    raw = _load(tmp_path, "vte", "vte-2024-25.csv", VTE.encode(), "vte_assessments")
    assert raw[["admitted", "risk_assessed"]].iloc[0].tolist() == [1000, 950]


def test_shmi_reads_grouped_counts(tmp_path: Path):
    name = "SHMI data at trust level, Apr23-Mar24 (csv).csv"
    raw = _load(tmp_path, "shmi", name, SHMI.encode(), "shmi")
    assert raw[["spells", "observed"]].iloc[0].tolist() == [40210, 1210]


def test_hcai_reads_grouped_counts(tmp_path: Path):
    raw = _load(tmp_path, "hcai", "Ecoli_2019-20.csv", HCAI.encode(), "hcai_counts")
    assert raw["figure"].tolist() == [3231]


def test_proms_partlink_reads_grouped_counts(tmp_path: Path):
    name = "PartLink Hip and Knee Replacements 1920.csv"
    raw = _load(tmp_path, "proms", name, _partlink().encode(), "proms_participation")
    every = raw.set_index("procedure").loc["All Procedures"]
    assert (every["hes_procedures"], every["pre_op_questionnaires"]) == (1334, 1285)


def test_kh03_reads_grouped_figures_typed_as_text(tmp_path: Path):
    raw = _load(tmp_path, "kh03", "Beds-Q1-2020-21.xlsx", _kh03(), "kh03_beds")
    trust = raw.iloc[0]
    assert (trust["available_total"], trust["available_general_acute"]) == (1234.0, 1000.5)
