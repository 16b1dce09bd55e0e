"""SHMI files as NHS Digital publishes them: the publication from the name, drifting headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagster_project.ingest.landing import LandingCsv, LandingFileError
from dagster_project.ingest.shmi import is_shmi, parse_shmi, publication_from_file_name


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
