"""A few rows of a table as Markdown, for an asset's page in the UI.

A data engineer looking at a materialisation wants to see the data at a glance
(are the codes, months and counts what they expected?) without opening files.
Previews are read with DuckDB straight from Parquet or the publication, a
handful of rows, so they cost nothing next to the step they describe.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

PREVIEW_ROWS = 5


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    """Rows as a Markdown table, with pipes and line breaks in cells escaped."""

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")[:60]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def parquet_preview(files: list[Path], drop: tuple[str, ...] = ()) -> dg.MetadataValue:
    """The first rows of `files` read together, without the bookkeeping columns in `drop`."""
    if not files:
        return dg.MetadataValue.md("No rows.")
    con = duckdb.connect()
    try:
        cursor = con.execute(
            "select * from read_parquet(?, union_by_name = true) limit ?",
            [[str(f) for f in files], PREVIEW_ROWS],
        )
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    keep = [i for i, c in enumerate(columns) if c not in drop]
    return dg.MetadataValue.md(
        markdown_table([columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows])
        if rows
        else "No rows."
    )


def table_preview(con: duckdb.DuckDBPyConnection, table: str) -> dg.MetadataValue:
    """The first rows of a table in an open (read-only) connection, in a stable order."""
    cursor = con.execute(f'select * from "{table}" order by all limit {PREVIEW_ROWS}')
    columns = [d[0] for d in cursor.description]
    return dg.MetadataValue.md(markdown_table(columns, cursor.fetchall()))
