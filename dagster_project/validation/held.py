"""What the home's quarantine holds, and why: per table, source file and rule.

Validation writes every row or measure it sets aside to
`quarantine/<table>/<file key>.parquet` with the rule, reason and action. A
data engineer asking "what is held back, and what do I tell the publisher?"
wants those files summed up, not opened one by one; DuckDB reads them all in
one query, without loading them into memory first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.home import Home
from dagster_project.publish.observatories.query import QueryResult

COLUMNS = ["table_name", "source_file", "rule", "rows_held", "reason", "action"]


def quarantine_files(home: Home, tables: set[str] | None = None) -> list[Path]:
    """Every quarantine Parquet with rows in it could hold, for the named tables or all."""
    files = []
    for path in sorted(home.quarantine.glob("*/*.parquet")):
        table = path.parent.name
        if path.name.startswith("_") or table.startswith("_"):
            continue  # `_empty.parquet` only gives dbt the schema
        if tables is None or table in tables:
            files.append(path)
    return files


def held_summary(home: Home, tables: set[str] | None = None) -> QueryResult:
    """Rows held per table, source file and rule, with the rule's reason and action."""
    files = quarantine_files(home, tables)
    if not files:
        return QueryResult(columns=list(COLUMNS), rows=[])
    con = duckdb.connect(":memory:")
    try:
        parts = []
        params: list[object] = []
        for table in sorted({f.parent.name for f in files}):
            parts.append("select ? as table_name, * from read_parquet(?, union_by_name = true)")
            params.extend([table, [str(f) for f in files if f.parent.name == table]])
        cursor = con.execute(
            f"""
            select table_name, source_file, rule, count(*) as rows_held,
                   string_agg(distinct reason, '; ' order by reason) as reason,
                   string_agg(distinct action, '; ' order by action) as action
            from ({" union all by name ".join(parts)})
            group by table_name, source_file, rule
            order by table_name, source_file, rule
            """,
            params,
        )
        return QueryResult(columns=list(COLUMNS), rows=cursor.fetchall())
    finally:
        con.close()
