"""Synthetic SHMI publications as NHS Digital ships them since 2019, with one planted outlier.

One publication a financial year: a zip named by the twelve months it covers (`SHMI data
files, Apr23-Mar24.zip`) holding the trust-level file, the site-level file (which the
pipeline recognises and skips) and the palliative care coding contextual indicators of
deaths and of spells. Every trust's observed deaths sit within one standard error of
expected except the planted one, whose SHMI is far above: so the overdispersion-adjusted
banding must flag it and no one else.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np

from dagster_project.synth.organisations import Provider

HEADER = "PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,SPELLS,OBSERVED,EXPECTED"
SITE_HEADER = "PROVIDER_CODE,PROVIDER_NAME,SITE_CODE,SITE_NAME,SPELLS,OBSERVED,EXPECTED"
PALLIATIVE_HEADER = "PROVIDER_CODE,PROVIDER_NAME,NUMERATOR,DENOMINATOR,VALUE"
HIGH_SHMI = 1.35  # the planted trust's observed / expected
NULL_Z = 0.8  # other trusts lie within this many standard errors of expected
Z95 = 1.959964


def _period(year: str) -> str:
    """`2023-24` -> `Apr23-Mar24`."""
    return f"Apr{year[2:4]}-Mar{year[5:7]}"


def file_name(year: str) -> str:
    """`2023-24` -> `SHMI data files, Apr23-Mar24.zip`."""
    return f"SHMI data files, {_period(year)}.zip"


def period_end(year: str) -> str:
    """The last month the year's publication covers: March at the year's end."""
    return f"{int(year[:4]) + 1}-03-01"


def planted_code(providers: list[Provider]) -> str:
    """The trust given a high SHMI: the largest provider with no PROMs role."""
    nulls = [p for p in providers if p.role == "null"]
    return max(nulls, key=lambda p: (p.size, p.code)).code


def write_publication(path: Path, year: str, providers: list[Provider], seed: int) -> dict:
    """Write one publication's zip; return each trust's expected banding and palliative care
    coding rates (the truth)."""
    rng = np.random.Generator(np.random.PCG64([seed, int(year[:4]), 31]))
    high = planted_code(providers)
    trusts, sites, deaths, spells_rows = [], [], [], []
    observed, expected, palliative = [], [], {}
    for p in sorted(providers, key=lambda p: p.code):
        spells = int(round(p.size * rng.uniform(30_000, 50_000)))
        e = round(spells * rng.uniform(0.025, 0.035), 4)
        shift = (
            HIGH_SHMI if p.code == high else math.exp(rng.uniform(-NULL_Z, NULL_Z) / math.sqrt(e))
        )
        o = max(1, int(round(e * shift)))
        observed.append(o)
        expected.append(e)
        trusts.append([p.code, p.name, f"{o / e:.4f}", "2.0", spells, o, f"{e:.4f}"])
        sites.append([p.code, p.name, f"{p.code}01", f"{p.name} MAIN SITE", spells, o, f"{e:.4f}"])
        coded_deaths = int(round(o * rng.uniform(0.2, 0.45)))
        coded_spells = int(round(spells * rng.uniform(0.01, 0.04)))
        deaths.append([p.code, p.name, coded_deaths, o, f"{100 * coded_deaths / o:.2f}"])
        spells_rows.append(
            [p.code, p.name, coded_spells, spells, f"{100 * coded_spells / spells:.2f}"]
        )
        palliative[p.code] = round(100 * coded_deaths / o, 2)
    bandings = _bandings(np.array(observed, float), np.array(expected))
    codes = {"higher than expected": "1", "as expected": "2", "lower than expected": "3"}
    for row, banding in zip(trusts, bandings, strict=True):
        row[3] = f"{codes[banding]}.0"  # written 1.0 / 2.0 / 3.0 since 2019
    period = _period(year)
    members = {
        f"SHMI data at trust level, {period} (csv).csv": (HEADER, trusts),
        f"SHMI data at site level, {period} (csv).csv": (SITE_HEADER, sites),
        f"SHMI contextual indicators, palliative care coding, deaths, {period} (csv).csv": (
            PALLIATIVE_HEADER,
            deaths,
        ),
        f"SHMI contextual indicators, palliative care coding, spells, {period} (csv).csv": (
            PALLIATIVE_HEADER,
            spells_rows,
        ),
    }
    _write_zip(path, members)
    codes_sorted = [p.code for p in sorted(providers, key=lambda p: p.code)]
    return {
        "banding": dict(zip(codes_sorted, bandings, strict=True)),
        "palliative_care_deaths_pct": palliative,
    }


def _write_zip(path: Path, members: dict[str, tuple[str, list[list]]]) -> None:
    """A zip with fixed timestamps, so the same data give the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in members.items():
            text = "\r\n".join([header, *(",".join(map(str, r)) for r in rows)]) + "\r\n"
            info = zipfile.ZipInfo(f"SHMI data/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


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
