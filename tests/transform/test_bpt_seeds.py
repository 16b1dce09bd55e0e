"""Best practice tariff seeds: every year the pipeline meets is covered, and every figure says
where it comes from (an illustrative one says so)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

# The real PROMs packs (2016-17, 2017-18) and the synthetic demonstration (2023-24, 2024-25).
YEARS_IN_USE = ("2016-17", "2017-18", "2023-24", "2024-25")
BPTS = ("primary_hip", "primary_knee", "hip_fracture")
FRACTIONS = ("at least", "below")


@pytest.fixture(scope="module")
def tariffs() -> pd.DataFrame:
    return pd.read_csv(SEEDS_DIR / "bpt_tariffs.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def thresholds() -> pd.DataFrame:
    return pd.read_csv(SEEDS_DIR / "bpt_thresholds.csv", dtype=str, keep_default_na=False)


def _criteria(thresholds: pd.DataFrame, year: str, bpt: str) -> set[str]:
    rows = thresholds[(thresholds.financial_year == year) & (thresholds.bpt_code == bpt)]
    return set(rows.criterion_code)


@pytest.mark.parametrize("year", YEARS_IN_USE)
@pytest.mark.parametrize("bpt", BPTS)
def test_years_in_use_have_a_tariff_and_criteria(tariffs, thresholds, year, bpt):
    assert len(tariffs[(tariffs.financial_year == year) & (tariffs.bpt_code == bpt)]) == 1
    assert _criteria(thresholds, year, bpt)


def test_every_tariff_year_has_criteria_and_the_reverse(tariffs, thresholds):
    years = set(zip(tariffs.financial_year, tariffs.bpt_code, strict=True))
    assert years == set(zip(thresholds.financial_year, thresholds.bpt_code, strict=True))


def test_every_figure_has_a_source_and_illustrative_prices_say_so(tariffs, thresholds):
    assert (tariffs.price_source != "").all() and (tariffs.rules_source != "").all()
    assert (thresholds.source != "").all()
    joints = tariffs[tariffs.bpt_code != "hip_fracture"]
    assert joints.price_source.str.startswith("illustrative").all()
    published = {("2010-11", "445"), ("2012-13", "1335"), ("2013-14", "1335")}
    for row in tariffs[tariffs.bpt_code == "hip_fracture"].itertuples():
        if (row.financial_year, row.top_up) not in published:
            assert row.price_source.startswith("illustrative"), row.financial_year


def test_thresholds_are_fractions_or_hours(thresholds):
    fractions = thresholds[thresholds.comparison.isin(FRACTIONS)].threshold.astype(float)
    assert fractions.between(0, 1).all()
    hours = thresholds[thresholds.comparison == "within hours"]
    assert set(zip(hours.criterion_code, hours.threshold, strict=True)) == {
        ("surgery_within_36h", "36"),
        ("orthogeriatric_within_72h", "72"),
    }


def test_rule_changes_fall_in_the_documented_years(thresholds):
    # Cemented or hybrid prostheses over 70: primary hip only, from 2019-20.
    assert "cemented_over_70" not in _criteria(thresholds, "2018-19", "primary_hip")
    assert "cemented_over_70" in _criteria(thresholds, "2019-20", "primary_hip")
    assert "cemented_over_70" not in _criteria(thresholds, "2024-25", "primary_knee")
    # NJR thresholds rose from 75% / 25% in 2014-15 to 85% / 15%.
    njr = thresholds.set_index(["financial_year", "bpt_code", "criterion_code"]).threshold
    assert njr["2014-15", "primary_hip", "njr_compliance"] == "0.75"
    assert njr["2014-15", "primary_hip", "njr_consent_not_recorded"] == "0.25"
    assert njr["2015-16", "primary_knee", "njr_compliance"] == "0.85"
    assert njr["2015-16", "primary_knee", "njr_consent_not_recorded"] == "0.15"
    # The Abbreviated Mental Test joins the hip fracture criteria after 2010-11.
    assert "amts_pre_op" not in _criteria(thresholds, "2010-11", "hip_fracture")
    assert {"amts_pre_op", "amts_post_op"} <= _criteria(thresholds, "2013-14", "hip_fracture")


def test_each_tariff_starts_in_the_year_it_was_introduced(tariffs):
    # Activity before a tariff's earliest year in the seed is not assessed.
    first = tariffs.groupby("bpt_code").financial_year.min().to_dict()
    assert first == {"primary_hip": "2014-15", "primary_knee": "2014-15", "hip_fracture": "2010-11"}
