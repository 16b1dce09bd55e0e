"""The data dictionary carried inside the publication itself.

Analysts open `quality.duckdb` in the DuckDB CLI, R, Python or Power BI, and the
Parquet files in whatever reads Parquet; none of them sees dbt's documentation
site. So each published table and column takes its description from the dbt
models' YAML (through dbt's manifest, the one place they are written) as a
DuckDB comment, and each Parquet file carries the same words in its key-value
metadata (`description`, and `columns` as JSON). Columns a model's contract
declares not null are declared NOT NULL in the file too, since `create table as`
keeps types but not constraints. The `publication` table is written by the
publish step, not dbt, so its words are here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "published"


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str] = field(default_factory=dict)
    not_null: frozenset[str] = frozenset()


PUBLICATION_DOC = TableDoc(
    description=(
        "This publication: when it was built, by which version of the pipeline, from which "
        "input files (with their checksums), and how many rows each published table holds. "
        "One row per published table."
    ),
    columns={
        "publication_id": "The publication's name: when it was published (UTC) and a "
        "fingerprint of its input files.",
        "published_at": "When the publication was built.",
        "pipeline_version": "Version of the pipeline that built it.",
        "table_name": "A published table.",
        "row_count": "Rows in that table.",
        "input_files": "Every source file behind the publication, as JSON: the raw table it "
        "was validated into, its name as delivered and its SHA-256 checksum.",
    },
    not_null=frozenset({"publication_id", "published_at", "pipeline_version", "table_name"}),
)


def _words(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def published_docs(manifest_path: Path) -> dict[str, TableDoc]:
    """Each published model's description, its columns' and its not-null columns."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    docs: dict[str, TableDoc] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model":
            continue
        if node.get("config", {}).get("schema") != PUBLISHED_SCHEMA:
            continue
        columns = node.get("columns", {})
        docs[node["alias"] or node["name"]] = TableDoc(
            description=_words(node.get("description")),
            columns={name: _words(c.get("description")) for name, c in columns.items()},
            not_null=frozenset(
                name
                for name, c in columns.items()
                if any(k.get("type") == "not_null" for k in c.get("constraints", []))
            ),
        )
    docs["publication"] = PUBLICATION_DOC
    return docs


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = 'main' "
        "and table_name = ? order by column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def write_comments(con: duckdb.DuckDBPyConnection, table: str, doc: TableDoc | None) -> None:
    """Comment the table and its columns, and declare its contract's not-null columns."""
    if doc is None:
        return
    if doc.description:
        con.execute(f'comment on table main."{table}" is {_literal(doc.description)}')
    for column in _existing_columns(con, table):
        words = doc.columns.get(column)
        if words:
            con.execute(f'comment on column main."{table}"."{column}" is {_literal(words)}')
        if column in doc.not_null:
            con.execute(f'alter table main."{table}" alter column "{column}" set not null')


def parquet_metadata(con: duckdb.DuckDBPyConnection, table: str, doc: TableDoc | None) -> str:
    """The `KV_METADATA` option of a Parquet COPY: the same words as the comments."""
    if doc is None:
        return ""
    columns = {c: doc.columns[c] for c in _existing_columns(con, table) if doc.columns.get(c)}
    pairs = {"description": doc.description, "columns": json.dumps(columns, ensure_ascii=False)}
    body = ", ".join(f"{key}: {_literal(value)}" for key, value in pairs.items())
    return f", kv_metadata {{{body}}}"
