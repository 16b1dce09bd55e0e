"""Synthetic emergency readmissions within 28 days of discharge, by age group.

Discharges follow each provider's occupied bed days; readmissions are drawn at
England's rate for the age group and kept within bounds for every provider, so
nobody is an outlier on this indicator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dagster_project.synth.plan import (
    FeedPlan,
    bounded_binomial,
    fy_start,
    row_bounds,
    write_csv_rows,
)

READMISSIONS_HEADER = (
    "Organisation code", "Financial year", "Age group", "Discharges", "Readmissions within 28 days",
)  # fmt: skip
AGE_GROUPS = ("0-15", "16+")
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


def write_readmissions(path: Path, plan: FeedPlan, year: str, discharges, readmitted) -> int:
    rows = [
        [p.code, year, age, int(discharges[i, k]), int(readmitted[i, k])]
        for i, p in enumerate(plan.providers)
        for k, age in enumerate(AGE_GROUPS)
    ]
    return write_csv_rows(path, READMISSIONS_HEADER, rows)
