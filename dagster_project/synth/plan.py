"""What every quality feed shares: beds, calendars, who carries which effect, bounded draws.

Every feed is sized from the same occupied general and acute bed days (the ones
written to the KH03 workbooks), so rates per bed day in one feed agree with
another. Effects are dealt to providers with no PROMs role, never the high-SHMI
trust, and everyone else is drawn from the common rates and re-drawn until it
sits well inside the limits (|z| <= NULL_Z on the indicator's own scale), so a
99.8% funnel check finds the planted providers and no one else.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from openpyxl.writer.excel import ExcelWriter

from dagster_project.synth import shmi
from dagster_project.synth.organisations import MISTYPED_ROLE, NULL_ROLE, Provider

NULL_Z = 1.5  # null providers: |z| at most this on each indicator's own scale, every year
CELL_Z = 2.5  # and at most this for each month or quarter inside the year
PLANTED_Z = 1.0  # planted providers: this close to their planted rate

# Effects dealt, in this order, to a seeded shuffle of the providers with no PROMs role.
FEED_ROLES: tuple[str, ...] = (
    "high_cdi",
    "high_severe_harm",
    "poor_experience",
    "njr_fail_one",
    "njr_fail_several",
    "hip_fracture_long_waits",
)
# The feeds written beside PROMs, ODS and SHMI, in the order they are written.
FEEDS: tuple[str, ...] = (
    "kh03",
    "hcai",
    "hcai_objectives",
    "fft",
    "inpatient_survey",
    "staff_survey",
    "incidents",
    "incident_clusters",
    "vte",
    "readmissions",
    "njr",
    "hip_fracture",
)

# Average occupied general and acute beds: a demo region, and England's spread.
DEMO_BEDS = (180.0, 100.0, 300.0)  # beds per unit of provider size, clipped to the range
NATIONAL_BEDS = (600.0, 200.0, 1500.0)
# Occupancy through the financial year (April first): winter fuller than summer.
_SEASON = (0.97, 0.97, 0.96, 0.96, 0.95, 0.97, 1.0, 1.02, 1.03, 1.05, 1.04, 1.02)
MONTH_NAMES = tuple(calendar.month_name[m].upper() for m in range(1, 13))


# --- calendars ----------------------------------------------------------------------------------


def fy_start(year: str) -> int:
    """`2024-25` -> 2024."""
    if not re.fullmatch(r"\d{4}-\d{2}", year) or (int(year[:4]) + 1) % 100 != int(year[5:]):
        raise ValueError(f"financial year must look like 2023-24, not {year!r}")
    return int(year[:4])


def fy_months(year: str) -> list[tuple[int, int]]:
    """The twelve (calendar year, month) pairs of a financial year, April first."""
    first = fy_start(year)
    return [(first + (m <= 3), m) for m in (*range(4, 13), 1, 2, 3)]


def month_days(year: str) -> np.ndarray:
    return np.array([calendar.monthrange(y, m)[1] for y, m in fy_months(year)])


def quarter_of_month() -> np.ndarray:
    """Financial quarter (0-3) of each of the twelve months."""
    return np.repeat(np.arange(4), 3)


def fy_dates(year: str) -> tuple[dt.date, dt.date]:
    """First day of the year and first day of the next."""
    first = fy_start(year)
    return dt.date(first, 4, 1), dt.date(first + 1, 4, 1)


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class FeedPlan:
    """Everything the quality feeds share for one region."""

    providers: list[Provider]
    years: tuple[str, ...]
    seed: int
    national: bool
    beds: np.ndarray  # average occupied general and acute beds per provider
    roles: dict[str, str]  # feed role -> provider code
    high_shmi: str
    settings: dict[str, tuple[str, ...]]  # provider code -> FFT settings it reports
    bed_days: dict[str, np.ndarray] = field(default_factory=dict)  # year -> (providers, 12)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.providers]

    def index(self, role: str) -> int:
        return self.codes.index(self.roles[role])

    def is_role(self, role: str) -> np.ndarray:
        return np.array([c == self.roles[role] for c in self.codes])

    @property
    def null_providers(self) -> list[str]:
        """Providers with nothing planted in these feeds (nor SHMI)."""
        planted = {*self.roles.values(), self.high_shmi}
        return [c for c in self.codes if c not in planted]

    def rng(self, *stream: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64([self.seed, *stream]))


def make_plan(
    providers: list[Provider], years: Sequence[str], seed: int, national: bool = False
) -> FeedPlan:
    for year in years:
        fy_start(year)
    scale, low, high = NATIONAL_BEDS if national else DEMO_BEDS
    sizes = np.array([p.size for p in providers])
    beds = np.clip(np.round(scale * sizes), low, high)
    plan = FeedPlan(
        providers=list(providers),
        years=tuple(years),
        seed=seed,
        national=national,
        beds=beds,
        roles=assign_roles(providers, seed),
        high_shmi=shmi.planted_code(providers),
        settings=assign_settings(providers, seed),
    )
    for year in years:
        rng = plan.rng(fy_start(year), 41)
        noise = rng.normal(1.0, 0.012, (len(providers), 12))
        days = month_days(year)
        plan.bed_days[year] = np.round(beds[:, None] * np.array(_SEASON) * noise * days).astype(
            np.int64
        )
    return plan


def assign_roles(providers: list[Provider], seed: int) -> dict[str, str]:
    """Deal FEED_ROLES to distinct providers: first those with no PROMs role (other than the
    high-SHMI trust), then, in a region too small to have enough, providers whose PROMs role
    touches only PROMs (never the one missing from ODS)."""
    rng = np.random.Generator(np.random.PCG64([seed, 0, 40]))
    high_shmi = shmi.planted_code(providers)
    nulls = [p for p in providers if p.role == NULL_ROLE and p.code != high_shmi]
    others = [p for p in providers if p.role not in (NULL_ROLE, MISTYPED_ROLE)]
    pool = [nulls[i] for i in rng.permutation(len(nulls))]
    pool += [others[i] for i in rng.permutation(len(others))]
    if len(pool) < len(FEED_ROLES):
        raise ValueError(f"too few providers to plant {len(FEED_ROLES)} feed effects")
    return {role: p.code for role, p in zip(FEED_ROLES, pool, strict=False)}


SETTINGS: tuple[str, ...] = (
    "inpatient", "ae", "maternity", "outpatient", "community", "mental_health", "ambulance",
)  # fmt: skip
# Share of providers reporting each setting besides inpatients and outpatients (which all do);
# orthopaedic and treatment centres have no A&E and no maternity unit.
_SETTING_SHARE = {"ae": 0.95, "maternity": 0.85, "community": 0.25, "mental_health": 0.12,
                  "ambulance": 0.06}  # fmt: skip
_NO_EMERGENCY = ("ORTHOPAEDIC CENTRE", "NHS TREATMENT CENTRE")


def assign_settings(providers: list[Provider], seed: int) -> dict[str, tuple[str, ...]]:
    """FFT settings per provider (seeded), every setting reported by at least one provider."""
    rng = np.random.Generator(np.random.PCG64([seed, 0, 42]))
    draws = rng.random((len(providers), len(SETTINGS)))
    order = rng.permutation(len(providers))
    chosen: dict[str, set[str]] = {p.code: {"inpatient", "outpatient"} for p in providers}
    elective = [p.name.endswith(_NO_EMERGENCY) for p in providers]
    for j, setting in enumerate(SETTINGS):
        if setting not in _SETTING_SHARE:
            continue
        for i, p in enumerate(providers):
            if draws[i, j] < _SETTING_SHARE[setting] and not (
                elective[i] and setting in ("ae", "maternity")
            ):
                chosen[p.code].add(setting)
        if not any(setting in s for s in chosen.values()):
            pick = next((int(i) for i in order if not elective[int(i)]), int(order[0]))
            chosen[providers[pick].code].add(setting)
    return {code: tuple(s for s in SETTINGS if s in chosen[code]) for code in chosen}


# --- bounded draws ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A statistic that must stay within `bound` standard errors of its expectation.

    `weights` picks the components summed (over the last axis); `groups` sums
    cells (the middle axis) into periods: None for the whole row.
    """

    weights: np.ndarray
    bound: np.ndarray  # per row
    groups: np.ndarray | None = None


def _z_poisson(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (observed - expected) / np.sqrt(expected)
    return np.where(expected > 0, z, 0.0)


def _z_binomial(observed: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    var = n * p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (observed - n * p) / np.sqrt(var)
    return np.where(var > 0, z, 0.0)


def _sums(values: np.ndarray, check: Check) -> np.ndarray:
    """(rows, cells, components) -> (rows, periods)."""
    picked = (values * check.weights).sum(axis=-1)
    if check.groups is None:
        return picked.sum(axis=1, keepdims=True)
    periods = int(check.groups.max()) + 1
    return np.stack([picked[:, check.groups == g].sum(axis=1) for g in range(periods)], axis=1)


def bounded_poisson(
    rng: np.random.Generator, mean: np.ndarray, checks: Sequence[Check], tries: int = 2000
) -> np.ndarray:
    """Poisson counts (rows, cells, components), each row re-drawn whole until every check
    holds. A row that never does (not seen in practice) takes the rounded expectation."""
    mean = np.asarray(mean, dtype=float)
    counts = rng.poisson(mean)
    for _ in range(tries):
        bad = np.zeros(mean.shape[0], dtype=bool)
        for check in checks:
            z = _z_poisson(_sums(counts, check), _sums(mean, check))
            bad |= (np.abs(z) > check.bound[:, None]).any(axis=1)
        if not bad.any():
            return counts
        counts[bad] = rng.poisson(mean[bad])
    counts[bad] = np.round(mean[bad]).astype(counts.dtype)
    return counts


def bounded_binomial(
    rng: np.random.Generator,
    n: np.ndarray,
    p: np.ndarray,
    bound: np.ndarray | float,
    cell_bound: float | None = None,
    tries: int = 2000,
) -> np.ndarray:
    """Binomial counts for n (rows, cells) at rate p (per row), each row re-drawn whole until
    its total is within `bound` standard errors of n p (and each cell within `cell_bound`)."""
    n = np.asarray(n, dtype=np.int64)
    if n.ndim == 1:
        return bounded_binomial(rng, n[:, None], p, bound, cell_bound, tries)[:, 0]
    p = np.broadcast_to(np.asarray(p, dtype=float).reshape(-1, 1), n.shape)
    bound = np.broadcast_to(np.asarray(bound, dtype=float), (n.shape[0],))
    x = rng.binomial(n, p)
    for _ in range(tries):
        bad = np.abs(_z_binomial(x.sum(axis=1), n.sum(axis=1), p[:, 0])) > bound
        if cell_bound is not None:
            bad |= (np.abs(_z_binomial(x, n, p)) > cell_bound).any(axis=1)
        if not bad.any():
            return x
        x[bad] = rng.binomial(n[bad], p[bad])
    x[bad] = np.round(n[bad] * p[bad]).astype(x.dtype)
    return x


def row_bounds(plan: FeedPlan, planted_roles: Sequence[str]) -> np.ndarray:
    """NULL_Z for everyone, PLANTED_Z for the providers planted on this indicator."""
    bound = np.full(len(plan.providers), NULL_Z)
    for role in planted_roles:
        bound[plan.index(role)] = PLANTED_Z
    return bound


# --- writing ------------------------------------------------------------------------------------

_FIXED_TIME = dt.datetime(2000, 1, 1)


def write_csv_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """UTF-8, CRLF, a cell quoted only when it holds a comma or a quote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_line(header), *(_line(r) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return len(rows)


def _line(cells: Sequence[object]) -> str:
    return ",".join(quote(str(c)) for c in cells)


def quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


def save_workbook(book, path: Path) -> None:
    """An openpyxl workbook with fixed timestamps (document and zip), so same data, same bytes."""
    book.properties.creator = "dagster_project.synth"
    book.properties.created = _FIXED_TIME
    book.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    ExcelWriter(book, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits) + 0.0
