"""SHMI files as NHS Digital publishes them: the publication from the name, drifting headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dagster_project.feeds.catalogue import _recognise_shmi
from dagster_project.ingest import layouts, tabular
from dagster_project.ingest.landing import LandingCsv, LandingFileError
from dagster_project.ingest.shmi import (
    is_shmi,
    parse_shmi,
    period_end_from_file_name,
    publication_from_file_name,
    publication_from_text,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shmi-2012-july.csv", "2012-07-01"),
        ("shmi-2011-october.csv", "2011-10-01"),
        ("SHMI July 2012.csv", "2012-07-01"),
        ("SHMI_2013_Jan_trust.csv", "2013-01-01"),
        ("shmi.csv", None),
    ],
)
def test_publication_comes_from_the_file_name(name, expected):
    assert publication_from_file_name(name) == expected


HEADERS = [
    "INDICATOR_CODE,PROVIDER,PROVIDER NAME,DENOMINATOR,OBSERVED,EXPECTED,VALUE,PO_LL,PO_UL,"
    "PO_BANDING,OD_LL,OD_UL,OD_BANDING",
    "INDICATOR_CODE,PROVIDER,PROVIDER NAME,DENOMINATOR,OBSERVED,EXPECTED,VALUE,PO_LL,PO_UL,"
    "OD_LL,OD_UL,OD_BANDING",
    "INDICATOR_CODE,PROVIDER,PROVIDER_NAME,DENOMINATOR,OBSERVED,EXPECTED,VALUE,PO_LL,PO_UL,"
    "OD_LL,OD_UL,OD_BANDING",
]


@pytest.mark.parametrize("header", HEADERS)
def test_every_header_variant_maps_to_the_same_columns(header):
    values = {
        "INDICATOR_CODE": "I00699", "PROVIDER": "RA2", "PROVIDER NAME": "ROYAL SURREY",
        "PROVIDER_NAME": "ROYAL SURREY", "DENOMINATOR": "43924", "OBSERVED": "1346",
        "EXPECTED": "1478.9925", "VALUE": "0.9101", "PO_LL": "0.9216", "PO_UL": "1.083",
        "PO_BANDING": "3", "OD_LL": "0.8788", "OD_UL": "1.138", "OD_BANDING": "2",
    }  # fmt: skip
    row = ",".join(values[c] for c in header.split(","))
    csv = LandingCsv(Path("shmi-2011-october.csv"), None, f"{header}\r\n{row}\r\n".encode())
    assert is_shmi(csv.header())
    frame = parse_shmi(csv)
    record = frame.iloc[0]
    assert record.publication == "2011-10-01"
    assert (record.provider_code, record.provider_name) == ("RA2", "ROYAL SURREY")
    assert (record.spells, record.observed, record.expected) == ("43924", "1346", "1478.9925")
    assert record.published_banding == "2"
    assert record.row_number == 2


def test_a_file_name_without_a_publication_is_refused_naming_it():
    csv = LandingCsv(Path("mortality.csv"), None, (HEADERS[2] + "\n").encode())
    with pytest.raises(LandingFileError, match="mortality.csv"):
        parse_shmi(csv)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SHMI data at trust level, Nov20-Oct21 (csv).csv", "2021-10-01"),
        ("SHMI data files, Apr19-Mar20/SHMI data at trust level, Apr19-Mar20 (csv).csv",
         "2020-03-01"),
        ("Historical_trust_level_SHMI_data_Jan25-Dec25_csv.csv", "2025-12-01"),
        ("APR22_MAR23", "2023-03-01"),
        ("shmi-2012-july.csv", None),
    ],
)  # fmt: skip
def test_since_2019_the_name_gives_the_twelve_months_covered(name, expected):
    """Names as NHS Digital's zips carry them (`SHMI data files, Apr19-Mar20.zip`)."""
    assert period_end_from_file_name(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("JUL_23", "2023-07-01"), ("July 2023", "2023-07-01"), ("x", None)]
)
def test_publication_month_as_the_historical_file_writes_it(text, expected):
    assert publication_from_text(text) == expected


def test_a_period_named_file_with_2019_headers_maps_to_the_same_columns():
    header = "PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,SPELLS,OBSERVED,EXPECTED"
    row = "RCF,AIREDALE NHS FOUNDATION TRUST,1.0310,2.0,40210,1210,1173.6"
    csv = LandingCsv(
        Path("SHMI data at trust level, Nov20-Oct21 (csv).csv"), None, f"{header}\n{row}\n".encode()
    )
    assert is_shmi(csv.header())
    record = parse_shmi(csv).iloc[0]
    assert pd.isna(record.publication) and record.period_end == "2021-10-01"
    assert (record.spells, record.observed, record.published_banding) == ("40210", "1210", "2")


def _recognised(name: str, text: str):
    return _recognise_shmi(LandingCsv(Path(name), None, text.encode()))


def test_the_rest_of_the_publication_zip_is_recognised_and_skipped_with_a_note():
    site = _recognised(
        "SHMI data at site level, Nov20-Oct21 (csv).csv",
        "PROVIDER_CODE,PROVIDER_NAME,SITE_CODE,SITE_NAME,SPELLS,OBSERVED,EXPECTED\n",
    )
    assert (site.kind, site.table) == ("shmi_site", None) and site.note
    covid = _recognised(
        "SHMI contextual indicators, COVID-19 coding, Nov20-Oct21 (csv).csv",
        "PROVIDER_CODE,PROVIDER_NAME,NUMERATOR,DENOMINATOR,VALUE\n",
    )
    assert covid.table is None and covid.note


def test_palliative_care_coding_rates_are_read_with_their_measure_and_period():
    """NHS Digital names two palliative care contextual indicators (of spells and of deaths);
    the column names here are the layout's first aliases, not copied from a delivered file."""
    csv = LandingCsv(
        Path("SHMI contextual indicators, palliative care coding of deaths, Nov20-Oct21.csv"),
        None,
        b"PROVIDER_CODE,PROVIDER_NAME,NUMERATOR,DENOMINATOR,VALUE\nRCF,AIREDALE,450,1210,37.19\n",
    )
    recognised = _recognise_shmi(csv)
    assert recognised.table == "shmi_contextual"
    (frame,) = list(tabular.parse_batches(csv, layouts.SHMI_PALLIATIVE))
    record = frame.iloc[0]
    assert (record.provider_code, record.measure, record.value) == ("RCF", "deaths", "37.19")
    assert pd.isna(record.publication) and record.period_end == "2021-10-01"
