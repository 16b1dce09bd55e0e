"""Friends and Family Test disclosure control exactly as NHS England applies it to its
monthly publication (nhsengland/fft_pipeline, `suppression.py`, which reproduces NHS
England's suppression workbooks).

Per setting and month, organisations form a hierarchy, here ICB -> trust (the provider-level
files this pipeline receives carry each trust's ICB as its parent code; an organisation whose
name lacks both "NHS" and "TRUST" is an independent-sector provider and goes under NHS
England's pseudo-ICB `IS1`). Each level is processed top-down:

1. Siblings are rows with the same parent (every ICB in England is one sibling set). Rows
   with responses are ranked by total responses, smallest first; ties are broken by code
   (NHS England's order for ties is its input order, which its files do not show). A row
   with no responses is never ranked, never suppressed, never picked as next-lowest.
2. Primary: a row with 1 to 4 responses.
3. Secondary: when the rank-1 sibling is primary, the rank-2 sibling (if not itself primary).
4. Cascade, downwards only: under a suppressed parent, the two lowest-ranked children.
   A suppressed child never suppresses its parent.

A suppressed row's answer counts are withheld; its percentages positive and negative are
withheld only when it is primary (NHS England shows them on secondary and cascade rows);
total responses and total eligible are always shown. Pure pandas, no I/O, so the dbt Python
model `int_fft__disclosure` can call it and tests can pin it to worked examples.
"""

from __future__ import annotations

import pandas as pd

ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")
INDEPENDENT_SECTOR = "IS1"
SMALLEST_PUBLISHED = 5  # 1 to 4 responses are suppressed
PRIMARY, SECONDARY, CASCADE = "primary", "secondary", "cascade"


def is_independent(name: object) -> bool:
    """NHS England's test: a name without both "NHS" and "TRUST" is independent sector."""
    text = str(name or "").upper()
    return not ("NHS" in text and "TRUST" in text)


def _rank(frame: pd.DataFrame, parent: str, code: str) -> pd.Series:
    """1, 2, ... by total responses within each parent, smallest first; 0 for no responses."""
    ranked = frame[frame["total_responses"] > 0].sort_values(
        [parent, "total_responses", code], kind="mergesort"
    )
    ranks = ranked.groupby(parent, sort=False).cumcount() + 1
    return ranks.reindex(frame.index, fill_value=0)


def _level(frame: pd.DataFrame, parent: str, code: str, flagged_parents: set) -> pd.Series:
    """The suppression of each row of one level: primary, secondary, cascade or None."""
    rank = _rank(frame, parent, code)
    primary = (frame["total_responses"] > 0) & (frame["total_responses"] < SMALLEST_PUBLISHED)
    first_primary = set(frame.loc[(rank == 1) & primary, parent])
    secondary = (rank == 2) & ~primary & frame[parent].isin(first_primary)
    cascade = rank.isin([1, 2]) & frame[parent].isin(flagged_parents)
    out = pd.Series(None, index=frame.index, dtype="object")
    out[cascade] = CASCADE
    out[secondary] = SECONDARY
    out[primary] = PRIMARY
    return out


def suppress(trusts: pd.DataFrame) -> pd.DataFrame:
    """Trust rows of one setting and month (`provider_code`, `provider_name`, `icb_code`,
    the six answers, `total_responses`, `total_eligible`) -> the ICB rows summed from them
    and the trust rows, each with `level` (`icb` or `provider`), `suppression` and the
    counts and percentages as NHS England publishes them (NULL where suppressed)."""
    rows = trusts.copy()
    independent = rows["provider_name"].map(is_independent)
    rows["icb_code"] = rows["icb_code"].where(~independent, INDEPENDENT_SECTOR)
    rows["icb_code"] = rows["icb_code"].fillna("UNKNOWN")
    counted = [*ANSWERS, "total_responses", "total_eligible"]
    icbs = rows.groupby("icb_code", as_index=False)[counted].sum(min_count=1)
    icbs["england"] = "ENG"
    icbs["suppression"] = _level(icbs, "england", "icb_code", set())
    flagged = set(icbs.loc[icbs["suppression"].notna(), "icb_code"])
    rows["suppression"] = _level(rows, "icb_code", "provider_code", flagged)
    icbs = icbs.drop(columns="england").assign(level="icb", provider_code=icbs["icb_code"])
    published = pd.concat([icbs, rows.assign(level="provider")], ignore_index=True)
    return _published_values(published)


def _published_values(frame: pd.DataFrame) -> pd.DataFrame:
    total = frame["total_responses"].astype("float64")
    answered = total > 0
    positive = (frame["very_good"] + frame["good"]) / total.where(answered) * 100
    negative = (frame["poor"] + frame["very_poor"]) / total.where(answered) * 100
    suppressed = frame["suppression"].notna()
    primary = frame["suppression"] == PRIMARY
    out = frame.copy()
    out["percentage_positive"] = positive.where(~primary)
    out["percentage_negative"] = negative.where(~primary)
    for answer in ANSWERS:
        out[f"published_{answer}"] = frame[answer].astype("Int64").where(~suppressed)
    return out
