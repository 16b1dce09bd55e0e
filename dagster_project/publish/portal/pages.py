"""The provider portal around the documents: the index by region, a page per provider
listing its Quality Accounts with their downloads and status, and a page per region
comparing its providers on the core indicators.

The site is static (open it from disk or any web server), links are relative, and
every list is sorted explicitly so the pages are byte-identical between runs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import quote

from dagster_project.publish.document.bpt import tariff_names
from dagster_project.publish.document.contents import (
    DATA_FOLDER,
    DRAFT,
    FINAL,
    PAGE_NAME,
    PDF_NAME,
    SiteData,
    completeness,
)
from dagster_project.publish.document.indicators import (
    DOMAINS,
    comparison_cell,
    missing_reason,
    national_figure,
    national_label,
    show,
)
from dagster_project.publish.document.proms_section import Provider
from dagster_project.publish.document.tables import Cell, Column, DataTable, number, slug

UNKNOWN_REGION = "UNKNOWN"
REGION_FOLDER = "regions"
# The data dictionary (portal/data_dictionary.py): a folder of the site that is no provider's.
DOCS_FOLDER = "docs"


def zip_name(code: str, year: str) -> str:
    return f"{code}-{year}-data.zip"


def regions(data: SiteData) -> list[tuple[str, str, list[Provider]]]:
    members: dict[str, list[Provider]] = defaultdict(list)
    for provider in data.proms.providers.values():
        members[provider.region_code].append(provider)
    ordered = sorted(
        members.items(),
        key=lambda item: (item[0] == UNKNOWN_REGION, item[1][0].region_name.casefold(), item[0]),
    )
    return [
        (code, people[0].region_name, sorted(people, key=lambda p: (p.name.casefold(), p.code)))
        for code, people in ordered
    ]


def region_href(code: str) -> str:
    return f"{REGION_FOLDER}/{quote(code)}/index.html"


def index_context(data: SiteData) -> dict[str, Any]:
    return {
        "root": "",
        "regions": [
            {
                "code": code,
                "name": name,
                "slug": slug("region", code),
                "href": region_href(code),
                "providers": [
                    {
                        "code": p.code,
                        "name": p.name,
                        "href": f"{quote(p.code)}/index.html",
                        "search": f"{p.name} {p.code}".casefold(),
                        "years": [
                            {"year": y, "href": f"{quote(p.code)}/{quote(y)}/{PAGE_NAME}"}
                            for y in data.years_for(p.code)
                        ],
                    }
                    for p in providers
                ],
            }
            for code, name, providers in regions(data)
        ],
    }


def _account(data: SiteData, provider: Provider, year: str) -> dict[str, Any]:
    """A year's status and its completeness checklist, as the document itself decides them."""
    complete = completeness(data, provider, year)
    return {
        "status": DRAFT if complete.missing else FINAL,
        "checklist": [
            {
                "requirement": c.requirement.requirement,
                "part": c.requirement.part,
                "href": f"{quote(year)}/{PAGE_NAME}#{quote(c.requirement.anchor)}",
                "present": c.present,
                "missing": "; ".join(c.missing),
            }
            for c in complete.checks
        ],
        "problems": len(complete.ret.problems) + len(complete.narrative_problems),
    }


def provider_context(data: SiteData, provider: Provider) -> dict[str, Any]:
    years = sorted(data.years_for(provider.code), reverse=True)
    return {
        "root": "../",
        "provider": provider,
        "region_href": f"../{region_href(provider.region_code)}",
        "accounts": [
            {
                "year": y,
                **_account(data, provider, y),
                "html": f"{quote(y)}/{PAGE_NAME}",
                "pdf": f"{quote(y)}/{PDF_NAME}",
                "csv": f"{quote(y)}/{zip_name(provider.code, y)}",
                "data": f"{quote(y)}/{PAGE_NAME}#data-files",
            }
            for y in years
        ],
    }


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _core_tables(data: SiteData, providers: list[Provider], year: str) -> list[DataTable]:
    ind = data.indicators
    out = []
    entries = sorted(
        (r for r in ind.catalogue.values() if r["core_indicator"]),
        key=lambda r: (list(DOMAINS).index(r["domain"]) if r["domain"] in DOMAINS else 9,
                       r["indicator_name"].casefold(), r["indicator_code"]),
    )  # fmt: skip
    for entry in entries:
        code, unit = entry["indicator_code"], entry["unit"]
        rows = []
        for p in providers:
            core = ind.core.get((p.code, year, code)) or {}
            values = ind.values.get((p.code, year, code)) or {}
            if not core and not values:
                continue
            value = _first(core.get("value"), values.get("value"))
            national = (
                national_figure(entry, values)
                if entry.get("method") == "objective"
                else _first(core.get("national_value"), values.get("national_value"))
            )
            rows.append(
                (
                    Cell(p.name),
                    show(value, unit, missing_reason(entry, values)),
                    show(core.get("previous_value"), unit),
                    show(national, unit),
                    comparison_cell(entry, values.get("comparison")),
                )
            )
        if rows:
            out.append(
                DataTable(
                    name=f"core-{slug(code)}-{year}",
                    caption=f"{entry['indicator_name']} ({unit}), {year}: providers in the region",
                    columns=(
                        Column("Provider"),
                        Column("This year", numeric=True),
                        Column("Last year", numeric=True),
                        Column(national_label(entry), numeric=True),
                        Column("Comparison"),
                    ),
                    rows=tuple(rows),
                )
            )
    return out


def region_context(data: SiteData, code: str, name: str, providers: list[Provider]):
    years = sorted({y for p in providers for y in data.years_for(p.code)}, reverse=True)
    sections = []
    for year in years:
        tables = _core_tables(data, providers, year)
        sections.append({"year": year, "slug": slug("year", year), "tables": tables})
    summary = [r for r in data.optional["bpt_regional_summary"] or [] if r["region_code"] == code]
    tariffs = tariff_names(data.optional.get("bpt_adjustments"), [r["bpt_code"] for r in summary])
    return {
        "root": "../../",
        "code": code,
        "name": name,
        "providers": [
            {"name": p.name, "code": p.code, "href": f"../../{quote(p.code)}/index.html"}
            for p in providers
        ],
        "sections": sections,
        "indicators_available": data.indicators.available,
        "bpt": DataTable(
            name="bpt-regional-summary",
            caption=f"Best practice tariffs in {name}: providers meeting every criterion",
            columns=(
                Column("Year and tariff"),
                Column("Providers", numeric=True),
                Column("Providers meeting every criterion", numeric=True),
                Column("Eligible spells", numeric=True),
            ),
            rows=tuple(
                (
                    Cell(f"{r['financial_year']}: {tariffs.get(r['bpt_code'], r['bpt_code'])}"),
                    number(r["providers"], 0),
                    number(r["providers_meeting_all"], 0),
                    number(r["eligible_spells"], 0),
                )
                for r in sorted(summary, key=lambda r: (r["financial_year"], r["bpt_code"]))
            ),
        )
        if summary
        else None,
    }


def region_tables(context: dict[str, Any]) -> list[DataTable]:
    tables = [t for s in context["sections"] for t in s["tables"]]
    return tables + ([context["bpt"]] if context["bpt"] else [])


__all__ = [
    "DATA_FOLDER",
    "index_context",
    "provider_context",
    "region_context",
    "region_tables",
    "zip_name",
]
