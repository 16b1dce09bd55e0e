"""Funnel limits against NHS-R FunnelPlotR 0.6.0's own published values.

Where the package's tests give a figure it is used as is (the six-unit standardised-ratio
data, its exact Poisson limits); the proportion examples were worked with the package's own
functions (transformed_zscore, winsorisation, phi_func, tau_func, calculate_limits) and are
pinned here to seven significant figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dagster_project.transform.funnels import (
    compare,
    proportion_limits,
    rate_limits,
    ratio_limits,
    score_limits,
)

# FunnelPlotR tests/testthat/test-classes_methods.R: six units, SR, SHMI method, trim 0.1.
SR_NUM = np.array([100, 150, 180, 80, 120, 225])
SR_DEN = np.array([108, 112, 165, 95, 100, 220])


def test_standardised_ratios_match_the_package_test_data():
    result = ratio_limits(SR_NUM, SR_DEN)
    assert round(result.phi, 6) == 2.948033  # the package's own test value
    assert result.tau2 == pytest.approx(0.01947753, rel=1e-6)
    assert result.adjusted
    assert result.lower_95 == pytest.approx(
        [0.71730675, 0.71868330, 0.73109263, 0.71212809, 0.71426114, 0.73802197], rel=1e-7
    )
    assert result.upper_95 == pytest.approx(
        [1.3941037, 1.3914335, 1.3678157, 1.4042418, 1.4000482, 1.3549732], rel=1e-7
    )
    assert result.lower_998[0] == pytest.approx(0.59223371, rel=1e-7)
    assert result.upper_998[0] == pytest.approx(1.6885226, rel=1e-7)
    ratios = SR_NUM / SR_DEN
    assert not ((ratios < result.lower_998) | (ratios > result.upper_998)).any()


def test_exact_poisson_limits_when_there_is_no_overdispersion():
    """tests/testthat/test-poisson_limits.R: unadjusted SR limits at 15, 20 and 30 expected."""
    expected = np.array([15.0, 20.0, 30.0])
    result = ratio_limits(expected, expected)  # observed = expected: phi 0, no adjustment
    assert not result.adjusted
    assert result.lower_95 == pytest.approx([0.5596924, 0.6108260, 0.6746958], rel=1e-6)
    assert result.upper_95 == pytest.approx([1.649348, 1.544419, 1.427562], rel=1e-6)
    assert result.lower_998 == pytest.approx([0.3862650, 0.4479107, 0.5289724], rel=1e-6)
    assert result.upper_998 == pytest.approx([2.082907, 1.902094, 1.702771], rel=1e-6)


PR_NUM = np.array([30, 50, 85, 105, 170, 190, 250, 300, 575, 790])
PR_DEN = np.array([40, 75, 100, 150, 200, 250, 300, 400, 600, 1000])


def test_proportions_on_the_arcsine_scale_with_winsorised_overdispersion():
    target = PR_NUM.sum() / PR_DEN.sum()
    result = proportion_limits(PR_NUM, PR_DEN, target)
    assert result.phi == pytest.approx(4.91172445, rel=1e-7)
    assert result.tau2 == pytest.approx(0.0039292296, rel=1e-7)
    # Limits at other denominators, worked with FunnelPlotR's calculate_limits.
    grid = proportion_limits(PR_NUM, PR_DEN, target)
    at = {n: i for i, n in enumerate(PR_DEN)}
    assert (grid.lower_998[at[40]], grid.upper_998[at[40]]) == pytest.approx(
        (0.531575, 0.983133), abs=1e-6
    )
    assert (grid.lower_998[at[600]], grid.upper_998[at[600]]) == pytest.approx(
        (0.637849, 0.944278), abs=1e-6
    )
    outside = (result.lower_998 > PR_NUM / PR_DEN) | (result.upper_998 < PR_NUM / PR_DEN)
    assert outside.tolist() == [False] * 8 + [True, False]  # unit I only


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (50, (0.655545, 0.935483, 0.551276, 0.977665)),
        (1000, (0.709953, 0.903827, 0.641636, 0.942455)),
    ],
)  # fmt: skip
def test_proportion_limits_at_a_given_denominator(n, expected):
    """A unit of denominator n added with the pooled proportion: its limits are the curve's."""
    target = PR_NUM.sum() / PR_DEN.sum()
    base = proportion_limits(PR_NUM, PR_DEN, target)
    spread = np.sqrt(1 / (4 * n) + base.tau2)
    centre = np.arcsin(np.sqrt(target))
    got = [np.sin(centre + k * spread) ** 2 for k in (-1.959964, 1.959964, -3.090232, 3.090232)]
    assert got == pytest.approx(list(expected), abs=1e-6)


def test_no_overdispersion_falls_back_to_the_unadjusted_limits():
    num, den = np.array([40, 81, 158, 242, 397]), np.array([50, 100, 200, 300, 500])
    result = proportion_limits(num, den, num.sum() / den.sum())
    assert result.phi == pytest.approx(0.06605276, rel=1e-6)
    assert not result.adjusted
    assert (result.lower_95[1], result.upper_95[1]) == pytest.approx((0.714400, 0.870701), abs=1e-6)
    assert (result.lower_998[1], result.upper_998[1]) == pytest.approx(
        (0.662086, 0.906179), abs=1e-6
    )


def test_limits_never_leave_the_measures_range():
    # A rare event (severe harm about 0.6%): wide limits, never below zero.
    num, den = np.array([0, 1, 2, 3, 0, 9, 4]), np.array([40, 150, 300, 500, 90, 800, 700])
    result = proportion_limits(num, den, num.sum() / den.sum())
    for limit in (result.lower_95, result.lower_998, result.upper_95, result.upper_998):
        assert (limit >= 0).all() and (limit <= 1).all()
    rates = rate_limits(np.array([0, 3, 10, 40]), np.array([5e3, 2e4, 6e4, 2e5]), 1.5e-4)
    assert (rates.lower_998 >= 0).all() and (rates.lower_95 <= rates.upper_95).all()
    scores = score_limits(np.array([97.0, 99.5, 88.0, 99.9, 76.0]), 0, 100)
    assert (scores.upper_998 <= 100).all() and (scores.lower_998 >= 0).all()


def test_a_rate_is_a_standardised_ratio_scaled_by_the_target():
    exposure = SR_DEN * 1000.0
    rate = rate_limits(SR_NUM, exposure, 1 / 1000)
    ratio = ratio_limits(SR_NUM, SR_DEN)
    assert rate.lower_998 == pytest.approx(ratio.lower_998 / 1000)
    assert rate.tau2 == pytest.approx(ratio.tau2)


def _observations(rows):
    frame = pd.DataFrame(rows, columns=["provider_code", "numerator", "denominator"])
    frame["financial_year"] = "2024-25"
    frame["indicator_code"] = "incident_rate"
    frame["value"] = frame["numerator"] / frame["denominator"] * 1000
    return frame


CATALOGUE = pd.DataFrame(
    {
        "indicator_code": ["incident_rate"],
        "method": ["rate_funnel"],
        "multiplier": [1000.0],
        "min_denominator": [np.nan],
        "compared_within": ["cluster"],
    }
)
PARAMETERS = {"z_95": 1.959964, "z_998": 3.090232, "winsor_fraction": 0.1,
              "score_min": 0.0, "score_max": 100.0}  # fmt: skip


def test_incident_reporting_is_compared_within_each_cluster():
    """Mental health trusts report at a third of acute trusts' rate: within their cluster
    none is an outlier, and each cluster's centre is its own pooled rate."""
    acute = [(f"A{i}", 45 * (10 + i), 1000 * (10 + i)) for i in range(6)]
    mental = [(f"M{i}", 15 * (10 + i), 1000 * (10 + i)) for i in range(6)]
    clusters = pd.DataFrame(
        {"provider_code": [c for c, _, _ in acute + mental] + ["X1"],
         "cluster": ["Acute non-specialist"] * 6 + ["Mental health"] * 6 + ["Ambulance"]}
    )  # fmt: skip
    result = compare(_observations(acute + mental + [("Z9", 50, 1000)]), CATALOGUE,
                     PARAMETERS, clusters).set_index("provider_code")  # fmt: skip
    assert result.loc["A0", "comparator"] == "cluster: Acute non-specialist"
    assert result.loc["M0", "comparator"] == "cluster: Mental health"
    assert result.loc["Z9", "comparator"] == "providers with no published cluster"
    assert result.loc["A0", "target"] == pytest.approx(45.0)
    assert result.loc["M0", "target"] == pytest.approx(15.0)
    values = _observations(acute + mental).set_index("provider_code")["value"]
    inside = (values >= result.loc[values.index, "lower_998"]) & (
        values <= result.loc[values.index, "upper_998"]
    )
    assert inside.all()
    # Compared with everyone, the two kinds of trust look like overdispersion around 30: the
    # limits widen so far that neither group's own outliers could be seen.
    everyone = compare(
        _observations(acute + mental),
        CATALOGUE.assign(compared_within=None),
        PARAMETERS,
    ).set_index("provider_code")
    assert everyone.loc["M0", "comparator"] == "all providers"
    assert everyone.loc["M0", "target"] == pytest.approx(30.0)
    width = (everyone["upper_998"] - everyone["lower_998"]) / everyone["target"]
    own = (result["upper_998"] - result["lower_998"]) / result["target"]
    assert (width.loc[values.index] > 3 * own.loc[values.index]).all()


def test_providers_below_the_minimum_denominator_get_no_limits_but_count_in_the_centre():
    catalogue = CATALOGUE.assign(min_denominator=5000.0, compared_within=None)
    rows = [("A", 45, 1000), ("B", 450, 10000), ("C", 900, 20000), ("D", 2000, 40000)]
    result = compare(_observations(rows), catalogue, PARAMETERS)
    assert sorted(result["provider_code"]) == ["B", "C", "D"]
    assert result["target"].iloc[0] == pytest.approx(3395 / 71000 * 1000)


def test_nothing_to_compare_gives_the_columns_and_no_rows():
    empty = compare(_observations([]), CATALOGUE, {})
    assert empty.empty and {"comparator", "lower_998", "adjusted"} <= set(empty.columns)
