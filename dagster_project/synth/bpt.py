"""Synthetic best practice tariff (BPT) inputs: NJR compliance and fragility hip fracture spells.

NJR: most providers pass all three criteria as the best practice tariff seeds
set them for recent years (compliance at least 85%, consent not recorded under
15%, cemented or hybrid hips over 70 at least 80%), with a clear margin; one
fails exactly one criterion and one fails several, also by a clear margin.

Hip fracture: one row per spell with local date-times (Europe/London). Most
spells meet every criterion; one provider has many waiting over 36 hours for
surgery. Ordinary spells keep more than an hour clear of 36 hours, so only the
planted ones sit near it: spells crossing the October and March clock changes
whose wall-clock wait is on the other side of 36 hours from the real one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dagster_project.synth.plan import (
    FeedPlan,
    fy_dates,
    fy_start,
    row_bounds,
    write_csv_rows,
)

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

# --- NJR ----------------------------------------------------------------------------------------

NJR_HEADER = (
    "Organisation code", "Financial year", "Compliance", "Consent not recorded",
    "Cemented or hybrid over 70",
)  # fmt: skip
NJR_CRITERIA = {
    "Compliance": (">=", 0.85),
    "Consent not recorded": ("<", 0.15),
    "Cemented or hybrid over 70": (">=", 0.80),
}
_PASS = {"Compliance": (0.90, 0.998), "Consent not recorded": (0.005, 0.10),
         "Cemented or hybrid over 70": (0.84, 0.97)}  # fmt: skip
_FAIL = {"Compliance": (0.70, 0.82), "Consent not recorded": (0.18, 0.30),
         "Cemented or hybrid over 70": (0.60, 0.76)}  # fmt: skip


def njr_file_name(year: str) -> str:
    return f"njr-{year}.csv"


def njr_failing_criterion(plan: FeedPlan) -> str:
    """The one criterion the fail-one provider fails (the same every year)."""
    return list(NJR_CRITERIA)[int(plan.rng(0, 100).integers(0, len(NJR_CRITERIA)))]


def njr_values(plan: FeedPlan, year: str) -> np.ndarray:
    """(providers, 3) fractions rounded to three decimals."""
    rng = plan.rng(fy_start(year), 101)
    values = np.empty((len(plan.providers), len(NJR_CRITERIA)))
    fail_one = njr_failing_criterion(plan)
    for k, criterion in enumerate(NJR_CRITERIA):
        values[:, k] = rng.uniform(*_PASS[criterion], len(plan.providers))
        fails = plan.is_role("njr_fail_several")
        if criterion == fail_one:
            fails = fails | plan.is_role("njr_fail_one")
        values[fails, k] = rng.uniform(*_FAIL[criterion], int(fails.sum()))
    return np.round(values, 3)


def njr_passes(values: np.ndarray) -> np.ndarray:
    """(providers, 3) booleans: which criteria each provider meets."""
    passes = []
    for k, (op, threshold) in enumerate(NJR_CRITERIA.values()):
        passes.append(values[:, k] >= threshold if op == ">=" else values[:, k] < threshold)
    return np.column_stack(passes)


def write_njr(path: Path, plan: FeedPlan, year: str, values: np.ndarray) -> int:
    rows = [[p.code, year, *(f"{v:.3f}" for v in values[i])] for i, p in enumerate(plan.providers)]
    return write_csv_rows(path, NJR_HEADER, rows)


# --- hip fracture -------------------------------------------------------------------------------

HIP_HEADER = (
    "Spell ID", "Organisation code", "Arrival", "Surgery", "Orthogeriatric assessment",
    "Joint care", "Geriatrician rehabilitation", "Falls assessment", "Bone health assessment",
    "AMTS pre-op", "AMTS post-op",
)  # fmt: skip
FLAGS = HIP_HEADER[5:]
SURGERY_HOURS = 36.0
ASSESSMENT_HOURS = 72.0
SPELLS_PER_OCCUPIED_BED = 0.66  # a year
WITHIN_36H = 0.88
LONG_WAIT_WITHIN_36H = 0.55
ASSESSED_WITHIN_72H = 0.93
FLAG_YES = 0.98
_CLEAR_HOURS = 1.25  # ordinary spells keep this far from 36 hours
_MINUTE = 60


def hip_fracture_file_name(year: str) -> str:
    return f"hip-fracture-{year}.csv"


def compliant_share(within_36h: float) -> float:
    """Expected share of spells meeting every criterion."""
    return within_36h * ASSESSED_WITHIN_72H * FLAG_YES ** len(FLAGS)


@dataclass
class Spells:
    """One provider's spells for a year: minutes since the epoch (UTC) and flags."""

    arrival: np.ndarray
    surgery: np.ndarray
    assessment: np.ndarray
    flags: np.ndarray  # (spells, len(FLAGS)) booleans

    @property
    def within_36h(self) -> np.ndarray:
        return self.surgery - self.arrival <= SURGERY_HOURS * _MINUTE

    @property
    def compliant(self) -> np.ndarray:
        assessed = self.assessment - self.arrival <= ASSESSMENT_HOURS * _MINUTE
        return self.within_36h & assessed & self.flags.all(axis=1)


def clock_change_days(year: str) -> tuple[dt.date, dt.date]:
    """The Sundays on which clocks go back (October) and forward (March) in a financial year."""
    first = fy_start(year)

    def change(year_: int, month: int) -> dt.date:
        for day in range(31, 24, -1):
            date = dt.date(year_, month, day)
            before = dt.datetime.combine(date, dt.time(0), LONDON).utcoffset()
            after = dt.datetime.combine(date, dt.time(12), LONDON).utcoffset()
            if before != after:
                return date
        raise ValueError(f"no clock change found in {year_}-{month:02d}")  # pragma: no cover

    return change(first, 10), change(first + 1, 3)


def _clock_change_cases(year: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """Local (arrival, surgery) pairs either side of 36 hours by the wall clock and the other
    side in real time: autumn's waits are an hour longer than they look, spring's shorter."""
    october, march = clock_change_days(year)
    cases = []
    for sunday, pairs in (
        (october, ((dt.time(20, 0), dt.time(7, 30)), (dt.time(22, 30), dt.time(9, 45)))),
        (march, ((dt.time(20, 0), dt.time(8, 30)), (dt.time(21, 15), dt.time(9, 30)))),
    ):
        saturday, monday = sunday - dt.timedelta(days=1), sunday + dt.timedelta(days=1)
        for arrive, operate in pairs:
            cases.append(
                (
                    dt.datetime.combine(saturday, arrive, LONDON),
                    dt.datetime.combine(monday, operate, LONDON),
                )
            )
    return cases


def utc_minutes(moment: dt.datetime) -> int:
    return int(moment.astimezone(UTC).timestamp()) // 60


def clock_change_provider(plan: FeedPlan) -> int:
    """The null provider with most beds (first by code on a tie) carries the clock-change spells."""
    nulls = [plan.codes.index(c) for c in plan.null_providers]
    return max(nulls, key=lambda i: (plan.beds[i], -i))


def hip_fracture_spells(plan: FeedPlan, year: str) -> tuple[list[Spells], list[dict]]:
    """Every provider's spells for a year, and the planted clock-change spells (for truth)."""
    rng = plan.rng(fy_start(year), 110)
    start, end = fy_dates(year)
    first = utc_minutes(dt.datetime.combine(start, dt.time(0), LONDON))
    last = utc_minutes(dt.datetime.combine(end, dt.time(0), LONDON))
    counts = rng.poisson(plan.beds * SPELLS_PER_OCCUPIED_BED)
    within_p = np.where(plan.is_role("hip_fracture_long_waits"), LONG_WAIT_WITHIN_36H, WITHIN_36H)
    bounds = row_bounds(plan, ["hip_fracture_long_waits"])
    carrier = clock_change_provider(plan)
    cases = _clock_change_cases(year)
    result = []
    for i in range(len(plan.providers)):
        planted = cases if i == carrier else []
        spells = _provider_spells(rng, int(counts[i]), within_p[i], bounds[i], first, last, planted)
        result.append(spells)
    return result, [{"arrival": a, "surgery": s, "provider": plan.codes[carrier]} for a, s in cases]


def _provider_spells(
    rng: np.random.Generator,
    n: int,
    within_p: float,
    bound: float,
    first: int,
    last: int,
    planted: list[tuple[dt.datetime, dt.datetime]],
) -> Spells:
    # Real elapsed time, in UTC: two datetimes sharing a tzinfo subtract by the wall clock.
    planted_within = sum(utc_minutes(s) - utc_minutes(a) <= SURGERY_HOURS * 60 for a, s in planted)
    total = n + len(planted)
    p_all = compliant_share(within_p)
    for _ in range(2000):
        within = int(rng.binomial(n, within_p))
        if abs(_z(within + planted_within, total, within_p)) <= bound:
            break
    quick = rng.permutation(np.arange(n) < within)
    arrival = rng.integers(first // 5, last // 5, n) * 5
    wait_hours = np.where(
        quick,
        4.0 + (SURGERY_HOURS - _CLEAR_HOURS - 4.0) * rng.beta(2.0, 2.5, n),
        SURGERY_HOURS + _CLEAR_HOURS + np.minimum(rng.exponential(14.0, n), 200.0),
    )
    surgery = arrival + np.round(wait_hours * 12).astype(np.int64) * 5
    assessed = rng.random(n) < ASSESSED_WITHIN_72H
    assess_hours = np.where(assessed, rng.uniform(1.0, 70.0, n), rng.uniform(74.0, 140.0, n))
    assessment = arrival + np.round(assess_hours * 12).astype(np.int64) * 5
    arrival, surgery, assessment = _clear_of_repeated_hour(arrival, surgery, assessment)
    # Planted spells meet everything else, so only their timing decides.
    arrival = np.concatenate([arrival, [utc_minutes(a) for a, _ in planted]]).astype(np.int64)
    surgery = np.concatenate([surgery, [utc_minutes(s) for _, s in planted]]).astype(np.int64)
    assessment = np.concatenate([assessment, arrival[n:] + 12 * 60]).astype(np.int64)
    for _ in range(2000):
        flags = rng.random((n, len(FLAGS))) < FLAG_YES
        flags = np.vstack([flags, np.ones((len(planted), len(FLAGS)), dtype=bool)])
        spells = Spells(arrival, surgery, assessment, flags)
        if abs(_z(int(spells.compliant.sum()), total, p_all)) <= bound:
            break
        assessed = rng.random(n) < ASSESSED_WITHIN_72H
        assess_hours = np.where(assessed, rng.uniform(1.0, 70.0, n), rng.uniform(74.0, 140.0, n))
        moved = arrival[:n] + np.round(assess_hours * 12).astype(np.int64) * 5
        assessment = np.concatenate([_clear(moved), assessment[n:]])
    order = np.argsort(spells.arrival, kind="stable")
    return Spells(arrival[order], surgery[order], assessment[order], spells.flags[order])


def _z(x: int, n: int, p: float) -> float:
    var = n * p * (1 - p)
    return (x - n * p) / np.sqrt(var) if var > 0 else 0.0


def _local(minutes: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(minutes, unit="m", utc=True).tz_convert("Europe/London")


def _repeated_hour(minutes: np.ndarray) -> np.ndarray:
    """Instants whose local wall-clock time occurs twice (the hour before clocks go back)."""
    wall = _local(minutes).tz_localize(None)
    after = _local(minutes + 60).tz_localize(None)
    before = _local(minutes - 60).tz_localize(None)
    return np.asarray((after == wall) | (before == wall))


def _clear(minutes: np.ndarray) -> np.ndarray:
    """Move an instant whose wall-clock time is ambiguous two hours on."""
    minutes = minutes.copy()
    for _ in range(3):
        bad = _repeated_hour(minutes)
        if not bad.any():
            break
        minutes[bad] += 120
    return minutes


def _clear_of_repeated_hour(arrival, surgery, assessment):
    """Shift whole spells (keeping their waits) so no time written is ambiguous."""
    for _ in range(3):
        bad = _repeated_hour(arrival) | _repeated_hour(surgery) | _repeated_hour(assessment)
        if not bad.any():
            break
        arrival, surgery, assessment = (
            np.where(bad, t + 120, t) for t in (arrival, surgery, assessment)
        )
    return arrival, surgery, assessment


def local_text(minutes: np.ndarray) -> list[str]:
    return _local(np.asarray(minutes, dtype=np.int64)).strftime("%Y-%m-%d %H:%M").tolist()


def spell_ids(year: str, spells: list[Spells]) -> list[list[str]]:
    """`HF2425000001` ...: numbered through the file, provider by provider."""
    prefix, n, ids = year[2:4] + year[5:], 0, []
    for s in spells:
        ids.append([f"HF{prefix}{k:06d}" for k in range(n + 1, n + len(s.arrival) + 1)])
        n += len(s.arrival)
    return ids


def write_hip_fracture(path: Path, plan: FeedPlan, year: str, spells: list[Spells]) -> int:
    lines = []
    for i, (s, ids) in enumerate(zip(spells, spell_ids(year, spells), strict=True)):
        yes_no = np.where(s.flags, "Y", "N").tolist()
        times = zip(local_text(s.arrival), local_text(s.surgery), local_text(s.assessment),
                    strict=True)  # fmt: skip
        for spell, (a, o, g), flags in zip(ids, times, yes_no, strict=True):
            lines.append([spell, plan.codes[i], a, o, g, *flags])
    return write_csv_rows(path, HIP_HEADER, lines)
