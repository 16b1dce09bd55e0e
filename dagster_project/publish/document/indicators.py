"""Part 3's indicator sections: core indicator tables in the statutory format, funnel
plots, trends, the other indicators by domain, and priorities the data suggests.

Only indicators with a value for the provider in the year appear (the regulations
ask for those relevant to its services). Which indicators exist, their domain,
unit and direction come from `indicator_catalogue`, never from code here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from dagster_project.publish.charts.funnel import Funnel, FunnelPoint, Highlight, LimitPoint
from dagster_project.publish.charts.trend import Trend, TrendPoint
from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import Cell, Column, DataTable, number, slug, text

ENGLAND = "ENG"
DOMAINS = {
    "safety": "Patient safety",
    "experience": "Patient experience",
    "outcomes": "Clinical effectiveness and outcomes",
}
DECIMALS = {"ratio": 3, "count": 0, "index points": 3}
NOUN = {
    "per cent": "percentage",
    "ratio": "ratio",
    "score": "score",
    "points": "score",
    "index points": "score",
    "count": "number",
}
WORSE = {True: "lower than expected", False: "higher than expected"}
MIN_FOR_QUARTILE = 4
# Methods whose national value is England's own figure from the publisher's file (PROMs
# England rows, readmissions' England row, SHMI = 1 by construction); every other
# national value is pooled or averaged over the providers in this publication, which a
# region-only home is not England.
ENGLAND_FROM_FILE = frozenset({"shmi_banding", "proms_outlier", "published_interval"})
PUBLICATION = "Providers in this publication"


def national_label(entry: Row) -> str:
    """What the national column holds for an indicator, as its heading: England (from the
    file), the objective (a count judged against it) or the providers in this publication."""
    method = entry.get("method")
    if method == "objective":
        return "Objective"
    return "England" if method in ENGLAND_FROM_FILE else PUBLICATION


def national_figure(entry: Row, values: Row | None) -> float | None:
    """The figure under `national_label`: the provider's objective for a count judged
    against one, else the national value."""
    values = values or {}
    if entry.get("method") == "objective":
        return values.get("objective")
    return values.get("national_value")


def against(entry: Row) -> str:
    """The words after a comparison: "against the objective", never "against England"
    for a count; "against England" only where England's figure is the publisher's."""
    method = entry.get("method")
    if method == "objective":
        return "against the objective"
    if method in ENGLAND_FROM_FILE:
        return "against England"
    if entry.get("compared_within") == "cluster":
        return "against similar organisations (its NRLS cluster)"
    return "against the providers in this publication"


def compared(entry: Row, comparison: str | None) -> str | None:
    """A comparison with what it is against ("higher than expected against the
    objective"); "insufficient data" compares with nothing, so it stands alone."""
    if comparison is None or comparison == "insufficient data":
        return comparison
    return f"{comparison} {against(entry)}"


def comparison_cell(entry: Row, comparison: str | None) -> Cell:
    """The comparison as a table shows it, the same in every document and on every region
    page: a result outside the limits says in words whether it is worse or better (colour
    alone tells a reader of the printed page or a screen reader nothing), and is tagged so."""
    words = compared(entry, comparison)
    if words is None:
        return text(None, "no comparison published")
    higher_is_better = entry.get("higher_is_better")
    if higher_is_better is None or comparison not in WORSE.values():
        return Cell(words)
    worse = comparison == WORSE[bool(higher_is_better)]
    return Cell(
        f"{words} ({'worse' if worse else 'better'})",
        css="negative" if worse else "positive",
        value=words,
    )


def centre_words(entry: Row) -> tuple[str, str]:
    """(legend label, words mid-sentence) for a funnel's centre line."""
    if entry.get("method") in ENGLAND_FROM_FILE:
        return "England", "England's value from the publisher's file"
    return "All providers", "the value over all providers in this publication"


def decimals(unit: str) -> int:
    return DECIMALS.get(unit, 1)


def noun(unit: str) -> str:
    return NOUN.get(unit, "rate")


def missing_reason(entry: Row, values: Row | None) -> str:
    """Why an indicator has no value for a provider, in words for the reader."""
    values = values or {}
    if values.get("withheld"):
        return "not published: withheld by disclosure control"
    noun = entry.get("denominator_noun")
    if noun and values.get("numerator") is not None and values.get("denominator") is None:
        return f"not available: no {noun} for the whole year"
    least = entry.get("min_denominator")
    if least and values.get("comparison") == "insufficient data":
        return f"not published: fewer than {least:,.0f} {noun or 'cases'}"
    return "not available"


def show(value: float | None, unit: str, reason: str = "not available") -> Cell:
    """A value in its unit: 71.0% for per cent, 12.3 for a rate per 100,000 bed days."""
    cell = number(value, decimals(unit), reason)
    if unit == "per cent" and cell.text is not None:
        return Cell(cell.text + "%", value=cell.value)
    return cell


@dataclass
class IndicatorBlock:
    code: str
    name: str
    unit: str
    anchor: str
    core: bool
    table: DataTable | None
    noun: str
    comparison: str | None
    funnel: dict[str, Any] | None = None
    funnel_note: str = ""
    trend: Markup | None = None
    trend_note: str = ""
    national_label: str = "England"


@dataclass
class DomainSection:
    key: str
    heading: str
    anchor: str
    core: list[IndicatorBlock] = field(default_factory=list)
    others: DataTable | None = None


class Indicators:
    """The three indicator tables, indexed for the pages; any may be None (not published)."""

    def __init__(
        self, catalogue: list[Row] | None, values: list[Row] | None, core: list[Row] | None
    ) -> None:
        self.available = catalogue is not None and (values is not None or core is not None)
        self.catalogue = {r["indicator_code"]: r for r in catalogue or []}
        self.values: dict[tuple[str, str, str], Row] = {}
        self.by_indicator_year: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in values or []:
            key = (row["provider_code"], row["financial_year"], row["indicator_code"])
            self.values[key] = row
            if row["provider_code"] != ENGLAND and row["value"] is not None:
                self.by_indicator_year[(row["indicator_code"], row["financial_year"])].append(row)
        self.core: dict[tuple[str, str, str], Row] = {
            (r["provider_code"], r["financial_year"], r["indicator_code"]): r for r in core or []
        }
        self.missing = [
            name
            for name, rows in (
                ("indicator_catalogue", catalogue),
                ("indicator_values", values),
                ("core_indicators", core),
            )
            if rows is None
        ]

    def years_for(self, provider: str) -> set[str]:
        keys = [*self.values, *self.core]
        return {year for code, year, _ in keys if code == provider}

    def shown(self, provider: str, year: str) -> list[Row]:
        """Catalogue rows the provider has a figure for in the year, in domain then name
        order: a value, or one that is not published (too few cases, withheld by disclosure
        control), which the document says in words rather than leave out."""
        codes = {code for (p, y, code) in (*self.values, *self.core) if p == provider and y == year}
        order = list(DOMAINS)
        rows = [self.catalogue[c] for c in codes if c in self.catalogue]
        return sorted(
            rows,
            key=lambda r: (
                order.index(r["domain"]) if r["domain"] in order else len(order),
                not r["core_indicator"],
                r["indicator_name"].casefold(),
                r["indicator_code"],
            ),
        )

    def comparison(self, provider: str, year: str, code: str) -> str | None:
        row = self.values.get((provider, year, code))
        return None if row is None else row["comparison"]

    def bottom_quartile(self, provider: str, year: str, code: str) -> bool:
        """In the lowest-performing quarter of its comparator group: at least three
        quarters of the group did strictly better.

        The tie rule: tied providers share the best place among them (competition
        ranking, "1224"), so a value equal to the best is never in the lowest quarter,
        nor is anyone when every provider has the same value (24 providers with no
        Never Events are all first). Only the comparator group counts (NHS trusts with
        NHS trusts, as the core indicator tables), and a group of fewer than
        MIN_FOR_QUARTILE providers has no quarters.
        """
        entry = self.catalogue.get(code)
        own = self.values.get((provider, year, code))
        if entry is None or own is None or own["value"] is None:
            return False
        group = self._group(provider, year, code)
        rows = [
            r
            for r in self.by_indicator_year.get((code, year), [])
            if self._group(r["provider_code"], year, code) == group
        ]
        if len(rows) < MIN_FOR_QUARTILE:
            return False
        sign = 1 if entry["higher_is_better"] else -1
        better = sum(1 for r in rows if sign * r["value"] > sign * own["value"])
        return better >= math.ceil(len(rows) * 3 / 4)

    def _group(self, provider: str, year: str, code: str) -> str | None:
        return (self.core.get((provider, year, code)) or {}).get("comparator_group")

    def suggestions(self, provider: str, year: str, provider_name: str) -> list[str]:
        """Indicators where the provider is worse than expected or in the bottom quartile."""
        out = []
        for entry in self.shown(provider, year):
            code, name = entry["indicator_code"], entry["indicator_name"]
            comparison = self.comparison(provider, year, code)
            if comparison == WORSE[bool(entry["higher_is_better"])]:
                out.append(f"{name}: {comparison} {against(entry)}")
            elif self.bottom_quartile(provider, year, code):
                out.append(f"{name}: in the lowest-performing quarter of providers in {year}")
        return out


def _core_table(
    ind: Indicators, entry: Row, provider_code: str, provider_name: str, year: str
) -> DataTable:
    code, unit = entry["indicator_code"], entry["unit"]
    this = ind.core.get((provider_code, year, code))
    value_row = ind.values.get((provider_code, year, code))
    previous_year = _previous(year)
    last = ind.core.get((provider_code, previous_year, code))
    last_values = ind.values.get((provider_code, previous_year, code))

    objective = entry.get("method") == "objective"

    def row(label: str, core: Row | None, values: Row | None, fallback: float | None) -> tuple:
        value = (core or {}).get("value")
        if value is None:
            value = (values or {}).get("value", fallback)
        national = None if objective else (core or {}).get("national_value")
        if national is None:
            national = national_figure(entry, values)
        return (
            Cell(label),
            text((core or {}).get("period_label")),
            show(value, unit, missing_reason(entry, values)),
            show(national, unit),
            show((core or {}).get("highest_value"), unit),
            show((core or {}).get("lowest_value"), unit),
        )

    group = (this or {}).get("comparator_group") or "comparable providers"
    return DataTable(
        name=f"core-{slug(code)}",
        caption=(
            f"{entry['indicator_name']} ({unit}): {provider_name} beside "
            f"{_beside(entry)} and the highest and lowest values among {group}"
        ),
        columns=(
            Column("Reporting period"),
            Column("Data period"),
            Column(provider_name, numeric=True),
            Column(national_label(entry), numeric=True),
            Column("Highest", numeric=True),
            Column("Lowest", numeric=True),
        ),
        rows=(
            row(f"This year ({year})", this, value_row, None),
            row(
                f"Last year ({previous_year})",
                last,
                last_values,
                (this or {}).get("previous_value"),
            ),
        ),
    )


def _beside(entry: Row) -> str:
    label = national_label(entry)
    if label == "Objective":
        return "its objective"
    if label == "England":
        return "England's figure from the publisher's file"
    return "the value over all providers in this publication"


def _previous(year: str) -> str:
    start = int(year[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _funnel(
    ind: Indicators, entry: Row, provider_code: str, provider_name: str, year: str
) -> tuple[dict[str, Any] | None, str]:
    code, unit = entry["indicator_code"], entry["unit"]
    if entry.get("method") == "published_interval":
        # The publisher's confidence intervals are each trust's own, not limits around
        # England: a funnel would draw them as if they were.
        return None, (
            f"No funnel plot: {entry['indicator_name']} is compared with England by the "
            "publisher's own 95% confidence interval for each trust, shown in the table."
        )
    rows = [r for r in ind.by_indicator_year.get((code, year), []) if r["denominator"]]
    national = next((r["national_value"] for r in rows if r["national_value"] is not None), None)
    if not rows or national is None:
        return None, (
            f"No funnel plot: denominators or the national value are not published for "
            f"{entry['indicator_name']} in {year}."
        )
    limits = [
        LimitPoint(
            r["provider_code"], round(r["denominator"]), r["lower_95"], r["upper_95"],
            r["lower_998"], r["upper_998"],
        )
        for r in rows
        if r["lower_95"] is not None and r["upper_95"] is not None
    ]  # fmt: skip
    plot = Funnel.build(
        slug=slug(code, year),
        subject=year,
        name=entry["indicator_name"],
        unit=unit,
        denominator_noun=entry.get("denominator_noun") or "",
        points=[FunnelPoint(r["provider_code"], round(r["denominator"]), r["value"]) for r in rows],
        limits=limits,
        centre=national,
        decimals=decimals(unit),
        centre_label=centre_words(entry)[0],
        centre_words=centre_words(entry)[1],
    )
    comparison = ind.comparison(provider_code, year, code) or "no comparison published"
    highlight = Highlight(provider_code, provider_name, comparison)
    return {"svg": plot.svg(highlight), "caption": plot.caption(highlight)}, ""


def _trend(
    ind: Indicators, entry: Row, provider_code: str, provider_name: str, year: str
) -> tuple[Markup | None, str]:
    code = entry["indicator_code"]
    years = sorted(
        y for (p, y, c), r in ind.values.items()
        if p == provider_code and c == code and y <= year and r["value"] is not None
    )  # fmt: skip
    if len(years) < 2:
        return None, f"No trend: {entry['indicator_name']} is published for one year only."
    points = tuple(
        TrendPoint(
            y, ind.values[(provider_code, y, code)]["value"],
            national_figure(entry, ind.values[(provider_code, y, code)]),
        )
        for y in years
    )  # fmt: skip
    chart = Trend(
        slug=slug(code),
        name=entry["indicator_name"],
        unit=entry["unit"],
        provider_name=provider_name,
        points=points,
        decimals=decimals(entry["unit"]),
        national_label=_trend_label(entry),
    )
    return chart.svg(), ""


def _trend_label(entry: Row) -> str:
    label = national_label(entry)
    return {"Objective": "the objective", PUBLICATION: "all providers"}.get(label, label)


def _others_table(
    ind: Indicators, entries: list[Row], provider_code: str, year: str, domain: str
) -> DataTable | None:
    if not entries:
        return None
    rows = []
    for entry in entries:
        values = ind.values.get((provider_code, year, entry["indicator_code"])) or {}
        unit = entry["unit"]
        rows.append(
            (
                Cell(entry["indicator_name"]),
                Cell(unit),
                show(values.get("value"), unit, missing_reason(entry, values)),
                Cell(national_label(entry)),
                show(national_figure(entry, values), unit),
                comparison_cell(entry, values.get("comparison")),
            )
        )
    return DataTable(
        name=f"other-indicators-{domain}",
        caption=f"Other {DOMAINS[domain].lower()} indicators, {year}",
        columns=(
            Column("Indicator"),
            Column("Unit"),
            Column("Value", numeric=True),
            Column("Compared with"),
            Column("Comparator value", numeric=True),
            Column("Comparison"),
        ),
        rows=tuple(rows),
    )


def domain_sections(
    ind: Indicators, provider_code: str, provider_name: str, year: str
) -> list[DomainSection]:
    shown = ind.shown(provider_code, year)
    sections = []
    for key, heading in DOMAINS.items():
        section = DomainSection(key, heading, slug("domain", key))
        others = []
        for entry in (r for r in shown if r["domain"] == key):
            if not entry["core_indicator"]:
                others.append(entry)
                continue
            code = entry["indicator_code"]
            funnel, funnel_note = _funnel(ind, entry, provider_code, provider_name, year)
            trend, trend_note = _trend(ind, entry, provider_code, provider_name, year)
            section.core.append(
                IndicatorBlock(
                    code=code,
                    name=entry["indicator_name"],
                    unit=entry["unit"],
                    anchor=slug("indicator", code),
                    core=True,
                    table=_core_table(ind, entry, provider_code, provider_name, year),
                    noun=noun(entry["unit"]),
                    comparison=ind.comparison(provider_code, year, code),
                    funnel=funnel,
                    funnel_note=funnel_note,
                    trend=trend,
                    trend_note=trend_note,
                    national_label=_trend_label(entry),
                )
            )
        section.others = _others_table(ind, others, provider_code, year, key)
        sections.append(section)
    return sections


def methods(ind: Indicators, provider_code: str, year: str) -> list[tuple[str, str, str]]:
    """(indicator, source, method) for every indicator the document shows: the method in
    words (the catalogue's comparison_method), never its code such as rate_funnel."""
    return [
        (r["indicator_name"], r["source"] or "not recorded", _method_words(r))
        for r in ind.shown(provider_code, year)
    ]


def _method_words(entry: Row) -> str:
    words = entry.get("comparison_method")
    if words:
        return words
    method = entry.get("method") or ""
    return method if " " in method else "not recorded"


__all__ = ["DOMAINS", "DomainSection", "IndicatorBlock", "Indicators", "domain_sections"]
