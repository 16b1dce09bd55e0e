"""Synthetic patient safety incidents (NRLS-style record level) and VTE risk assessment.

Providers report about 45 incidents per 1,000 occupied bed days (the KH03 bed
days written for the same region), about 0.5% of them severe harm or death;
one provider reports about 3% severe or death. A few never events are spread
over the region. Most incidents are reported within days; a few take months, and those
reported after the year's cut-off do not count for it (the truth records what counts).
Incident files are written in chunks, so a national year
(millions of rows) or a benchmark file never has to fit in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dagster_project.synth import organisations
from dagster_project.synth.organisations import MISTYPED_ROLE, Provider
from dagster_project.synth.plan import (
    CELL_Z,
    NATIONAL_BEDS,
    Check,
    FeedPlan,
    bounded_binomial,
    bounded_poisson,
    fy_dates,
    fy_start,
    quarter_of_month,
    quote,
    row_bounds,
    write_csv_rows,
)

INCIDENT_HEADER = (
    "Incident ID", "Organisation code", "Incident date", "Reported date", "Category",
    "Degree of harm", "Never event type",
)  # fmt: skip
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
INCIDENTS_PER_1000_BED_DAYS = 45.0
HARMS = ("No harm", "Low", "Moderate", "Severe", "Death")
HARM_SHARES = (0.74, 0.22, 0.035, 0.004, 0.001)  # severe or death: 0.5%
SEVERE_OR_DEATH = HARM_SHARES[3] + HARM_SHARES[4]
HIGH_SEVERE_OR_DEATH = 0.03
DEATH_SHARE_OF_SEVERE = 0.2
CATEGORIES = (
    ("Patient accident", 0.22),
    ("Implementation of care and ongoing monitoring / review", 0.14),
    ("Medication", 0.11),
    ("Treatment, procedure", 0.09),
    ("Access, admission, transfer, discharge (including missing patient)", 0.10),
    ("Clinical assessment (including diagnosis, scans, tests, assessments)", 0.08),
    ("Documentation (including electronic & paper records, identification and drug charts)",
     0.07),
    ("Infrastructure (including staffing, facilities, environment)", 0.06),
    ("Consent, communication, confidentiality", 0.04),
    ("Medical device / equipment", 0.03),
    ("Self-harming behaviour", 0.02),
    ("Disruptive, aggressive behaviour (includes patient-to-patient)", 0.02),
    ("Infection Control Incident", 0.02),
)  # fmt: skip
NEVER_EVENT_TYPES = (
    "Wrong site surgery",
    "Retained foreign object post-procedure",
    "Wrong implant/prosthesis",
)
NEVER_EVENT_CATEGORY = "Treatment, procedure"
NEVER_EVENTS_PER_PROVIDER_YEAR = 0.12
CHUNK_ROWS = 50_000

_CATEGORY_TEXT = np.array([quote(c) for c, _ in CATEGORIES], dtype=object)
_CATEGORY_P = np.array([s for _, s in CATEGORIES]) / sum(s for _, s in CATEGORIES)
_NEVER_CATEGORY = next(i for i, (c, _) in enumerate(CATEGORIES) if c == NEVER_EVENT_CATEGORY)
# Reporting lag: most within days, some after weeks.
_QUICK_LAG_P, _SLOW_LAG_P, _SLOW_SHARE, _MAX_LAG = 0.3, 0.03, 0.1, 180


def incidents_file_name(year: str) -> str:
    return f"incidents-{year}.csv"


@dataclass
class ProviderIncidents:
    """What one provider reports in a year: row count, harm counts, never events."""

    code: str
    harms: np.ndarray  # counts per HARMS
    never_events: list[str] = field(default_factory=list)
    # Filled as the rows are written: what was reported by the year's cut-off (the rest
    # arrives too late for the year's count, as NHS England's reports count incidents).
    on_time: np.ndarray | None = None
    never_on_time: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.harms.sum())


def incident_plan(plan: FeedPlan, year: str) -> list[ProviderIncidents]:
    """Counts per provider: volume from bed days, severe-or-death share bounded (nulls) or
    planted; a few never events, placed by size."""
    rng = plan.rng(fy_start(year), 80)
    bed_days = plan.bed_days[year].sum(axis=1).astype(float)
    mean = bed_days * INCIDENTS_PER_1000_BED_DAYS / 1000
    null_bound = row_bounds(plan, [])
    rows = bounded_poisson(rng, mean[:, None, None], [Check(np.ones(1), null_bound)])[:, 0, 0]
    severe_p = np.where(plan.is_role("high_severe_harm"), HIGH_SEVERE_OR_DEATH, SEVERE_OR_DEATH)
    severe = bounded_binomial(rng, rows, severe_p, row_bounds(plan, ["high_severe_harm"]))
    death = rng.binomial(severe, DEATH_SHARE_OF_SEVERE)
    lesser = np.array(HARM_SHARES[:3]) / sum(HARM_SHARES[:3])
    rest = rng.multinomial(rows - severe, lesser)
    harms = np.column_stack([rest, severe - death, death])
    result = [ProviderIncidents(c, harms[i]) for i, c in enumerate(plan.codes)]
    _place_never_events(rng, result, plan.beds)
    return result


def _place_never_events(
    rng: np.random.Generator, providers: list[ProviderIncidents], weights: np.ndarray
) -> None:
    count = max(1, int(round(NEVER_EVENTS_PER_PROVIDER_YEAR * len(providers))))
    where = rng.choice(len(providers), count, p=weights / weights.sum())
    kinds = rng.integers(0, len(NEVER_EVENT_TYPES), count)
    for i, k in zip(where.tolist(), kinds.tolist(), strict=True):
        providers[i].never_events.append(NEVER_EVENT_TYPES[k])


def write_incidents(
    path: Path,
    providers: Sequence[ProviderIncidents],
    year: str,
    seed: int,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write the rows of `providers` in chunks of at most `chunk_rows`; returns rows written.

    Harm counts per provider are exact: each chunk takes its harms from what is
    left (a multivariate hypergeometric draw), so memory is bounded by the chunk.
    """
    rng = np.random.Generator(np.random.PCG64([seed, fy_start(year), 81]))
    start, end = fy_dates(year)
    year_days = (end - start).days
    cut_off = (reporting_cutoff(year) - start).days
    dates = _date_texts(start, year_days + _MAX_LAG + 1)
    prefix = year[2:4] + year[5:]
    written = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(INCIDENT_HEADER) + "\r\n")
        for provider in providers:
            left = provider.harms.astype(np.int64).copy()
            never = _never_positions(rng, provider)
            provider.on_time = np.zeros(len(HARMS), dtype=np.int64)
            provider.never_on_time = []
            done = 0
            while done < provider.rows:
                size = min(chunk_rows, provider.rows - done)
                harm_counts = rng.multivariate_hypergeometric(left, size)
                left -= harm_counts
                harm = rng.permutation(np.repeat(np.arange(len(HARMS)), harm_counts))
                category = rng.choice(len(CATEGORIES), size, p=_CATEGORY_P)
                day = rng.integers(0, year_days, size)
                lag = rng.geometric(_QUICK_LAG_P, size) - 1
                slow = rng.random(size) < _SLOW_SHARE
                lag[slow] += rng.geometric(_SLOW_LAG_P, int(slow.sum()))
                lag = np.minimum(lag, _MAX_LAG)
                on_time = day + lag <= cut_off
                provider.on_time += np.bincount(harm[on_time], minlength=len(HARMS))
                never_text = np.full(size, "", dtype=object)
                for position, kind in never.items():
                    if done <= position < done + size:
                        never_text[position - done] = kind
                        category[position - done] = _NEVER_CATEGORY
                        if on_time[position - done]:
                            provider.never_on_time.append(kind)
                ids = range(written + 1, written + size + 1)
                handle.write(
                    "".join(
                        f"{prefix}{n:08d},{provider.code},{d},{r},{c},{h},{e}\r\n"
                        for n, d, r, c, h, e in zip(
                            ids,
                            dates[day].tolist(),
                            dates[day + lag].tolist(),
                            _CATEGORY_TEXT[category].tolist(),
                            np.array(HARMS, dtype=object)[harm].tolist(),
                            never_text.tolist(),
                            strict=True,
                        )
                    )
                )
                done += size
                written += size
    return written


def reporting_cutoff(year: str) -> dt.date:
    """The last day an incident occurring in `year` may be reported and still count (seed
    incident_periods, the methodology's own table)."""
    with (SEEDS_DIR / "incident_periods.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["financial_year"] == year:
                return dt.date.fromisoformat(row["reported_by"])
    raise ValueError(f"seed incident_periods has no reporting cut-off for {year}")


def _never_positions(rng: np.random.Generator, provider: ProviderIncidents) -> dict[int, str]:
    if not provider.never_events or provider.rows == 0:
        return {}
    count = min(len(provider.never_events), provider.rows)
    positions = rng.choice(provider.rows, count, replace=False)
    return dict(zip(sorted(positions.tolist()), provider.never_events[:count], strict=True))


def _date_texts(start: dt.date, days: int) -> np.ndarray:
    return np.array([(start + dt.timedelta(days=d)).isoformat() for d in range(days)], dtype=object)


def write_incidents_file(
    path: Path,
    rows: int,
    providers: Sequence[Provider] | int,
    year: str,
    seed: int,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """A benchmark-sized incidents file: exactly `rows` rows shared among `providers` (a roster,
    or a count to make one) by national-scale bed numbers, at the common harm shares, written
    in chunks so memory stays bounded whatever `rows` is (1 or 5 million)."""
    if rows < 0:
        raise ValueError("rows must not be negative")
    roster = (
        organisations.make_providers(providers, seed) if isinstance(providers, int) else providers
    )
    rng = np.random.Generator(np.random.PCG64([seed, fy_start(year), 82]))
    scale, low, high = NATIONAL_BEDS
    beds = np.clip(np.round(scale * np.array([p.size for p in roster])), low, high)
    share = beds / beds.sum()
    counts = np.floor(share * rows).astype(np.int64)
    remainder = share * rows - counts
    counts[np.argsort(-remainder, kind="stable")[: rows - int(counts.sum())]] += 1
    harms = rng.multinomial(counts, np.array(HARM_SHARES) / sum(HARM_SHARES))
    plan = [ProviderIncidents(p.code, harms[i]) for i, p in enumerate(roster)]
    _place_never_events(rng, plan, beds)
    return write_incidents(Path(path), plan, year, seed, chunk_rows)


# --- NRLS clusters -------------------------------------------------------------------------------

CLUSTERS_HEADER = ("Organisation code", "Organisation name", "Cluster")
CLUSTER = "Acute non-specialist"  # every synthetic provider is a general acute trust


def clusters_file_name(year: str) -> str:
    return f"nrls-cluster-list-{year}.csv"


def write_clusters(path: Path, plan: FeedPlan) -> int:
    """The NRLS cluster list the incident reports are compared within."""
    rows = [[p.code, p.name, CLUSTER] for p in sorted(plan.providers, key=lambda p: p.code)]
    return write_csv_rows(path, CLUSTERS_HEADER, rows)


# --- VTE ------------------------------------------------------------------------------------------

VTE_HEADER = ("Organisation code", "Quarter", "Admitted", "Risk assessed")
VTE_RISK_ASSESSED = 0.95
ADMISSIONS_PER_BED_DAY = 0.22  # adults admitted per occupied G&A bed day


def vte_file_name(year: str) -> str:
    return f"vte-{year}.csv"


def vte_counts(plan: FeedPlan, year: str) -> tuple[np.ndarray, np.ndarray]:
    """Admitted and risk assessed, (providers, 4): every provider within bounds."""
    rng = plan.rng(fy_start(year), 83)
    quarter = quarter_of_month()
    bed_days = np.stack([plan.bed_days[year][:, quarter == q].sum(axis=1) for q in range(4)], 1)
    admitted = rng.poisson(bed_days * ADMISSIONS_PER_BED_DAY)
    assessed = bounded_binomial(
        rng, admitted, np.full(len(plan.providers), VTE_RISK_ASSESSED), row_bounds(plan, []),
        cell_bound=CELL_Z,
    )  # fmt: skip
    return admitted, assessed


def write_vte(path: Path, plan: FeedPlan, year: str, admitted, assessed) -> int:
    """Every provider's four quarters, and one more row: the first quarter of the
    provider planted with a mistyped code, written again under the typo (a code no
    register lists, which must never become a provider)."""
    rows = [
        [p.code, f"{year} Q{q + 1}", int(admitted[i, q]), int(assessed[i, q])]
        for i, p in enumerate(plan.providers)
        for q in range(4)
    ]
    typo = next((p for p in plan.providers if p.role == MISTYPED_ROLE), None)
    if typo is not None:
        rows.append([typo.mistyped, f"{year} Q1", 1000, 400])
    return write_csv_rows(path, VTE_HEADER, rows)


def write_incident_year(path: Path, plan: FeedPlan, year: str) -> tuple[int, list]:
    providers = incident_plan(plan, year)
    return write_incidents(path, providers, year, plan.seed), providers
