"""Planted bad rows in the SHMI and UKHSA feeds end in quarantine with their rule and line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dagster_project.home import Home, resolve_home
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.run import validate_feed


def _run(
    tmp_path: Path, feed: str, name: str, text: str
) -> tuple[Home, pd.DataFrame, pd.DataFrame]:
    home = resolve_home(tmp_path).ensure()
    (home.landing / feed).mkdir(parents=True)
    (home.landing / feed / name).write_text(text)
    ingest_feed(home, feed)
    report = validate_feed(home, feed)
    (table,) = {f.table for f in report.files}
    raw = pd.concat(pd.read_parquet(p) for p in (home.raw / table).glob("*.parquet"))
    held = pd.concat(pd.read_parquet(p) for p in (home.quarantine / table).glob("*.parquet"))
    return home, raw, held


def test_shmi_rows_that_cannot_be_banded_are_quarantined(tmp_path):
    text = (
        "\n".join(
            [
                "INDICATOR_CODE,PROVIDER,PROVIDER_NAME,DENOMINATOR,OBSERVED,EXPECTED,VALUE",
                "I00699,RA2,GOOD TRUST,43924,1346,1478.9925,0.9101",
                "I00699,ra2x,BAD CODE,43924,1346,1478.9925,0.9101",
                "I00699,RB1,NO DEATHS,1000,0,12.5,0",
                "I00699,RC1,NO EXPECTED,1000,10,0,",
                "I00699,RD1,BAD VALUE,1000,10,12.5,high",
            ]
        )
        + "\n"
    )
    _, raw, held = _run(tmp_path, "shmi", "shmi-2012-july.csv", text)
    assert set(raw.provider_code) == {"RA2", "RD1"}
    assert raw.set_index("provider_code").loc["RD1", "published_shmi"] is pd.NA
    found = set(zip(held.row_number, held.rule, strict=True))
    assert found == {
        (3, "provider_code_shape"),
        (4, "observed_at_least_one"),
        (5, "expected_positive"),
        (6, "published_shmi_number"),
    }
    assert (held.source_file == "shmi-2012-july.csv").all()
    assert len(raw) + held[held.grain == "record"].row_number.nunique() == 5


def test_historical_shmi_rows_are_judged_per_period(tmp_path):
    """The 2019+ historical trust-level file (header as NHS Digital's zip member
    `Historical_trust_level_SHMI_data_<period>_csv.csv` carries it): a trust once per period is
    fine, twice in one period is not, and a period that cannot be read is held with its rule."""
    text = (
        "TIME_PERIOD,PUBLICATION_MONTH,PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,"
        "SPELLS,OBSERVED,EXPECTED\n"
        'APR22_MAR23,JUL_23,RCF,"AIREDALE, NHS FT",1.0000,2.0,40000,1000,1000\n'
        'APR21_MAR22,JUL_22,RCF,"AIREDALE, NHS FT",0.9000,2.0,40000,900,1000\n'
        'APR21_MAR22,JUL_22,RCF,"AIREDALE, NHS FT",0.9000,2.0,40000,900,1000\n'
        "LATEST,JUL_23,RXX,SOME TRUST,1.1000,2.0,30000,1100,1000\n"
        "APR22_MAR23,JUL_23,RZZ,SUPPRESSED TRUST,**,**,30000,*,*\n"
    )
    name = "Historical_trust_level_SHMI_data_Apr22-Mar23_csv.csv"
    _, raw, held = _run(tmp_path, "shmi", name, text)
    assert list(zip(raw.provider_code, raw.period_end, raw.publication, strict=True)) == [
        ("RCF", "2023-03-01", "2023-07-01")
    ]
    found = set(zip(held.row_number, held.rule, strict=True))
    assert {(3, "provider_once_per_publication"), (4, "provider_once_per_publication"),
            (5, "period_known")} <= found  # fmt: skip
    assert any(row == 6 for row, _ in found)  # counts written ** or * are not numbers
    assert raw.published_banding.tolist() == [2]  # written 2.0 since 2019
    assert len(raw) + held[held.grain == "record"].row_number.nunique() == 5


def test_hcai_counts_that_are_not_whole_numbers_are_quarantined(tmp_path):
    text = (
        "\n".join(
            [
                "Collection;Organisation type;Organisation code;Organisation name;Year;Month;"
                "Metric;Figure",
                "E. coli;NHS acute trust;RA2;Good Trust;2019;4;Total cases;12",
                "E. coli;NHS acute trust;RA2;Good Trust;2019;5;Total cases;twelve",
                "E. coli;NHS acute trust;;No Code;2019;4;Total cases;3",
                "E. coli;National;;England;2019;4;Total cases;15",
            ]
        )
        + "\n"
    )
    _, raw, held = _run(tmp_path, "hcai", "Ecoli_2019-20.csv", text)
    assert len(raw) == 2
    found = set(zip(held.row_number, held.rule, strict=True))
    assert (3, "figure_count") in found
    assert any(row == 4 and rule.startswith("organisation_code") for row, rule in found)
    assert held.record.str.contains("twelve").any(), "the original values are kept"
