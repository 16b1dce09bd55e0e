"""Quantities the suites compare but cannot compute themselves.

GX checks one column or a pair; a score against the sum of twelve items, or an
EQ-5D index against its profile under the UK value set, needs the sum or the
valued profile first. They are computed here, named with a leading underscore,
and never leave validation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.ingest.proms import POST_ITEMS, PRE_ITEMS

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

EQ5D_DIMENSIONS = ("mobility", "self_care", "activity", "discomfort", "anxiety")
_VALUE_SET_DIMENSIONS = (
    "mobility",
    "self_care",
    "usual_activities",
    "pain_discomfort",
    "anxiety_depression",
)


@cache
def eq5d_value_set(seeds_dir: Path = SEEDS_DIR) -> tuple[float, float, np.ndarray]:
    """(constant, level-3 term, decrements[dimension, level]) from the seed table."""
    table = pd.read_csv(seeds_dir / "eq5d_uk_tto_value_set.csv")
    terms = table.set_index("term")["decrement"]
    decrements = np.zeros((5, 4))
    rows = table[table["term"] == "dimension"]
    for dim, level, value in rows[["dimension", "level", "decrement"]].itertuples(index=False):
        decrements[_VALUE_SET_DIMENSIONS.index(dim), int(level)] = float(value)
    return float(terms["constant"]), float(terms["n3"]), decrements


def eq5d_index(profiles: pd.Series, seeds_dir: Path = SEEDS_DIR) -> pd.Series:
    """UK TTO index of 5-digit profiles; NaN where a profile is not five levels of 1-3."""
    constant, n3, decrements = eq5d_value_set(seeds_dir)
    text = profiles.astype("string").fillna("")
    valid = text.str.fullmatch(r"[123]{5}").fillna(False).to_numpy(dtype=bool)
    result = np.full(len(text), np.nan)
    if valid.any():
        chosen = text[valid]
        digits = np.column_stack(
            [chosen.str.slice(i, i + 1).astype(int).to_numpy() for i in range(5)]
        )
        value = 1.0 - constant * (digits > 1).any(axis=1) - n3 * (digits == 3).any(axis=1)
        for d in range(5):
            value -= decrements[d, digits[:, d]]
        result[valid] = np.round(value, 3)
    return pd.Series(result, index=profiles.index)


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


@cache
def collection_periods(seeds_dir: Path = SEEDS_DIR) -> dict[tuple[str, str], pd.Timestamp]:
    """(table, column) -> the first day a feed's dates can fall on (seed feed_periods)."""
    table = pd.read_csv(seeds_dir / "feed_periods.csv", dtype=str)
    return {
        (t, c): pd.Timestamp(e)
        for t, c, e in table[["table_name", "column_name", "earliest"]].itertuples(index=False)
    }


def _in_period(table: str, column: str, dates: pd.Series) -> pd.Series:
    """True where a date falls between the feed's first collection and today: nothing is
    dated before its collection began or after the run (an incident `2099-01-01` would
    otherwise make a financial year 2099-00). Blank where the date is unknown."""
    earliest = collection_periods()[(table, column)]
    today = pd.Timestamp.now().normalize()
    return ((dates >= earliest) & (dates <= today)).where(dates.notna()).astype("boolean")


def _present(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """True where every one of `columns` holds something (a suppression mark counts)."""
    return frame[columns].notna().all(axis=1)


def add_proms_record_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for stage, items in (("pre", PRE_ITEMS), ("post", POST_ITEMS)):
        values = out[items].apply(_numbers)
        answered = values.isin([0, 1, 2, 3, 4]).all(axis=1)
        out[f"_{stage}_oxford_items_complete"] = answered
        out[f"_{stage}_oxford_score_present"] = out[f"{stage}_oxford_score"].notna()
        out[f"_{stage}_oxford_item_sum"] = values.sum(axis=1).where(answered)
        out[f"_{stage}_oxford_score_value"] = _numbers(out[f"{stage}_oxford_score"])

        levels = [out[f"{stage}_eq5d_{d}"].astype("string").fillna("?") for d in EQ5D_DIMENSIONS]
        profile = out[f"{stage}_eq5d_profile"]
        out[f"_{stage}_eq5d_profile_from_dimensions"] = (
            levels[0] + levels[1] + levels[2] + levels[3] + levels[4]
        )
        out[f"_{stage}_eq5d_profile_complete"] = (
            profile.astype("string").str.fullmatch(r"[123]{5}").fillna(False).astype(bool)
        )
        out[f"_{stage}_eq5d_index_present"] = out[f"{stage}_eq5d_index"].notna()
        index_value = _numbers(out[f"{stage}_eq5d_index"])
        out[f"_{stage}_eq5d_index_value"] = index_value
        out[f"_{stage}_eq5d_index_error"] = (index_value - eq5d_index(profile)).abs()
    return out


def add_participation_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("hes_procedures", "pre_op_questionnaires", "participation_rate"):
        out[f"_{column}_value"] = _numbers(out[column])
    return out


def add_shmi_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("observed", "expected"):
        out[f"_{column}_value"] = _numbers(out[column])
    out["_deaths_within_spells"] = _not_greater(out, "observed", "spells")
    # The twelve months a row covers, however the file named them.
    out["_period"] = out["period_end"].where(out["period_end"].notna(), out["publication"])
    return out


def _sum_equals(frame: pd.DataFrame, parts: list[str], total: str) -> pd.Series:
    """True where the parts add up to the total; blank where any figure is not a number."""
    numbers = frame[[*parts, total]].apply(_numbers)
    complete = numbers.notna().all(axis=1)
    equal = numbers[parts].sum(axis=1) == numbers[total]
    return equal.where(complete).astype("boolean")


def _not_greater(frame: pd.DataFrame, part: str, whole: str) -> pd.Series:
    numbers = frame[[part, whole]].apply(_numbers)
    complete = numbers.notna().all(axis=1)
    return (numbers[part] <= numbers[whole]).where(complete).astype("boolean")


def add_hcai_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["_month_in_period"] = _in_period("hcai_counts", "month", _timestamps(out["month"]))
    return out


def add_fft_checks(frame: pd.DataFrame) -> pd.DataFrame:
    from dagster_project.ingest.layouts import FFT_ANSWERS

    out = frame.copy()
    out["_responses_complete"] = _present(out, [*FFT_ANSWERS, "total_responses"])
    out["_answers_sum_to_total"] = _sum_equals(out, list(FFT_ANSWERS), "total_responses")
    out["_month_in_period"] = _in_period("fft_responses", "month", _timestamps(out["month"]))
    out["_responses_within_eligible"] = _not_greater(out, "total_responses", "total_eligible")
    return out


def add_palliative_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["_numerator_within_denominator"] = _not_greater(out, "numerator", "denominator")
    value = _numbers(out["value"])
    out["_value_is_a_percentage"] = value.between(0, 100).where(value.notna()).astype("boolean")
    return out


def add_vte_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["_assessed_within_admitted"] = _not_greater(out, "risk_assessed", "admitted")
    out["_quarter_in_period"] = _in_period("vte_assessments", "quarter", _quarter_start(out))
    return out


def _quarter_start(frame: pd.DataFrame) -> pd.Series:
    """`2024-25 Q1` -> 2024-04-01; NaT for a label of another shape (its own rule says so)."""
    parts = frame["quarter"].astype("string").str.extract(r"^(\d{4})-\d{2} Q([1-4])$")
    year, quarter = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
    month = (quarter * 3 + 1).where(quarter < 4, 1)
    year = year.where(quarter < 4, year + 1)
    text = year.astype("Int64").astype("string") + "-" + month.astype("Int64").astype("string")
    return pd.to_datetime(text + "-01", errors="coerce", format="%Y-%m-%d")


def add_readmission_checks(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["_readmissions_within_discharges"] = _not_greater(out, "numerator", "denominator")
    out["_lower_ci_within_value"] = _not_greater(out, "lower_ci", "indicator_value")
    out["_value_within_upper_ci"] = _not_greater(out, "indicator_value", "upper_ci")
    value = _numbers(out["indicator_value"])
    out["_value_is_a_percentage"] = value.between(0, 100).where(value.notna()).astype("boolean")
    return out


def _timestamps(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", format="mixed")


def add_incident_checks(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates shaped `YYYY-MM-DD` must also be days of the calendar (`2024-02-30` is not):
    `_<column>_real` is False for those, blank where the value is blank or misshapen (the
    shape rule reports those)."""
    out = frame.copy()
    incident, reported = _timestamps(out["incident_date"]), _timestamps(out["reported_date"])
    for column, parsed in (("incident_date", incident), ("reported_date", reported)):
        shaped = out[column].astype("string").str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        out[f"_{column}_real"] = parsed.notna().where(shaped.fillna(False)).astype("boolean")
    known = incident.notna() & reported.notna()
    out["_reported_after_incident"] = (reported >= incident).where(known).astype("boolean")
    out["_incident_date_in_period"] = _in_period("incidents", "incident_date", incident)
    out["_reported_date_in_period"] = _in_period("incidents", "incident_date", reported)
    return out


def add_hip_fracture_checks(frame: pd.DataFrame) -> pd.DataFrame:
    """Times shaped `YYYY-MM-DD HH:MM` must also be real moments (`2024-08-01 25:00` is not):
    `_<column>_real` is False for those, blank where the value is blank or misshapen."""
    out = frame.copy()
    shape = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?"
    times = {c: _timestamps(out[c]) for c in ("arrival", "surgery", "orthogeriatric_assessment")}
    for column, parsed in times.items():
        shaped = out[column].astype("string").str.fullmatch(shape).fillna(False)
        out[f"_{column}_real"] = parsed.notna().where(shaped).astype("boolean")
    arrival, surgery = times["arrival"], times["surgery"]
    known = arrival.notna() & surgery.notna()
    out["_surgery_after_arrival"] = (surgery >= arrival).where(known).astype("boolean")
    out["_arrival_in_period"] = _in_period("hip_fracture_spells", "arrival", arrival)
    return out
