"""NHS England's FFT suppression on worked examples (nhsengland/fft_pipeline's rules: primary
1 to 4 responses, the next-lowest sibling, the two lowest children of a suppressed parent)."""

from __future__ import annotations

import pandas as pd
import pytest

from dagster_project.transform.fft_disclosure import ANSWERS, is_independent, suppress


def _trusts(*rows: tuple[str, str, int]) -> pd.DataFrame:
    """(ICB, trust, total responses): every response 'very good' but one 'poor' where any."""
    frame = pd.DataFrame(rows, columns=["icb_code", "provider_code", "total_responses"])
    frame["provider_name"] = frame["provider_code"] + " NHS TRUST"
    for answer in ANSWERS:
        frame[answer] = 0
    frame["poor"] = (frame["total_responses"] > 0).astype(int)
    frame["very_good"] = frame["total_responses"] - frame["poor"]
    frame["total_eligible"] = frame["total_responses"] * 4
    return frame


def _flags(result: pd.DataFrame, level: str) -> dict[str, str | None]:
    rows = result[result["level"] == level]
    pairs = zip(rows["provider_code"], rows["suppression"], strict=True)
    return {code: (None if pd.isna(flag) else flag) for code, flag in pairs}


def test_primary_and_the_next_lowest_sibling_within_one_icb():
    result = suppress(_trusts(
        ("Q01", "T1", 3), ("Q01", "T2", 40), ("Q01", "T3", 100),
        ("Q02", "T4", 0), ("Q02", "T5", 12), ("Q02", "T6", 7), ("Q03", "T7", 250),
    ))  # fmt: skip
    assert _flags(result, "icb") == {"Q01": None, "Q02": None, "Q03": None}
    assert _flags(result, "provider") == {
        "T1": "primary", "T2": "secondary", "T3": None,
        "T4": None,  # no responses: never suppressed, never the next-lowest
        "T5": None, "T6": None,  # the smallest (7) is not 1 to 4
        "T7": None,
    }  # fmt: skip
    t1, t2 = (result[result["provider_code"] == c].iloc[0] for c in ("T1", "T2"))
    assert pd.isna(t1["published_very_good"]) and pd.isna(t1["percentage_positive"])
    assert t1["total_responses"] == 3 and t1["total_eligible"] == 12  # totals always shown
    assert pd.isna(t2["published_poor"])
    assert t2["percentage_positive"] == pytest.approx(39 / 40 * 100)  # shown on secondary rows
    t4 = result[result["provider_code"] == "T4"].iloc[0]
    assert pd.isna(t4["percentage_positive"]) and t4["published_very_good"] == 0


def test_a_tiny_icb_suppresses_the_next_icb_in_england_and_cascades_down():
    result = suppress(_trusts(
        ("Q10", "T10", 2), ("Q11", "T11", 350), ("Q11", "T12", 500), ("Q12", "T13", 1000),
    ))  # fmt: skip
    assert _flags(result, "icb") == {"Q10": "primary", "Q11": "secondary", "Q12": None}
    assert _flags(result, "provider") == {
        "T10": "primary", "T11": "cascade", "T12": "cascade", "T13": None,
    }  # fmt: skip
    t11 = result[result["provider_code"] == "T11"].iloc[0]
    assert pd.isna(t11["published_very_good"]) and t11["percentage_positive"] > 99


def test_only_the_second_lowest_and_never_upwards():
    result = suppress(_trusts(
        ("Q20", "A", 2), ("Q20", "B", 3), ("Q20", "C", 9), ("Q20", "D", 0), ("Q21", "E", 20),
    ))  # fmt: skip
    # Two siblings of 1 to 4: both primary, and the third is not taken as next-lowest.
    assert _flags(result, "provider") == {"A": "primary", "B": "primary", "C": None,
                                          "D": None, "E": None}  # fmt: skip
    assert _flags(result, "icb") == {"Q20": None, "Q21": None}  # 14 responses: shown


def test_ties_are_broken_by_code_and_independent_providers_form_their_own_icb():
    frame = _trusts(("Q30", "RB2", 3), ("Q30", "RA9", 60), ("Q30", "RA1", 60), ("Q30", "NT4", 2))
    frame.loc[frame["provider_code"] == "NT4", "provider_name"] = "Spire Healthcare Ltd"
    result = suppress(frame)
    # RA1 and RA9 tie on 60: RA1, the lower code, is the next-lowest.
    assert _flags(result, "provider") == {
        "RB2": "primary", "RA9": None, "RA1": "secondary", "NT4": "primary",
    }  # fmt: skip
    assert result.loc[result["provider_code"] == "NT4", "icb_code"].item() == "IS1"
    # The pseudo-ICB IS1 (2 responses) is a sibling of the real ICBs: primary, and Q30 next.
    assert _flags(result, "icb") == {"IS1": "primary", "Q30": "secondary"}
    assert is_independent("Practice Plus Group") and not is_independent("Leeds NHS Trust")
