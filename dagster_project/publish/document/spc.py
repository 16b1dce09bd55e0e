"""Part 3's statistical process control, read as boards read an integrated performance
report (NHS England, Making Data Count): per domain, one line per monthly series with its
latest value, target and the two icons as a symbol and words, then its XmR chart.

Every figure and judgement is the published `spc_summary` and `spc_points` for the
document's year (the months up to its March); this module only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from dagster_project.publish.charts.spc import VARIATION_WORDS, SpcChart, SpcPoint, month_name
from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import Cell, Column, DataTable, slug
from dagster_project.publish.figures import format_number

DECIMALS = {"count": 0}
# The icons in words, with a symbol for the eye: an arrow for the direction of a special
# cause (up: higher, down: lower), a dot for common cause. Colour (by class) only repeats
# the words, which say whether the change is an improvement or a concern.
VARIATION_CSS = {"improvement": "spc-improvement", "concern": "spc-concern"}
ASSURANCE = {
    "consistently passes": ("P", "Consistently passes the target", "spc-improvement"),
    "consistently fails": ("F", "Consistently fails the target", "spc-concern"),
    "hit and miss": ("?", "Hit and miss: the target lies within the process limits", ""),
    "no target": ("\u2013", "No target set", ""),
    "too few points": ("\u2013", "Too few months to judge", ""),
}


@dataclass
class SpcSection:
    table: DataTable
    charts: list[dict[str, str | Markup]] = field(default_factory=list)


def _variation_cell(variation: str, special_cause: str | None) -> Cell:
    words = VARIATION_WORDS.get(variation, "Too few months to judge")
    if variation in ("improvement", "concern") and special_cause:
        higher = any(w in special_cause for w in ("above", "upper", "increasing"))
        symbol = "\u2191" if higher else "\u2193"
        words = f"{symbol} {words} ({special_cause})"
    elif variation == "common cause":
        words = f"\u25cf {words}"
    return Cell(words, css=VARIATION_CSS.get(variation, ""), value=variation)


def _assurance_cell(assurance: str) -> Cell:
    symbol, words, css = ASSURANCE.get(assurance, ("", assurance, ""))
    return Cell(f"{symbol} {words}", css=css, value=assurance)


@dataclass
class SpcRows:
    """One provider's SPC lines for one year, and each series' months in order."""

    summary: list[Row] = field(default_factory=list)
    points: dict[str, list[Row]] = field(default_factory=dict)


def index_spc(
    summary: list[Row] | None, points: list[Row] | None
) -> dict[tuple[str, str], SpcRows]:
    """The published SPC tables by (provider, year), read once for every document: a
    national publication holds hundreds of thousands of points."""
    index: dict[tuple[str, str], SpcRows] = {}
    if not summary or not points:
        return index
    for r in summary:
        index.setdefault((r["provider_code"], r["financial_year"]), SpcRows()).summary.append(r)
    for r in sorted(points, key=lambda p: p["month"]):
        rows = index.get((r["provider_code"], r["financial_year"]))
        if rows is not None:
            rows.points.setdefault(r["series_code"], []).append(r)
    return index


def spc_sections(rows: SpcRows | None, provider_name: str, year: str) -> dict[str, SpcSection]:
    """The SPC table and charts of each domain that has monthly series; none if unpublished."""
    if rows is None:
        return {}
    mine, by_series = rows.summary, rows.points
    sections: dict[str, SpcSection] = {}
    for domain in sorted({r["domain"] for r in mine}):
        rows, charts = [], []
        for r in sorted((r for r in mine if r["domain"] == domain), key=lambda r: r["series_name"]):
            series = by_series.get(r["series_code"], [])
            decimals = DECIMALS.get(r["unit"], 1)
            unit = "%" if r["unit"] == "per cent" else ""
            latest = series[-1] if series else {}
            rows.append(
                (
                    Cell(r["series_name"]),
                    Cell(month_name(str(r["latest_month"])), value=str(r["latest_month"])),
                    Cell(
                        format_number(r["latest_value"], decimals) + unit,
                        value=str(r["latest_value"]),
                    ),  # fmt: skip
                    Cell(None, "no target")
                    if r["target"] is None
                    else Cell(
                        format_number(r["target"], decimals) + unit, value=str(r["target"])
                    ),  # fmt: skip
                    _variation_cell(r["variation"], latest.get("special_cause")),
                    _assurance_cell(r["assurance"]),
                )
            )
            if r["lower_process_limit"] is not None and series:
                chart = SpcChart(
                    slug=slug(r["series_code"], year),
                    name=r["series_name"],
                    unit=r["unit"],
                    provider_name=provider_name,
                    points=tuple(
                        SpcPoint(str(p["month"]), p["value"], p["variation"]) for p in series
                    ),
                    mean=r["mean"],
                    lower_limit=r["lower_process_limit"],
                    upper_limit=r["upper_process_limit"],
                    target=r["target"],
                    decimals=decimals,
                )
                charts.append({"svg": chart.svg(), "caption": chart.caption()})
        sections[domain] = SpcSection(
            table=DataTable(
                name=f"spc-{domain}",
                caption=(
                    f"Statistical process control, {provider_name}, months to March "
                    f"{int(year[:4]) + 1}: the latest month against the provider's own "
                    "process (Making Data Count)"
                ),
                columns=(
                    Column("Measure"),
                    Column("Latest month"),
                    Column("Latest value", numeric=True),
                    Column("Target", numeric=True),
                    Column("Variation"),
                    Column("Assurance"),
                ),  # fmt: skip
                rows=tuple(rows),
                notes=(
                    "Variation: special cause where the latest month is outside the process "
                    "limits (the mean plus or minus 2.66 average moving ranges), in a run of "
                    "seven on one side of the mean or seven rising or falling, or two of "
                    "three close to a limit; otherwise common cause. Assurance compares the "
                    "process limits with the target.",
                ),
            ),
            charts=charts,
        )
    return sections
