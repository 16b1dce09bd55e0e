"""Synthetic SHMI publications in NHS Digital's trust-level layout, with one planted outlier.

One publication a financial year, named as NHS Digital names its files and dated in the
August after the year (when the April-to-March data are published). Every trust's observed
deaths sit within one standard error of expected except the planted one, whose SHMI is far
above: so the overdispersion-adjusted banding must flag it and no one else.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dagster_project.synth.organisations import Provider

HEADER = "INDICATOR_CODE,PROVIDER,PROVIDER_NAME,DENOMINATOR,OBSERVED,EXPECTED,VALUE"
HIGH_SHMI = 1.35  # the planted trust's observed / expected
NULL_Z = 0.8  # other trusts lie within this many standard errors of expected
Z95 = 1.959964


def file_name(year: str) -> str:
    """`2023-24` -> `shmi-2024-august.csv`."""
    return f"shmi-{int(year[:4]) + 1}-august.csv"


def planted_code(providers: list[Provider]) -> str:
    """The trust given a high SHMI: the largest provider with no PROMs role."""
    nulls = [p for p in providers if p.role == "null"]
    return max(nulls, key=lambda p: (p.size, p.code)).code


def write_publication(path: Path, year: str, providers: list[Provider], seed: int) -> dict:
    """Write one publication; return each trust's expected banding (the truth)."""
    rng = np.random.Generator(np.random.PCG64([seed, int(year[:4]), 31]))
    high = planted_code(providers)
    lines = [HEADER]
    observed, expected = [], []
    for p in sorted(providers, key=lambda p: p.code):
        spells = int(round(p.size * rng.uniform(30_000, 50_000)))
        e = round(spells * rng.uniform(0.025, 0.035), 4)
        shift = (
            HIGH_SHMI if p.code == high else math.exp(rng.uniform(-NULL_Z, NULL_Z) / math.sqrt(e))
        )
        o = max(1, int(round(e * shift)))
        observed.append(o)
        expected.append(e)
        lines.append(f"I00699,{p.code},{p.name},{spells},{o},{e:.4f},{o / e:.4f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    codes = [p.code for p in sorted(providers, key=lambda p: p.code)]
    return dict(zip(codes, _bandings(np.array(observed, float), np.array(expected)), strict=True))


def _bandings(observed: np.ndarray, expected: np.ndarray) -> list[str]:
    """NHS Digital's banding, worked independently of the pipeline's SQL, for the truth file."""
    z = np.sqrt(expected) * np.log(observed / expected)
    k = len(z) // 10
    kept = np.argsort(z, kind="stable")[k : len(z) - k]
    n, w = len(kept), expected[kept]
    phi = float(np.mean(z[kept] ** 2))
    tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    spread = Z95 * np.sqrt(1 / expected + tau2)
    value = np.round(observed / expected, 4)
    return [
        "higher than expected" if v > math.exp(s) else "lower than expected" if v < math.exp(-s)
        else "as expected"
        for v, s in zip(value, spread, strict=True)
    ]  # fmt: skip
