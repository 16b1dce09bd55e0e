"""One declaration per feed: everything else that names a raw table agrees with it."""

from __future__ import annotations

import re

import pytest

from dagster_project.feeds.catalogue import FEEDS, TABLES
from dagster_project.feeds.dbt_sources import generated
from dagster_project.validation.suites import load_suite


@pytest.mark.parametrize("path", sorted(generated(), key=str), ids=lambda p: p.name)
def test_the_dbt_files_generated_from_the_declarations_are_up_to_date(path):
    assert path.read_text() == generated()[path], (
        f"{path.name} differs from the feed declarations: run "
        "`python -m dagster_project.feeds.dbt_sources` and commit the result"
    )


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_a_suite_checks_is_declared_or_derived(table):
    spec = TABLES[table]
    for suite_name in set(spec.suites.values()):
        suite = load_suite(suite_name)
        unknown = [c for c in suite.columns() if c not in spec.schema and not c.startswith("_")]
        assert not unknown, f"suite {suite_name} checks columns {table} does not declare"
        grouped = {c for group in suite.groups.values() for c in group}
        assert grouped <= set(spec.columns), f"suite {suite_name} sets aside undeclared columns"


@pytest.mark.parametrize("table", sorted(TABLES))
def test_supersession_and_code_columns_are_declared(table):
    spec = TABLES[table]
    assert spec.code_column in spec.columns
    assert set(spec.supersede_by or ()) <= set(spec.schema)


def test_every_table_belongs_to_one_feed_and_every_feed_has_a_staging_model():
    names = [t.name for feed in FEEDS.values() for t in feed.tables]
    assert len(names) == len(set(names))
    from dagster_project.feeds.dbt_sources import DBT_DIR

    staging = "\n".join(p.read_text() for p in (DBT_DIR / "models" / "staging").glob("*.sql"))
    read = set(re.findall(r"source\('raw',\s*'(\w+)'\)", staging))
    assert read == set(names), "each raw table is read by a staging model, and only those"


@pytest.mark.parametrize("suite", sorted({s for t in TABLES.values() for s in t.suites.values()}))
def test_every_suite_builds_in_great_expectations(suite):
    """A malformed rule fails here, not in the middle of a run."""
    from dagster_project.validation.suites import _gx_suite

    document = load_suite(suite)
    assert len(_gx_suite(document).expectations) == len(document.document["expectations"])
