"""Reading the published tables a document draws on, any of which may not exist yet.

Tables arrive one feed at a time, so a document must render from whatever the
published file holds: an absent table (or one lacking a needed column) reads as
`None`, and the section that needs it says plainly that the data is not available.
Every query orders by all columns so row order never depends on how the file was built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

Row = dict[str, Any]

# Optional tables and the columns the document reads from each (the agreed contract).
OPTIONAL: dict[str, tuple[str, ...]] = {
    "indicator_catalogue": (
        "indicator_code", "indicator_name", "domain", "unit", "higher_is_better",
        "core_indicator", "source", "method", "min_denominator", "denominator_noun",
    ),
    "indicator_values": (
        "financial_year", "provider_code", "region_code", "indicator_code", "numerator",
        "denominator", "value", "national_value", "lower_95", "upper_95", "lower_998",
        "upper_998", "comparison", "withheld",
    ),
    "core_indicators": (
        "financial_year", "provider_code", "region_code", "indicator_code", "value",
        "previous_value", "national_value", "highest_value", "lowest_value",
        "comparator_group", "period_label",
    ),
    "bpt_criteria": (
        "financial_year", "provider_code", "region_code", "bpt_code", "criterion_code",
        "criterion", "threshold", "observed", "met", "reason",
    ),
    "bpt_adjustments": (
        "financial_year", "provider_code", "region_code", "bpt_code", "eligible_spells",
        "compliant_spells", "base_income", "bpt_income", "adjustment", "forgone",
    ),
    "bpt_regional_summary": (
        "financial_year", "region_code", "bpt_code", "providers", "providers_meeting_all",
        "eligible_spells", "adjustment", "forgone",
    ),
    "data_quality": (
        "feed", "source_table", "source_file", "sha256", "provider_code", "region_code",
        "rule", "reason", "rows_received", "rows_quarantined", "measures_set_aside",
    ),
    "provider_returns": (
        "provider_code", "region_code", "financial_year", "item", "value", "source_file",
        "row_number",
    ),
    "provider_return_problems": (
        "provider_code", "region_code", "financial_year", "item", "value", "source_file",
        "row_number", "rule", "reason",
    ),
    "spc_summary": (
        "provider_code", "series_code", "financial_year", "series_name", "domain", "unit",
        "latest_month", "latest_value", "mean", "lower_process_limit", "upper_process_limit",
        "target", "variation", "assurance",
    ),
    "spc_points": (
        "provider_code", "series_code", "financial_year", "month", "value", "special_cause",
        "variation",
    ),
}  # fmt: skip

# Columns read as well where the publication has them (added since the contract above);
# a publication without them still renders, the document falling back to plainer words.
EXTRA: dict[str, tuple[str, ...]] = {
    "indicator_catalogue": ("comparison_method", "compared_within"),
    "indicator_values": ("objective",),
    "bpt_adjustments": ("tariff", "price_source", "price_illustrative"),
}

# `publication` as snapshot.py writes it; older names are accepted for the same columns.
PUBLICATION_COLUMNS = {
    "publication_id": ("publication_id",),
    "pipeline_version": ("pipeline_version", "version"),
    "input_files": ("input_files",),
}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str] | None:
    rows = con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'main' and table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows} or None


def read_optional(con: duckdb.DuckDBPyConnection, table: str) -> list[Row] | None:
    """The table's contract columns, or None when it (or a column) is not published."""
    wanted = OPTIONAL[table]
    present = _columns(con, table)
    if present is None or not set(wanted) <= present:
        return None
    wanted = wanted + tuple(c for c in EXTRA.get(table, ()) if c in present)
    rows = con.execute(f'select {", ".join(wanted)} from "{table}" order by all').fetchall()
    return [dict(zip(wanted, row, strict=True)) for row in rows]


def read_publication(con: duckdb.DuckDBPyConnection) -> Row | None:
    """One publication's id, pipeline version and input files (identical on every row)."""
    present = _columns(con, "publication")
    if present is None:
        return None
    chosen = {}
    for name, options in PUBLICATION_COLUMNS.items():
        found = next((o for o in options if o in present), None)
        if found is None:
            return None
        chosen[name] = found
    select = ", ".join(f'"{col}" as {name}' for name, col in chosen.items())
    row = con.execute(f"select {select} from publication order by all limit 1").fetchone()
    return None if row is None else dict(zip(chosen, row, strict=True))


def read_all(path: Path) -> tuple[dict[str, list[Row] | None], Row | None]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: read_optional(con, t) for t in OPTIONAL}, read_publication(con)
    finally:
        con.close()


# The tables a Quality Account draws its years from (SiteData.years_for).
YEAR_TABLES = (
    "proms_provider_outcomes",
    "indicator_values",
    "core_indicators",
    "bpt_adjustments",
    "bpt_criteria",
)


def published_years(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every financial year the publication has documents for, read without loading it."""
    present = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.columns where column_name = 'financial_year'"
        ).fetchall()
    }
    parts = [f'select financial_year from "{t}"' for t in YEAR_TABLES if t in present]
    if not parts:
        return []
    rows = con.execute(" union ".join(parts) + " order by 1").fetchall()
    return [year for (year,) in rows if year]
