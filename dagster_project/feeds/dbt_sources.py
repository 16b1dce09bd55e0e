"""The dbt side of the feed declarations, generated so it can never drift from them.

dbt reads the raw tables as sources (`models/staging/_sources.yml`) and the data-quality
model lists every raw table with its feed and organisation-code column (the macro
`raw_tables()`, `macros/raw_tables.sql`). Both files are written from `FEEDS` by

    python -m dagster_project.feeds.dbt_sources

and committed; a test fails when either differs from what this module would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_project.feeds.catalogue import FEEDS

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
SOURCES = DBT_DIR / "models" / "staging" / "_sources.yml"
MACRO = DBT_DIR / "macros" / "raw_tables.sql"

_DBT_TYPES = {
    "string": "varchar",
    "Int16": "smallint",
    "Int64": "bigint",
    "Float64": "double",
    "boolean": "boolean",
}
_HEADER = "# Generated from dagster_project/feeds by `python -m dagster_project.feeds.dbt_sources`."


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_sources() -> str:
    lines = [
        _HEADER,
        "# Do not edit: change the feed's declaration and run the command again.",
        "version: 2",
        "",
        "sources:",
        "  - name: raw",
        "    description: >",
        "      Validated rows written by the pipeline's validation stage, one Parquet file per",
        "      source file under the home folder's raw/. Rows that broke a rule are in",
        "      quarantine/ instead; measures set aside for a record are blank here and named in",
        "      `set_aside`.",
        "    config:",
        "      meta:",
        "        external_location: \"read_parquet('{{ var('qa_home') }}/raw/{name}/*.parquet', "
        'union_by_name = true)"',
        "    tables:",
    ]
    for feed in FEEDS.values():
        for table in feed.tables:
            lines += [
                f"      - name: {table.name}",
                f"        description: {_quoted(table.description)}",
                "        config:",
                "          meta:",
                f"            feed: {feed.name}",
                f"            code_column: {table.code_column}",
                "        columns:",
            ]
            for column, dtype in table.schema.items():
                lines += [
                    f"          - name: {column}",
                    f"            data_type: {_DBT_TYPES[dtype]}",
                ]
    return "\n".join(lines) + "\n"


def render_macro() -> str:
    rows = [
        f"        ({_quoted(feed.name)}, {_quoted(table.name)}, {_quoted(table.code_column)}),"
        for feed in FEEDS.values()
        for table in feed.tables
    ]
    return "\n".join(
        [
            "{#- " + _HEADER[2:],
            "    Every raw table as (feed, table, organisation-code column). -#}",
            "{% macro raw_tables() -%}",
            "    {{ return([",
            *rows,
            "    ]) }}",
            "{%- endmacro %}",
            "",
        ]
    )


def generated() -> dict[Path, str]:
    return {SOURCES: render_sources(), MACRO: render_macro()}


def main() -> int:
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(DBT_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
