"""Synthetic patient and staff experience: Friends and Family Test, inpatient and staff surveys.

The Friends and Family Test (FFT) is written as NHS England publishes it at
organisation level: one file per setting and month, six answer counts per
provider, with the eligible population for inpatients and A&E only. Small
settings (ambulance, mental health) give counts of 1 to 4 as real ones do, for
disclosure control to work on. One month of maternity a year comes as the
workbook NHS England publishes rather than a CSV.

One provider gives poor experience: about 80% of its inpatients answer good or
very good against about 94% elsewhere, and its inpatient survey scores on the
five responsiveness questions are well below everyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl

from dagster_project.synth.plan import (
    CELL_Z,
    MONTH_NAMES,
    NULL_Z,
    SETTINGS,
    FeedPlan,
    fy_months,
    fy_start,
    row_bounds,
    save_workbook,
    write_csv_rows,
)

FFT_HEADER = (
    "Yearnumber", "Periodname", "Org code", "Org name", "Parent org code", "1 Very Good SUM",
    "2 Good SUM", "3 Neither good nor poor SUM", "4 Poor SUM", "5 Very poor SUM",
    "6 Dont Know SUM", "Total Responses", "Total Eligible",
)  # fmt: skip
FFT_XLSX_SHEET = "Parent & Self Trusts - Organisa"  # NHS England's name, cut to 31 characters
FFT_XLSX_SETTING = "maternity"
XLSX_MONTH = 8


@dataclass(frozen=True)
class Setting:
    key: str
    title: str
    shares: tuple[float, ...]  # very good, good, neither, poor, very poor, don't know
    volume: float  # responses (or eligible people, where counted) per occupied G&A bed day
    response_rate: tuple[float, float] | None  # where the eligible population is published

    @property
    def positive(self) -> float:
        return self.shares[0] + self.shares[1]


FFT_SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("inpatient", "Inpatient", (0.75, 0.19, 0.025, 0.013, 0.012, 0.01), 1 / 4.5,
                (0.15, 0.35)),
        Setting("ae", "A&E", (0.62, 0.19, 0.06, 0.045, 0.07, 0.015), 1.9, (0.08, 0.18)),
        Setting("maternity", "Maternity", (0.78, 0.15, 0.03, 0.015, 0.015, 0.01), 0.012, None),
        Setting("outpatient", "Outpatient", (0.76, 0.18, 0.028, 0.012, 0.012, 0.008), 0.35, None),
        Setting("community", "Community", (0.78, 0.16, 0.025, 0.012, 0.013, 0.01), 0.03, None),
        Setting("mental_health", "Mental health", (0.6, 0.26, 0.06, 0.03, 0.03, 0.02), 0.004,
                None),
        Setting("ambulance", "Ambulance", (0.75, 0.15, 0.03, 0.02, 0.03, 0.02), 0.0012, None),
    )
}  # fmt: skip
POOR_INPATIENT_SHARES = (0.55, 0.25, 0.08, 0.05, 0.05, 0.02)  # 80% good or very good


def fft_file_name(setting: str, year: int, month: int, suffix: str = "csv") -> str:
    return f"fft-{setting}-{year:04d}-{month:02d}.{suffix}"


def year_number(year: str) -> str:
    """`2024-25` -> `2024_25`."""
    return year.replace("-", "_")


@dataclass
class FftYear:
    """One setting's year: who reports it, and their monthly counts."""

    setting: Setting
    rows: list[int]  # provider indexes, in the order written
    counts: np.ndarray  # (rows, 12, 6)
    eligible: np.ndarray | None  # (rows, 12)


def fft_year(plan: FeedPlan, year: str, setting: Setting) -> FftYear:
    k = SETTINGS.index(setting.key)
    rng = plan.rng(fy_start(year), 60 + k)
    rows = [i for i, c in enumerate(plan.codes) if setting.key in plan.settings[c]]
    bed_days = plan.bed_days[year][rows].astype(float)
    eligible = None
    if setting.response_rate:
        eligible = rng.poisson(bed_days * setting.volume)
        rate = rng.uniform(*setting.response_rate, len(rows))
        responses = rng.binomial(eligible, rate[:, None])
    else:
        responses = rng.poisson(bed_days * setting.volume * rng.uniform(0.7, 1.3, (len(rows), 1)))
    shares = np.tile(np.array(setting.shares), (len(rows), 1))
    planted: list[str] = []
    if setting.key == "inpatient":
        poor = plan.index("poor_experience")
        if poor in rows:
            shares[rows.index(poor)] = POOR_INPATIENT_SHARES
            planted = ["poor_experience"]
    bound = row_bounds(plan, planted)[rows]
    counts = _bounded_multinomial(rng, responses, shares, bound)
    return FftYear(setting, rows, counts, eligible)


def _bounded_multinomial(
    rng: np.random.Generator, n: np.ndarray, shares: np.ndarray, bound: np.ndarray
) -> np.ndarray:
    """Answer counts whose good-or-very-good share sits within `bound` standard errors of the
    expected share over the year, and within CELL_Z in every month; rows re-drawn whole."""
    p = shares[:, :2].sum(axis=1)
    pvals = np.broadcast_to(shares[:, None, :], (*n.shape, shares.shape[1]))
    counts = rng.multinomial(n, pvals)

    def z(positive: np.ndarray, total: np.ndarray, rate: np.ndarray) -> np.ndarray:
        var = total * rate * (1 - rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(var > 0, (positive - total * rate) / np.sqrt(var), 0.0)

    for _ in range(2000):
        positive = counts[:, :, :2].sum(axis=2)
        year_z = z(positive.sum(axis=1), n.sum(axis=1), p)
        month_z = z(positive, n, p[:, None])
        bad = (np.abs(year_z) > bound) | (np.abs(month_z) > CELL_Z).any(axis=1)
        if not bad.any():
            return counts
        counts[bad] = rng.multinomial(n[bad], pvals[bad])
    raise RuntimeError("could not draw FFT counts within bounds")  # pragma: no cover


def xlsx_month(year: str) -> tuple[int, int]:
    """The (calendar year, month) whose maternity FFT comes as a workbook: August, every year
    (fixed, so every seed writes the same file names)."""
    return fy_start(year), XLSX_MONTH


def write_fft(folder: Path, plan: FeedPlan, year: str) -> tuple[dict[str, int], dict]:
    """Every setting-month of a year; returns file -> rows, and per-setting totals for truth."""
    written: dict[str, int] = {}
    summary: dict[str, dict] = {}
    workbook_month = xlsx_month(year)
    for setting in FFT_SETTINGS.values():
        data = fft_year(plan, year, setting)
        order = sorted(
            range(len(data.rows)),
            key=lambda r: (plan.providers[data.rows[r]].icb_code, plan.codes[data.rows[r]]),
        )
        for m, (cal_year, month) in enumerate(fy_months(year)):
            rows = [_fft_row(plan, year, data, r, m, month) for r in order]
            if setting.key == FFT_XLSX_SETTING and (cal_year, month) == workbook_month:
                name = fft_file_name(setting.key, cal_year, month, "xlsx")
                _write_fft_workbook(folder / name, setting, cal_year, month, rows)
            else:
                name = fft_file_name(setting.key, cal_year, month)
                write_csv_rows(folder / name, FFT_HEADER, rows)
            written[name] = len(rows)
        positive = data.counts[:, :, :2].sum(axis=(1, 2))
        total = data.counts.sum(axis=(1, 2))
        summary[setting.key] = {
            plan.codes[i]: {"responses": int(total[r]), "positive": int(positive[r])}
            for r, i in enumerate(data.rows)
        }
    return written, summary


def _fft_row(plan: FeedPlan, year: str, data: FftYear, r: int, m: int, month: int) -> list:
    p = plan.providers[data.rows[r]]
    counts = [int(c) for c in data.counts[r, m]]
    eligible = "" if data.eligible is None else int(data.eligible[r, m])
    return [
        year_number(year), MONTH_NAMES[month - 1], p.code, p.name, p.icb_code,
        *counts, sum(counts), eligible,
    ]  # fmt: skip


def _write_fft_workbook(path: Path, setting: Setting, year: int, month: int, rows: list) -> None:
    """NHS England's organisation-level workbook: title, period, a blank row, the header, the
    data, and a note under it."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = FFT_XLSX_SHEET
    sheet.append([f"Friends and Family Test: {setting.title} - Organisation level data"])
    sheet.append(["Period:", f"{MONTH_NAMES[month - 1].title()} {year}"])
    sheet.append([])
    sheet.append(list(FFT_HEADER))
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    sheet.append([])
    sheet.append(["Source: synthetic"])
    save_workbook(book, path)


# --- surveys ------------------------------------------------------------------------------------

INPATIENT_HEADER = ("Organisation code", "Survey year", "Q1", "Q2", "Q3", "Q4", "Q5")
STAFF_HEADER = ("Organisation code", "Survey year", "Recommend care")
# The five questions behind "responsiveness to inpatients' personal needs", scored 0-100.
SURVEY_QUESTIONS = (
    ("Q1", "Involved as much as you wanted to be in decisions about your care and treatment", 72.5),
    ("Q2", "Found someone on the hospital staff to talk to about worries and fears", 55.0),
    ("Q3", "Given enough privacy when discussing your condition or treatment", 84.5),
    ("Q4", "Told about medication side effects to watch for when you went home", 45.5),
    ("Q5", "Told who to contact if you were worried about your condition after leaving", 77.0),
)
QUESTION_SD = 2.5  # between trusts, each question
RESPONSIVENESS_SD = 2.0  # between trusts, the average of the five
POOR_SURVEY_SHIFT = -12.0  # points on every question for the poor-experience provider
STAFF_RECOMMEND = 63.0
STAFF_SD = 5.0


def survey_year(year: str) -> int:
    """The survey of calendar year N belongs to financial year N to N+1."""
    return fy_start(year)


def inpatient_survey_file_name(year: str) -> str:
    return f"inpatient-survey-{survey_year(year)}.csv"


def staff_survey_file_name(year: str) -> str:
    return f"staff-survey-{survey_year(year)}.csv"


def inpatient_scores(plan: FeedPlan, year: str) -> np.ndarray:
    """(providers, 5) scores, one decimal; nulls within NULL_Z on every question and on the
    average, the poor-experience provider POOR_SURVEY_SHIFT below on each."""
    rng = plan.rng(fy_start(year), 70)
    n = len(plan.providers)
    bound = row_bounds(plan, ["poor_experience"])
    z = rng.normal(0, 1, (n, 5))
    for _ in range(2000):
        composite = z.mean(axis=1) * QUESTION_SD / RESPONSIVENESS_SD
        bad = (np.abs(z) > bound[:, None]).any(axis=1) | (np.abs(composite) > bound)
        if not bad.any():
            break
        z[bad] = rng.normal(0, 1, (int(bad.sum()), 5))
    national = np.array([q[2] for q in SURVEY_QUESTIONS])
    shift = np.where(plan.is_role("poor_experience"), POOR_SURVEY_SHIFT, 0.0)
    return np.clip(np.round(national + shift[:, None] + QUESTION_SD * z, 1), 0, 100)


def staff_scores(plan: FeedPlan, year: str) -> np.ndarray:
    rng = plan.rng(fy_start(year), 71)
    z = rng.normal(0, 1, len(plan.providers))
    for _ in range(2000):
        bad = np.abs(z) > NULL_Z
        if not bad.any():
            break
        z[bad] = rng.normal(0, 1, int(bad.sum()))
    return np.round(STAFF_RECOMMEND + STAFF_SD * z, 1)


def write_inpatient_survey(path: Path, plan: FeedPlan, year: str, scores: np.ndarray) -> int:
    rows = [
        [p.code, survey_year(year), *(f"{v:.1f}" for v in scores[i])]
        for i, p in enumerate(plan.providers)
    ]
    return write_csv_rows(path, INPATIENT_HEADER, rows)


def write_staff_survey(path: Path, plan: FeedPlan, year: str, scores: np.ndarray) -> int:
    rows = [[p.code, survey_year(year), f"{scores[i]:.1f}"] for i, p in enumerate(plan.providers)]
    return write_csv_rows(path, STAFF_HEADER, rows)
