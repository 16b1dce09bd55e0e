"""The dictionary travels with the data: an analyst who opens quality.duckdb or a Parquet
file in any client reads what every table and column means, without the docs site."""

from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.publish.observatories.dictionary import published_docs
from dagster_project.transform.project import manifest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(published_connection):
    return published_connection


def _tables(con) -> list[tuple[str, str | None]]:
    return con.execute(
        "select table_name, comment from duckdb_tables() "
        "where not internal and schema_name = 'main' order by table_name"
    ).fetchall()


def _columns(con, table: str) -> list[tuple[str, str | None, bool]]:
    return con.execute(
        "select column_name, comment, is_nullable from duckdb_columns() "
        "where schema_name = 'main' and table_name = ? order by column_index",
        [table],
    ).fetchall()


def test_every_published_table_and_column_is_described_in_the_file(published):
    tables = _tables(published)
    assert {"publication", "indicator_values", "core_indicators", "suppression_log"} <= {
        t for t, _ in tables
    }
    undescribed = [t for t, comment in tables if not comment]
    undescribed += [
        f"{t}.{c}" for t, _ in tables for c, comment, _ in _columns(published, t) if not comment
    ]
    assert undescribed == [], "described in the models' YAML, so every client shows them"


def test_the_words_are_the_models_own(published):
    """The comment is the description in dbt's YAML, not a second copy that can drift."""
    docs = published_docs(manifest())
    comment = dict(_tables(published))["shmi_values"]
    assert comment == docs["shmi_values"].description
    assert "overdispersion" in comment
    columns = {c: words for c, words, _ in _columns(published, "shmi_values")}
    assert columns["banding"].startswith("NHS Digital's banding")


def test_contract_not_null_columns_are_declared_not_null(published):
    nullable = {c: n for c, _, n in _columns(published, "core_indicators")}
    assert nullable["provider_code"] is False and nullable["financial_year"] is False
    assert nullable["value"] is True, "a withheld value is NULL, so the column must allow it"
    published_nullable = {c: n for c, _, n in _columns(published, "publication")}
    assert published_nullable["publication_id"] is False


def test_each_parquet_file_carries_the_same_words(synthetic_run, published):
    folder = synthetic_run.home.published / "parquet"
    current = folder / (folder / "CURRENT").read_text().strip()
    for table, comment in _tables(published):
        path = current / f"{table}.parquet"
        metadata = dict(
            duckdb.execute(
                "select decode(key), decode(value) from parquet_kv_metadata(?)", [str(path)]
            ).fetchall()
        )
        assert metadata.get("description") == comment, table
        columns = json.loads(metadata["columns"])
        assert columns == {c: words for c, words, _ in _columns(published, table)}, table
