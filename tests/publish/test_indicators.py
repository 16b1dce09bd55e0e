"""A figure the document cannot show says why, in the indicator's own terms."""

from __future__ import annotations

import pytest

from dagster_project.publish.document.indicators import missing_reason

RATE = {"min_denominator": None, "denominator_noun": "occupied bed days"}
PROMS = {"min_denominator": 30.0, "denominator_noun": "modelled records"}


@pytest.mark.parametrize(
    ("entry", "values", "reason"),
    [
        (PROMS, {"withheld": "PROMs: joint total suppressed in PartLink"},
         "not published: withheld by disclosure control"),
        (PROMS, {"numerator": None, "denominator": 12, "comparison": "insufficient data"},
         "not published: fewer than 30 modelled records"),
        (RATE, {"numerator": 7, "denominator": None, "comparison": "insufficient data"},
         "not available: no occupied bed days for the whole year"),
        (RATE, None, "not available"),
    ],
    ids=["withheld", "too_few", "no_denominator", "no_row"],
)  # fmt: skip
def test_the_reason_a_figure_is_missing(entry, values, reason):
    assert missing_reason(entry, values) == reason
