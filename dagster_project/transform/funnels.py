"""Funnel-plot limits as the NHS-R community's FunnelPlotR (0.6.0) computes them, after
Spiegelhalter (2005), for the indicators the pipeline compares on funnels.

FunnelPlotR is an R package, and no maintained Python library implements the same method,
so the arithmetic is written here: pure numpy and scipy, no I/O, called by a dbt Python
model (`int_indicators__funnel_limits`) and tested on FunnelPlotR's own published values.

Proportions (`data_type = "PR"`): on the arcsine-square-root scale, y = asin(sqrt(O / n)),
standard error 1 / (2 sqrt(n)), target asin(sqrt(p0)) with p0 the pooled proportion; z-scores
Winsorised at the trim fraction each end (R's type-7 quantiles, clamped, every unit kept);
phi = mean of the squared Winsorised z; tau^2 by DerSimonian and Laird's moment estimator
with weights w = 1 / s^2 = 4n. If phi <= 1 the unadjusted limits are used (FunnelPlotR's
fallback). Limits sin^2(target +- z sqrt(1 / (4n) + tau^2)), the argument held within
[0, pi / 2] so a limit never leaves 0 to 1.

Rates per exposure (bed days), as standardised ratios (`data_type = "SR"`, FunnelPlotR's
default `sr_method = "SHMI"`): expected E = r0 x exposure with r0 the pooled rate; z =
sqrt(E) ln(O / E); the 10% highest and lowest z-scores truncated (dropped, NHS Digital's
rule: a unit is kept when 0 < floor(rank x k / (N + 1)) < k - 1, k = 1 / trim); phi over the
units kept, tau^2 with w = E over the same units. Adjusted limits r0 exp(+- z sqrt(1 / E +
tau^2)); when phi <= 1, exact Poisson limits from the chi-squared distribution. Both are
positive by construction.

Scores without a sample size (survey scores): the spread between providers is all
overdispersion: target the mean, tau^2 the variance of the Winsorised values, limits
mean +- z tau, held within the scale's bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

Z95, Z998 = 1.959964, 3.090232


@dataclass(frozen=True)
class Limits:
    """Per unit: the four limits on the measure's own scale (before any multiplier)."""

    target: float
    lower_95: np.ndarray
    upper_95: np.ndarray
    lower_998: np.ndarray
    upper_998: np.ndarray
    phi: float
    tau2: float
    adjusted: bool


def _winsorised(z: np.ndarray, trim: float) -> np.ndarray:
    low, high = np.quantile(z, [trim, 1 - trim])  # numpy's default is R's type 7
    return np.clip(z, low, high)


def _tau2(n: int, phi: float, w: np.ndarray) -> float:
    """DerSimonian-Laird: 0 unless n phi exceeds n - 1."""
    if n < 2 or n * phi < n - 1:
        return 0.0
    spread = w.sum() - (w * w).sum() / w.sum()
    return max(0.0, (n * phi - (n - 1)) / spread) if spread > 0 else 0.0


def proportion_limits(
    numerators: np.ndarray,
    denominators: np.ndarray,
    target: float,
    trim: float = 0.1,
    z95: float = Z95,
    z998: float = Z998,
) -> Limits:
    """Limits at each unit's own denominator, around `target` (a proportion)."""
    o = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    centre = np.arcsin(np.sqrt(target))
    z = 2 * np.sqrt(n) * (np.arcsin(np.sqrt(o / n)) - centre)
    phi = float(np.mean(_winsorised(z, trim) ** 2)) if len(z) else 0.0
    tau2 = _tau2(len(z), phi, 4 * n)
    adjusted = phi > 1
    spread = np.sqrt(1 / (4 * n) + (tau2 if adjusted else 0.0))

    def at(k: float) -> np.ndarray:
        return np.sin(np.clip(centre + k * spread, 0, np.pi / 2)) ** 2

    return Limits(target, at(-z95), at(z95), at(-z998), at(z998), phi, tau2, adjusted)


def _truncated(z: np.ndarray, trim: float) -> np.ndarray:
    """Which units NHS Digital's trimming keeps (True) for estimating overdispersion."""
    k = round(1 / trim)
    ranks = stats.rankdata(z, method="average")
    place = np.floor(ranks * k / (len(z) + 1))
    return (place > 0) & (place < k - 1)


def ratio_limits(
    observed: np.ndarray,
    expected: np.ndarray,
    trim: float = 0.1,
    z95: float = Z95,
    z998: float = Z998,
) -> Limits:
    """Limits for observed / expected around 1, at each unit's own expected count."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore"):
        z = np.sqrt(e) * np.log(o / e)  # a unit with no cases is -inf: ranked lowest, dropped
    kept = _truncated(z, trim) if len(z) else np.zeros(0, dtype=bool)
    phi = float(np.mean(z[kept] ** 2)) if kept.any() else 0.0
    tau2 = _tau2(int(kept.sum()), phi, e[kept])
    adjusted = phi > 1
    if adjusted:

        def at(k: float) -> np.ndarray:
            return np.exp(k * np.sqrt(1 / e + tau2))

        return Limits(1.0, at(-z95), at(z95), at(-z998), at(z998), phi, tau2, True)

    def poisson(coverage_z: float) -> tuple[np.ndarray, np.ndarray]:
        tail = stats.norm.sf(coverage_z)
        lower = stats.chi2.ppf(tail, 2 * e) / (2 * e)
        upper = stats.chi2.ppf(1 - tail, 2 * (e + 1)) / (2 * e)
        return lower, upper

    (l95, u95), (l998, u998) = poisson(z95), poisson(z998)
    return Limits(1.0, l95, u95, l998, u998, phi, tau2, False)


def rate_limits(
    counts: np.ndarray,
    exposure: np.ndarray,
    target: float,
    trim: float = 0.1,
    z95: float = Z95,
    z998: float = Z998,
) -> Limits:
    """Limits for counts per unit of exposure around `target` (a rate per unit exposure)."""
    e = np.asarray(exposure, dtype=float) * target
    ratio = ratio_limits(counts, e, trim, z95, z998)
    return Limits(
        target,
        ratio.lower_95 * target,
        ratio.upper_95 * target,
        ratio.lower_998 * target,
        ratio.upper_998 * target,
        ratio.phi,
        ratio.tau2,
        ratio.adjusted,
    )


def score_limits(
    values: np.ndarray,
    lowest: float,
    highest: float,
    trim: float = 0.1,
    z95: float = Z95,
    z998: float = Z998,
) -> Limits:
    """Limits for scores with no sample size: the spread between providers."""
    v = np.asarray(values, dtype=float)
    target = float(v.mean()) if len(v) else 0.0
    tau2 = float(np.var(_winsorised(v, trim), ddof=1)) if len(v) > 1 else 0.0
    tau = np.full(len(v), np.sqrt(tau2))

    def at(k: float) -> np.ndarray:
        return np.clip(target + k * tau, lowest, highest)

    return Limits(target, at(-z95), at(z95), at(-z998), at(z998), 0.0, tau2, True)


FUNNEL_METHODS = ("proportion_funnel", "rate_funnel", "score_spread")
ALL_PROVIDERS = "all providers"


def compare(
    observations: pd.DataFrame,
    catalogue: pd.DataFrame,
    parameters: dict[str, float],
    clusters: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Limits per provider for every indicator compared on a funnel, within its comparator.

    `observations`: financial_year, provider_code, indicator_code, numerator, denominator,
    value. `catalogue`: indicator_code, method, multiplier, min_denominator, compared_within
    (`cluster` to compare within the provider's cluster of similar organisations, from
    `clusters`: provider_code, cluster). Providers below the indicator's minimum denominator
    are not compared and get no limits. The target of a comparator (its centre line) is
    pooled over every provider in it with a denominator; the limits are in the indicator's
    unit, and `comparator` names the group.
    """
    rows = observations.merge(
        catalogue[["indicator_code", "method", "multiplier", "min_denominator",
                   "compared_within"]],
        on="indicator_code",
    )  # fmt: skip
    rows = rows[rows["method"].isin(FUNNEL_METHODS) & rows["value"].notna()].copy()
    known = (
        {}
        if clusters is None
        else dict(zip(clusters["provider_code"], clusters["cluster"], strict=True))
    )
    within_cluster = rows["compared_within"].fillna("") == "cluster"
    rows["comparator"] = ALL_PROVIDERS
    rows.loc[within_cluster, "comparator"] = [
        f"cluster: {known[p]}" if p in known else "providers with no published cluster"
        for p in rows.loc[within_cluster, "provider_code"]
    ]
    out = []
    if not rows.empty:
        z95, z998 = float(parameters["z_95"]), float(parameters["z_998"])
        trim = float(parameters["winsor_fraction"])
        lowest, highest = float(parameters["score_min"]), float(parameters["score_max"])
    keys = ["financial_year", "indicator_code", "comparator"]
    for (year, code, comparator), group in rows.groupby(keys, sort=True):
        group = group.sort_values("provider_code")
        method = group["method"].iloc[0]
        least = group["min_denominator"].iloc[0]
        if method == "score_spread":
            result = score_limits(group["value"], lowest, highest, trim, z95, z998)
            compared, scale = group, 1.0
        else:
            counted = group[group["denominator"] > 0]
            if counted.empty:
                continue
            target = counted["numerator"].sum() / counted["denominator"].sum()
            compared = counted if pd.isna(least) else counted[counted["denominator"] >= least]
            if compared.empty:
                continue
            limits = proportion_limits if method == "proportion_funnel" else rate_limits
            result = limits(compared["numerator"], compared["denominator"], target, trim, z95, z998)
            scale = float(group["multiplier"].iloc[0])
        out.append(
            pd.DataFrame(
                {
                    "financial_year": year,
                    "indicator_code": code,
                    "provider_code": compared["provider_code"].to_numpy(),
                    "comparator": comparator,
                    "target": result.target * scale,
                    "lower_95": np.asarray(result.lower_95) * scale,
                    "upper_95": np.asarray(result.upper_95) * scale,
                    "lower_998": np.asarray(result.lower_998) * scale,
                    "upper_998": np.asarray(result.upper_998) * scale,
                    "phi": result.phi,
                    "tau2": result.tau2,
                    "adjusted": result.adjusted,
                }
            )
        )
    if out:
        return pd.concat(out, ignore_index=True)
    text = ("financial_year", "indicator_code", "provider_code", "comparator")
    numbers = ("target", "lower_95", "upper_95", "lower_998", "upper_998", "phi", "tau2")
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in text})
    for column in numbers:
        frame[column] = pd.Series(dtype="float64")
    frame["adjusted"] = pd.Series(dtype="bool")
    return frame
