"""Synthetic KH03 bed workbooks and UKHSA mandatory surveillance (HCAI) data-capture exports.

KH03 carries the denominator every rate uses: each provider's occupied general
and acute bed days, written as NHS England does (average beds = bed days / days
in the quarter, so average x days is whole). HCAI counts are drawn per 100,000
of those bed days for all six organisms, split by onset and prior healthcare
exposure as UKHSA's exports split them, with England's row the sum of the
trusts. One trust's C. difficile HOHA and COHA cases run at three times the
common rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl

from dagster_project.synth.organisations import REGIONS
from dagster_project.synth.plan import (
    CELL_Z,
    Check,
    FeedPlan,
    bounded_poisson,
    fy_months,
    fy_start,
    month_days,
    quarter_of_month,
    row_bounds,
    save_workbook,
)

# --- KH03 ---------------------------------------------------------------------------------------

KH03_SHEET = "NHS Trust by Sector"
_SECTOR_LABELS = (
    "Total ",
    "General & Acute",
    "Learning Disabilities",
    "Maternity",
    "Mental Illness",
)
_QUARTER_MONTHS = (("April", "June"), ("July", "September"), ("October", "December"),
                   ("January", "March"))  # fmt: skip


def kh03_file_name(year: str, quarter: int) -> str:
    """`2024-25`, 1 -> `Beds-Open-Overnight-Web_File-Q1-2024-25.xlsx`, as NHS England names it."""
    return f"Beds-Open-Overnight-Web_File-Q{quarter}-{year}.xlsx"


def kh03_period(year: str, quarter: int) -> str:
    """`April to June 2024` ... `January to March 2025`."""
    first, last = _QUARTER_MONTHS[quarter - 1]
    return f"{first} to {last} {fy_start(year) + (quarter == 4)}"


@dataclass
class Beds:
    """Bed days per provider and quarter for one year: (providers, 4, sectors)."""

    available: np.ndarray
    occupied: np.ndarray
    days: np.ndarray  # (4,)


def kh03_beds(plan: FeedPlan, year: str) -> Beds:
    """Whole bed days for each sector; general and acute occupied ones come from the plan."""
    rng = plan.rng(fy_start(year), 43)
    n = len(plan.providers)
    quarter = quarter_of_month()
    days = np.array([month_days(year)[quarter == q].sum() for q in range(4)])
    occupied = np.zeros((n, 4, 5), dtype=np.int64)
    available = np.zeros((n, 4, 5), dtype=np.int64)
    ga = np.stack([plan.bed_days[year][:, quarter == q].sum(axis=1) for q in range(4)], axis=1)
    occupied[:, :, 1] = ga
    available[:, :, 1] = np.ceil(ga / rng.uniform(0.85, 0.95, (n, 4)))
    # Maternity and mental illness beds where the provider runs those services.
    maternity = np.array(["maternity" in plan.settings[c] for c in plan.codes])
    mental = np.array(["mental_health" in plan.settings[c] for c in plan.codes])
    mat_beds = np.round(plan.beds * rng.uniform(0.08, 0.14, n)) * maternity
    mi_beds = np.round(plan.beds * rng.uniform(0.10, 0.30, n)) * mental
    for sector, beds, occupancy in ((3, mat_beds, (0.5, 0.7)), (4, mi_beds, (0.85, 0.95))):
        avail = np.round(beds[:, None] * days[None, :] * rng.uniform(0.97, 1.0, (n, 4)))
        available[:, :, sector] = avail
        occupied[:, :, sector] = np.floor(avail * rng.uniform(*occupancy, (n, 4)))
    available[:, :, 0] = available[:, :, 1:].sum(axis=2)
    occupied[:, :, 0] = occupied[:, :, 1:].sum(axis=2)
    return Beds(available, occupied, days)


def write_kh03(folder: Path, plan: FeedPlan, year: str) -> dict[str, int]:
    """One workbook a quarter; returns file name -> trust rows."""
    beds = kh03_beds(plan, year)
    order = sorted(range(len(plan.providers)), key=lambda i: (_region(plan, i), plan.codes[i]))
    written = {}
    for q in range(4):
        name = kh03_file_name(year, q + 1)
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = KH03_SHEET
        _kh03_sheet(sheet, plan, year, q, beds, order)
        for extra in ("Region by Sector", "Data Quality"):
            book.create_sheet(extra)["B2"] = "Not reproduced in synthetic data."
        save_workbook(book, folder / name)
        written[name] = len(order)
    return written


def _region(plan: FeedPlan, i: int) -> str:
    return plan.providers[i].region_code


def _kh03_sheet(sheet, plan: FeedPlan, year: str, q: int, beds: Beds, order: list[int]) -> None:
    meta = (
        ("Title:", "Average daily number of available and occupied beds open overnight by sector"),
        ("Summary:", "KH03 is the collection of data to monitor available and occupied beds "
                     "open overnight that are consultant led."),
        (None, None),
        ("Period:", kh03_period(year, q + 1)),
        ("Source:", "Synthetic data in the layout of NHS England: SDCS data collection - KH03"),
        ("Basis:", "Provider"),
        ("Published:", "Synthetic"),
        ("Revised:", "Not revised"),
        ("Status:", "Synthetic"),
        ("Contact:", "Not applicable (fictional organisations)"),
    )  # fmt: skip
    for r, (label, value) in enumerate(meta, start=2):
        sheet.cell(r, 2, label)
        sheet.cell(r, 3, value)
    sheet.cell(13, 2, "Provider Level Data")
    sheet.cell(13, 5, len(order))
    for col, group in ((7, "Available"), (13, "Occupied"), (19, "% Occupied")):
        sheet.cell(14, col, group)
        sheet.merge_cells(start_row=14, start_column=col, end_row=14, end_column=col + 4)
    header = ("Year", "Period End", "Region Code", "Org Code", "Org Name")
    for c, label in enumerate(header, start=2):
        sheet.cell(15, c, label)
    for base in (7, 13, 19):
        for k, label in enumerate(_SECTOR_LABELS):
            sheet.cell(15, base + k, label)
    days = int(beds.days[q])
    period_end = _QUARTER_MONTHS[q][1]
    england_available = beds.available[:, q, :].sum(axis=0)
    england_occupied = beds.occupied[:, q, :].sum(axis=0)
    _kh03_row(sheet, 16, (year, period_end, None, None, "England"), england_available,
              england_occupied, days)  # fmt: skip
    for r, i in enumerate(order, start=18):
        p = plan.providers[i]
        ident = (year, period_end, p.region_code, p.code, p.name)
        _kh03_row(sheet, r, ident, beds.available[i, q], beds.occupied[i, q], days)
    sheet.column_dimensions["F"].width = 60


def _kh03_row(sheet, r: int, ident: tuple, available, occupied, days: int) -> None:
    for c, value in enumerate(ident, start=2):
        if value is not None:
            sheet.cell(r, c, value)
    for k in range(5):
        a, o = int(available[k]), int(occupied[k])
        sheet.cell(r, 7 + k, _average(a, days))
        sheet.cell(r, 13 + k, _average(o, days))
        sheet.cell(r, 19 + k, o / a if a else "-")


def _average(bed_days: int, days: int) -> int | float:
    return bed_days // days if bed_days % days == 0 else bed_days / days


# --- HCAI ---------------------------------------------------------------------------------------

HCAI_HEADER = (
    "Collection;Organisation type;Organisation code;Organisation name;PHE Centre;STP;Year;Month;"
    "Metric;Figure;Data signed off;Data changed since last publication?"
)
HOHA, COHA, COIA, COCA, UNKNOWN, NO_INFORMATION = range(6)
_COMPONENTS = 6
_METRICS_COMMON = {
    "Hospital-onset": (HOHA,),
    "Hospital-onset, healthcare associated": (HOHA,),
    "Community-onset, healthcare associated": (COHA,),
    "Community-onset, community associated": (COCA,),
    "No information": (NO_INFORMATION,),
}


@dataclass(frozen=True)
class Organism:
    collection: str  # as UKHSA writes the Collection column
    file_stem: str
    rates: tuple[float, ...]  # per 100,000 occupied G&A bed days: HOHA, COHA, COIA, COCA, ...
    cdi: bool = False
    # MRSA: each case assigned after post infection review (synthetic rule: hospital onset to
    # the trust, community onset to the commissioner, none to a third party).
    assigned: bool = False

    @property
    def metrics(self) -> dict[str, tuple[int, ...]]:
        """Published metric -> the components it adds up (sorted as UKHSA sorts them)."""
        metrics = dict(_METRICS_COMMON)
        community = (COHA, COIA, COCA, NO_INFORMATION) if self.cdi else (
            COHA, COCA, UNKNOWN, NO_INFORMATION)  # fmt: skip
        metrics["Community-onset"] = community
        metrics["Total cases"] = (HOHA, *community)
        if self.cdi:
            metrics["Community-onset, indeterminate association"] = (COIA,)
        else:
            metrics["Unknown 3 months"] = (UNKNOWN,)
        if self.assigned:
            metrics["Trust assigned"] = (HOHA,)
            metrics["CCG assigned"] = community
            metrics["Third party assigned"] = ()
        return dict(sorted(metrics.items()))


# Rates per 100,000 occupied general and acute bed days, roughly England's in the 2020s.
ORGANISMS: tuple[Organism, ...] = (
    Organism("MRSA", "MRSA", (0.8, 0.5, 0.0, 1.0, 0.05, 0.05), assigned=True),
    Organism("MSSA", "MSSA", (10.0, 5.0, 0.0, 17.0, 0.8, 0.3)),
    Organism("E. coli", "Ecoli", (20.0, 17.0, 0.0, 70.0, 3.0, 1.0)),
    Organism("Klebsiella spp.", "Klebsiella", (9.0, 6.0, 0.0, 16.0, 0.8, 0.3)),
    Organism("P. aeruginosa", "Paeruginosa", (4.5, 2.5, 0.0, 4.5, 0.3, 0.1)),
    Organism("C. difficile", "CDI", (14.0, 7.0, 5.0, 13.0, 0.0, 1.0), cdi=True),
)
CDI = ORGANISMS[-1]
HIGH_CDI_RATIO = 3.0
# C. difficile metric names as written, and the metric names hcai.parse_hcai gives them.
CDI_APPORTIONMENT = {
    "Hospital-onset, healthcare associated": "hospital_onset_healthcare_associated",
    "Community-onset, healthcare associated": "community_onset_healthcare_associated",
    "Community-onset, indeterminate association": "community_onset_indeterminate_association",
    "Community-onset, community associated": "community_onset_community_associated",
}


def hcai_file_name(organism: Organism, year: str) -> str:
    """`Ecoli_2024-25.csv`, as UKHSA names its exports (the parser reads the header, not this)."""
    return f"{organism.file_stem}_{year}.csv"


def hcai_counts(plan: FeedPlan, year: str, organism: Organism) -> np.ndarray:
    """Monthly counts (providers, 12, components), nulls bounded, high-CDI trust planted."""
    k = ORGANISMS.index(organism)
    rng = plan.rng(fy_start(year), 50 + k)
    rates = np.tile(np.array(organism.rates), (len(plan.providers), 1))
    planted: list[str] = []
    if organism.cdi:
        rates[plan.index("high_cdi"), [HOHA, COHA]] *= HIGH_CDI_RATIO
        planted = ["high_cdi"]
    mean = plan.bed_days[year][:, :, None] * rates[:, None, :] / 100_000
    bound = row_bounds(plan, planted)
    weights = {
        "hospital_onset": _w(HOHA),
        "trust_apportioned": _w(HOHA, COHA),
        "total": np.ones(_COMPONENTS),
    }
    checks = [Check(w, bound) for w in weights.values()]
    checks.append(Check(weights["hospital_onset"], np.full(len(bound), CELL_Z), quarter_of_month()))
    return bounded_poisson(rng, mean, checks)


def _w(*components: int) -> np.ndarray:
    weights = np.zeros(_COMPONENTS)
    weights[list(components)] = 1
    return weights


def write_hcai(
    path: Path, plan: FeedPlan, year: str, organism: Organism, counts: np.ndarray
) -> int:
    """UKHSA's data-capture export: semicolons, UTF-8 with byte-order mark, CRLF, trusts then
    England, one row per organisation, month and metric; blank records after the data."""
    metrics = organism.metrics
    months = fy_months(year)
    lines = [HCAI_HEADER]
    order = sorted(range(len(plan.providers)), key=lambda i: plan.codes[i])
    for i in order:
        p = plan.providers[i]
        stem = f"{organism.collection};NHS acute trust;{p.code}; {p.place.title()};"
        stem += f"{REGIONS[p.region_code]};"
        for m, (cal_year, month) in enumerate(months):
            for metric, parts in metrics.items():
                figure = int(counts[i, m, list(parts)].sum())
                lines.append(f"{stem};{cal_year};{month};{_cell(metric)};{figure};Yes;No")
    england = counts.sum(axis=0)
    for m, (cal_year, month) in enumerate(months):
        for metric, parts in metrics.items():
            figure = int(england[m, list(parts)].sum())
            lines.append(
                f"{organism.collection};National;ENG; England;National;;{cal_year};{month};"
                f"{_cell(metric)};{figure};N/A;No"
            )
    rows = len(lines) - 1
    lines += [";" * 11] * 3
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return rows


# A trust's synthetic C. difficile objective: this much above the region's trust-attributed
# rate (HOHA + COHA), times its bed days, so only a planted high-CDI trust exceeds it.
OBJECTIVE_HEADROOM = 1.5


def objectives_file_name(year: str) -> str:
    return f"cdi-objectives-{year}.csv"


def write_cdi_objectives(path: Path, plan: FeedPlan, year: str) -> int:
    """NHS England's C. difficile objectives as a table: a title line naming the organism and
    year, then one row per trust; the objective is OBJECTIVE_HEADROOM times the synthetic
    trust-attributed rate times the trust's occupied bed days, rounded up."""
    rate = CDI.rates[HOHA] + CDI.rates[COHA]
    bed_days = plan.bed_days[year].sum(axis=1)
    first = int(year[:4])
    lines = [
        f"Clostridioides difficile infection objectives {first} to {first + 1}",
        "",
        "Organisation code,Organisation name,Financial year,Threshold",
    ]
    for i in sorted(range(len(plan.providers)), key=lambda i: plan.codes[i]):
        p = plan.providers[i]
        objective = math.ceil(OBJECTIVE_HEADROOM * rate * float(bed_days[i]) / 100_000)
        lines.append(f"{p.code},{p.place.title()},{first}/{(first + 1) % 100:02d},{objective}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return len(plan.providers)


def _cell(text: str) -> str:
    return f'"{text}"' if ";" in text else text


def trust_apportioned_rates(plan: FeedPlan, year: str, counts: np.ndarray) -> np.ndarray:
    """C. difficile HOHA + COHA per 100,000 occupied G&A bed days, per provider."""
    cases = counts[:, :, [HOHA, COHA]].sum(axis=(1, 2))
    return cases / plan.bed_days[year].sum(axis=1) * 100_000
