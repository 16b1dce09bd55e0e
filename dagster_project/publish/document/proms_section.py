"""The providers of the published tables, and the PROMs participation part of a Quality Account.

PROMs outcomes (each measure's adjusted health gain in the primary groups) are shown
through the indicator path like every other indicator (indicators.py); what is PROMs'
own is participation: pre-operative questionnaires against procedures recorded in HES,
which the regulations ask providers to state.

Reads only the published DuckDB file, opened read-only, so observatories can keep
it open meanwhile. Every query has an ORDER BY and every grouping is sorted
explicitly, so the same data gives the same tables whatever order it was built in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.publish.document import tables
from dagster_project.publish.document.tables import Cell, Column, DataTable
from dagster_project.publish.names import readable_name

ENGLAND = "ENG"
UNKNOWN_REGION = "UNKNOWN"
MIN_RECORDS = 30

# The published tables and the columns this module relies on (the contract).
COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("provider_code", "provider_name", "region_code", "region_name", "provider_type"),
    "proms_provider_outcomes": ("financial_year", "provider_code"),
    "proms_participation": (
        "financial_year", "provider_code", "procedure", "hes_procedures",
        "pre_op_questionnaires", "participation_rate",
    ),
}  # fmt: skip

PARTICIPATION_ORDER = (
    "All Procedures", "Hip Replacement", "Primary Hip Replacement", "Revision Hip Replacement",
    "Knee Replacement", "Primary Knee Replacement", "Revision Knee Replacement",
)  # fmt: skip
# Why a value is missing, shown beside the dash.
SUPPRESSED = "not published: suppressed for small numbers, or not applicable"
NOT_PUBLISHED = "not published"
NO_PROCEDURES = "no procedures recorded"

Row = dict[str, Any]


@dataclass(frozen=True)
class Provider:
    code: str
    name: str
    region_code: str
    region_name: str
    provider_type: str | None


def _ranked(order: Sequence[str]) -> Callable[[str], tuple[int, str]]:
    """Sort key: known labels in their published order, anything new after, A to Z."""
    rank = {label: i for i, label in enumerate(order)}
    return lambda label: (rank.get(label, len(rank)), label)


_participation_key = _ranked(PARTICIPATION_ORDER)


class PublishedData:
    """The published tables, indexed the ways the pages need them."""

    def __init__(self, providers: list[Row], outcomes: list[Row], participation: list[Row]):
        self.providers: dict[str, Provider] = {}
        for row in providers:
            code = row["provider_code"]
            if code == ENGLAND or row["provider_type"] == "country":
                continue
            region = row["region_code"] or UNKNOWN_REGION
            self.providers[code] = Provider(
                code=code,
                name=readable_name(row["provider_name"]) or code,
                region_code=region,
                region_name=row["region_name"] or "Region not known",
                provider_type=row["provider_type"],
            )
        self.participation: dict[tuple[str, str], list[Row]] = defaultdict(list)
        self.england_participation: dict[tuple[str, str], Row] = {}
        for row in participation:
            if row["provider_code"] == ENGLAND:
                self.england_participation[(row["financial_year"], row["procedure"])] = row
            else:
                self.participation[(row["provider_code"], row["financial_year"])].append(row)
        self._years: dict[str, set[str]] = defaultdict(set)
        for row in outcomes:
            self._years[row["provider_code"]].add(row["financial_year"])
        for code, year in self.participation:
            self._years[code].add(year)

    def years_for(self, code: str) -> list[str]:
        return sorted(self._years.get(code, ()))


def load_published(published_db: Path) -> PublishedData:
    """Read the three published tables, failing with the file and table named."""
    path = Path(published_db)
    if not path.is_file():
        raise FileNotFoundError(f"published DuckDB file not found: {path}")
    tables: dict[str, list[Row]] = {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        for table, columns in COLUMNS.items():
            sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as exc:
                raise ValueError(f"{path}: cannot read published table {table}: {exc}") from exc
            tables[table] = [dict(zip(columns, row, strict=True)) for row in rows]
    finally:
        con.close()
    return PublishedData(
        tables["providers"], tables["proms_provider_outcomes"], tables["proms_participation"]
    )


# -- formatting ---------------------------------------------------------------------------


def _count(value: int | None, reason: str) -> Cell:
    return tables.count(value, reason)


def _rate(value: float | None, reason: str) -> Cell:
    return tables.percent(value, reason)


def participation(data: PublishedData, provider: Provider, year: str) -> DataTable | None:
    rows = sorted(
        data.participation.get((provider.code, year), []),
        key=lambda r: _participation_key(r["procedure"]),
    )
    if not rows:
        return None
    out = []
    over_100 = False
    for row in rows:
        hes = row["hes_procedures"]
        rate_reason = NO_PROCEDURES if hes == 0 else SUPPRESSED if hes is None else NOT_PUBLISHED
        england = data.england_participation.get((year, row["procedure"])) or {}
        over_100 = over_100 or (row["participation_rate"] or 0) > 1
        out.append(
            (
                Cell(row["procedure"]),
                _count(hes, SUPPRESSED),
                _count(row["pre_op_questionnaires"], SUPPRESSED),
                _rate(row["participation_rate"], rate_reason),
                _rate(england.get("participation_rate"), NOT_PUBLISHED),
            )
        )
    notes = (
        (
            "A rate above 100% means more pre-operative questionnaires were recorded than "
            "procedures in HES for the year.",
        )
        if over_100
        else ()
    )
    return DataTable(
        name="proms-participation",
        caption=(
            f"Participation in PROMs, {year}: pre-operative questionnaires as a percentage of "
            "procedures recorded in Hospital Episode Statistics (HES)"
        ),
        columns=(
            Column("Procedure"),
            Column("HES procedures", numeric=True),
            Column("Pre-operative questionnaires", numeric=True),
            Column("Participation rate", numeric=True),
            Column("England participation rate", numeric=True),
        ),
        rows=tuple(out),
        notes=notes,
    )
