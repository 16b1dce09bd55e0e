"""The PROMs part of a Quality Account (Part 3, outcomes): participation, health gain per
procedure group beside England, and funnel plots, from the published PROMs tables.

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

from dagster_project.publish import tables
from dagster_project.publish.funnel_svg import FunnelPlot, FunnelPoint, Highlight, format_number
from dagster_project.publish.tables import Cell, Column, DataTable, slug

ENGLAND = "ENG"
UNKNOWN_REGION = "UNKNOWN"
MIN_RECORDS = 30

# The published tables and the columns this module relies on (the contract).
COLUMNS: dict[str, tuple[str, ...]] = {
    "providers": ("provider_code", "provider_name", "region_code", "region_name", "provider_type"),
    "proms_provider_outcomes": (
        "financial_year", "provider_code", "procedure", "measure", "modelled_records",
        "health_gain", "adjusted_health_gain", "standard_deviation", "outlier_status",
        "england_adjusted_health_gain",
    ),
    "proms_participation": (
        "financial_year", "provider_code", "procedure", "hes_procedures",
        "pre_op_questionnaires", "participation_rate",
    ),
}  # fmt: skip

# Published procedure group -> heading, in page order.
GROUPS = {
    "Hip Replacement Primary": "Primary hip replacement",
    "Hip Replacement Revision": "Revision hip replacement",
    "Total Hip Replacement": "All hip replacements",
    "Knee Replacement Primary": "Primary knee replacement",
    "Knee Replacement Revision": "Revision knee replacement",
    "Total Knee Replacement": "All knee replacements",
}
TOTAL_GROUPS = frozenset({"Total Hip Replacement", "Total Knee Replacement"})
FUNNEL_MEASURE = {
    "Hip Replacement Primary": "Oxford Hip Score",
    "Knee Replacement Primary": "Oxford Knee Score",
}
DECIMALS = {"Oxford Hip Score": 1, "Oxford Knee Score": 1, "EQ-5D Index": 3, "EQ VAS": 1}
PARTICIPATION_ORDER = (
    "All Procedures", "Hip Replacement", "Primary Hip Replacement", "Revision Hip Replacement",
    "Knee Replacement", "Primary Knee Replacement", "Revision Knee Replacement",
)  # fmt: skip
STATUS_CLASS = {
    "Positive outlier (99.8%)": "positive",
    "Positive outlier (95%)": "positive",
    "Not an outlier": "neutral",
    "Negative outlier (95%)": "negative",
    "Negative outlier (99.8%)": "negative",
    "Insufficient records": "muted",
    "No procedures": "muted",
}

# Why a value is missing, shown beside the dash.
SUPPRESSED = "not published: suppressed for small numbers, or not applicable"
FEW_RECORDS = f"not published: fewer than {MIN_RECORDS} modelled records"
TOTAL_NOT_ADJUSTED = "not published for total groups"
TOTAL_NOT_ASSESSED = "not assessed for total groups"
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


_group_key = _ranked(tuple(GROUPS))
_measure_key = _ranked(("Oxford Hip Score", "Oxford Knee Score", "EQ-5D Index", "EQ VAS"))
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
                name=row["provider_name"] or code,
                region_code=region,
                region_name=row["region_name"] or "Region not known",
                provider_type=row["provider_type"],
            )
        self.outcomes: dict[tuple[str, str], list[Row]] = defaultdict(list)
        self.outcomes_by_measure: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        self.england: dict[tuple[str, str, str], Row] = {}
        for row in outcomes:
            key = (row["financial_year"], row["procedure"], row["measure"])
            if row["provider_code"] == ENGLAND:
                self.england[key] = row
            else:
                self.outcomes[(row["provider_code"], row["financial_year"])].append(row)
                self.outcomes_by_measure[key].append(row)
        self.participation: dict[tuple[str, str], list[Row]] = defaultdict(list)
        self.england_participation: dict[tuple[str, str], Row] = {}
        for row in participation:
            if row["provider_code"] == ENGLAND:
                self.england_participation[(row["financial_year"], row["procedure"])] = row
            else:
                self.participation[(row["provider_code"], row["financial_year"])].append(row)
        self._years: dict[str, set[str]] = defaultdict(set)
        for code, year in (*self.outcomes, *self.participation):
            self._years[code].add(year)
        self._funnels: dict[tuple[str, str, str], FunnelPlot | None] = {}
        self._ranges: dict[tuple[str, str, str], tuple[float, float] | None] = {}

    def years_for(self, code: str) -> list[str]:
        return sorted(self._years.get(code, ()))

    def england_gain(self, year: str, procedure: str, measure: str) -> float | None:
        """England's adjusted health gain: the value outlier status was judged against
        (the providers' comparison column), else England's own row."""
        key = (year, procedure, measure)
        for row in self.outcomes_by_measure.get(key, []):
            if row["england_adjusted_health_gain"] is not None:
                return row["england_adjusted_health_gain"]
        return (self.england.get(key) or {}).get("adjusted_health_gain")

    def gain_range(self, year: str, procedure: str, measure: str) -> tuple[float, float] | None:
        """Lowest and highest adjusted health gain among providers (a core-indicator column)."""
        key = (year, procedure, measure)
        if key not in self._ranges:
            values = [
                r["adjusted_health_gain"]
                for r in self.outcomes_by_measure.get(key, [])
                if r["adjusted_health_gain"] is not None
            ]
            self._ranges[key] = (min(values), max(values)) if values else None
        return self._ranges[key]

    def funnel(self, year: str, procedure: str, measure: str) -> FunnelPlot | None:
        """One plot per year, group and measure, shared by every provider's page."""
        key = (year, procedure, measure)
        if key not in self._funnels:
            centre = self.england_gain(*key)
            sd = (self.england.get(key) or {}).get("standard_deviation")
            points = [
                FunnelPoint(
                    r["provider_code"], int(r["modelled_records"]), float(r["adjusted_health_gain"])
                )
                for r in self.outcomes_by_measure.get(key, [])
                if r["modelled_records"] and r["adjusted_health_gain"] is not None
            ]
            self._funnels[key] = (
                None
                if centre is None or not points
                else FunnelPlot.build(
                    slug=slug(procedure, measure),
                    subject=f"{GROUPS.get(procedure, procedure).lower()}, {year}",
                    measure=measure,
                    points=points,
                    centre=float(centre),
                    sd=None if sd is None else float(sd),
                    decimals=DECIMALS.get(measure, 2),
                )
            )
        return self._funnels[key]


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


def _score(value: float | None, measure: str, reason: str) -> Cell:
    return tables.number(value, DECIMALS.get(measure, 2), reason)


def _rate(value: float | None, reason: str) -> Cell:
    return tables.percent(value, reason)


def _outcome_reason(row: Row) -> str:
    """Why a provider's figure is missing, in the order the publication applies its rules."""
    if row["modelled_records"] is None:
        return SUPPRESSED
    if row["procedure"] in TOTAL_GROUPS:
        return TOTAL_NOT_ADJUSTED
    if row["modelled_records"] < MIN_RECORDS or row["outlier_status"] == "Insufficient records":
        return FEW_RECORDS
    return NOT_PUBLISHED


def _status(row: Row) -> Cell:
    status = row["outlier_status"]
    if status is not None:
        return Cell(status, css=STATUS_CLASS.get(status, "neutral"))
    if row["modelled_records"] is None:
        return Cell(None, SUPPRESSED)
    if row["procedure"] in TOTAL_GROUPS:
        return Cell(None, TOTAL_NOT_ASSESSED)
    return Cell(None, NOT_PUBLISHED)


def _highlight_status(row: Row | None) -> str:
    if row is None:
        return "no figure published for this provider"
    return row["outlier_status"] or _outcome_reason(row)


# -- the section's tables and plots ----------------------------------------------------------


def _measure_row(data: PublishedData, row: Row) -> tuple[Cell, ...]:
    key = (row["financial_year"], row["procedure"], row["measure"])
    measure, total = row["measure"], row["procedure"] in TOTAL_GROUPS
    suppressed = row["modelled_records"] is None
    comparison_reason = TOTAL_NOT_ADJUSTED if total else NOT_PUBLISHED
    spread = data.gain_range(*key)
    if spread is None:
        spread_cell = Cell(None, comparison_reason)
    else:
        low, high = (format_number(v, DECIMALS.get(measure, 2)) for v in spread)
        spread_cell = Cell(f"{low} to {high}")
    return (
        Cell(measure),
        _count(row["modelled_records"], SUPPRESSED),
        _score(row["health_gain"], measure, SUPPRESSED if suppressed else NOT_PUBLISHED),
        _score(row["adjusted_health_gain"], measure, _outcome_reason(row)),
        _score(data.england_gain(*key), measure, comparison_reason),
        spread_cell,
        _status(row),
    )


_GROUP_COLUMNS = (
    Column("Measure"),
    Column("Modelled records", numeric=True),
    Column("Health gain (unadjusted)", numeric=True),
    Column("Adjusted health gain", numeric=True),
    Column("England adjusted health gain", numeric=True),
    Column("Providers, lowest to highest", numeric=True),
    Column("Outlier status"),
)


def groups(data: PublishedData, provider: Provider, year: str) -> list[dict[str, Any]]:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in data.outcomes.get((provider.code, year), []):
        by_group[row["procedure"]].append(row)
    out = []
    for procedure in sorted(by_group, key=_group_key):
        rows = sorted(by_group[procedure], key=lambda r: _measure_key(r["measure"]))
        funnel_measure = FUNNEL_MEASURE.get(procedure)
        funnel, funnel_note = None, ""
        if funnel_measure is not None:
            plot = data.funnel(year, procedure, funnel_measure)
            own = next((r for r in rows if r["measure"] == funnel_measure), None)
            if plot is None:
                funnel_note = (
                    "No funnel plot: England's adjusted health gain or providers' adjusted "
                    f"figures are not published for the {funnel_measure} in {year}."
                )
            else:
                highlight = Highlight(provider.code, provider.name, _highlight_status(own))
                funnel = {"svg": plot.svg(highlight), "caption": plot.title(highlight)}
        heading = GROUPS.get(procedure, procedure)
        out.append(
            {
                "heading": heading,
                "slug": slug(procedure),
                "table": DataTable(
                    name=f"proms-{slug(procedure)}",
                    caption=(
                        f"{heading}, {year}: health gain by measure for {provider.name} "
                        "beside England"
                    ),
                    columns=_GROUP_COLUMNS,
                    rows=tuple(_measure_row(data, row) for row in rows),
                ),
                "is_total": procedure in TOTAL_GROUPS,
                "funnel_measure": funnel_measure,
                "funnel": funnel,
                "funnel_note": funnel_note,
            }
        )
    return out


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


def negative_outliers(data: PublishedData, provider: Provider, year: str) -> list[str]:
    """PROMs measures where the provider is a negative outlier: priorities the data suggests."""
    return [
        f"PROMs {GROUPS.get(r['procedure'], r['procedure']).lower()}, {r['measure']}: "
        f"{r['outlier_status'].lower()}"
        for r in sorted(
            data.outcomes.get((provider.code, year), []),
            key=lambda r: (_group_key(r["procedure"]), _measure_key(r["measure"])),
        )
        if (r["outlier_status"] or "").startswith("Negative outlier")
    ]
