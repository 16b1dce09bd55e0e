"""Synthetic emergency readmissions within 30 days of discharge, by age band, as NHS Digital
publishes its indicator (Compendium I02040): the indirectly standardised percentage with an
exact 95% confidence interval, the readmissions and the discharges, and England's row.

Discharges follow each provider's occupied bed days; readmissions are drawn at England's
rate for the age band and kept within bounds for every provider, so nobody is an outlier.
The synthetic region has one case mix, so the standardised percentage is the provider's
readmissions over its expected readmissions (discharges at England's rate) times England's
rate: its crude percentage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from dagster_project.synth.plan import (
    FeedPlan,
    bounded_binomial,
    fy_start,
    row_bounds,
    write_csv_rows,
)

READMISSIONS_HEADER = (
    "Reporting period", "Breakdown", "Level", "Level description", "Age group",
    "Indicator value", "Lower CI", "Upper CI", "Numerator", "Denominator",
)  # fmt: skip
AGE_GROUPS = ("0-15", "16+")
AGE_LABELS = {"0-15": "<16", "16+": "16+"}  # as NHS Digital labels its breakdowns
DISCHARGES_PER_BED_DAY = 0.24
CHILD_SHARE = 0.12
READMISSION_RATES = {"0-15": 0.105, "16+": 0.143}


def readmissions_file_name(year: str) -> str:
    return f"readmissions-{year}.csv"


def readmission_counts(plan: FeedPlan, year: str) -> tuple[np.ndarray, np.ndarray]:
    """Discharges and readmissions, (providers, age groups)."""
    rng = plan.rng(fy_start(year), 90)
    bed_days = plan.bed_days[year].sum(axis=1)
    discharges = rng.poisson(bed_days * DISCHARGES_PER_BED_DAY)
    children = rng.binomial(discharges, CHILD_SHARE)
    by_age = np.column_stack([children, discharges - children])
    bound = row_bounds(plan, [])
    readmitted = np.column_stack(
        [
            bounded_binomial(rng, by_age[:, k], np.full(len(bound), READMISSION_RATES[age]), bound)
            for k, age in enumerate(AGE_GROUPS)
        ]
    )
    return by_age, readmitted


def standardised(readmitted: int, discharges: int, england_rate: float) -> tuple[float, ...]:
    """(percentage, lower, upper) to 2 dp: observed over expected times England's rate, with
    exact Poisson limits on the observed count."""
    expected = discharges * england_rate
    lower = stats.chi2.ppf(0.025, 2 * readmitted) / 2 if readmitted else 0.0
    upper = stats.chi2.ppf(0.975, 2 * (readmitted + 1)) / 2
    scale = england_rate * 100 / expected
    return tuple(round(v * scale, 2) for v in (readmitted, lower, upper))


def write_readmissions(path: Path, plan: FeedPlan, year: str, discharges, readmitted) -> int:
    period = f"{year[:4]}/{year[5:]}"
    rows = []
    for k, age in enumerate(AGE_GROUPS):
        england_rate = readmitted[:, k].sum() / discharges[:, k].sum()
        for i, p in enumerate(plan.providers):
            value = standardised(int(readmitted[i, k]), int(discharges[i, k]), england_rate)
            rows.append([period, "Provider", p.code, p.name, AGE_LABELS[age], *value,
                         int(readmitted[i, k]), int(discharges[i, k])])  # fmt: skip
        total = (int(readmitted[:, k].sum()), int(discharges[:, k].sum()))
        rows.append([period, "England", "England", "England", AGE_LABELS[age],
                     *standardised(*total, england_rate), *total])  # fmt: skip
    return write_csv_rows(path, READMISSIONS_HEADER, rows)
