"""Every indicator carries its owner's definition, and the methodology page shows exactly it."""

from __future__ import annotations

import csv

import pytest

from dagster_project.transform import methodology_table

ROWS = list(csv.DictReader(methodology_table.SEED.open(newline="", encoding="utf-8")))
DEFINITION = [c for c, _ in methodology_table.COLUMNS[1:]]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["indicator_code"])
def test_every_indicator_names_its_owners_definition_in_full(row):
    empty = [c for c in DEFINITION if not row[c].strip()]
    assert not empty, f"{row['indicator_code']} lacks {empty}"


def test_the_methodology_page_holds_the_catalogue_as_it_is():
    page = methodology_table.PAGE.read_text(encoding="utf-8")
    assert page == methodology_table.rewritten(page), (
        "docs/methodology.md is out of date: run python -m dagster_project.transform."
        "methodology_table"
    )


def test_comparisons_follow_each_owner():
    by_code = {r["indicator_code"]: r for r in ROWS}
    assert by_code["readmission_30d_16plus_pct"]["method"] == "published_interval"
    assert "30 days" in by_code["readmission_30d_16plus_pct"]["indicator_name"]
    assert by_code["incident_rate"]["compared_within"] == "cluster"
    assert "assigned to the trust" in by_code["mrsa_count"]["indicator_name"]
    assert not any(code.startswith("readmission_28d") for code in by_code)
