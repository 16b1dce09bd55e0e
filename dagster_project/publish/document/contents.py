"""One provider's Quality Account for one year, in the statutory structure, as the data the
template renders: Part 1 (chief executive), Part 2 (priorities and statements of
assurance), Part 3 (quality performance by domain, best practice tariffs) and the annex
(stakeholder statements, methods, suppression, provenance, data files).

Where the data supports a statement the pipeline writes it; where only the provider
can, the text comes from its narrative file, and without it the document is a `draft`
that says so in a visible box. Every table is a `DataTable`, so the CSV files beside
the document hold exactly what the reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dagster_project.publish.document import narrative as nv
from dagster_project.publish.document import statements as st
from dagster_project.publish.document.assurance import data_quality, participation_statement
from dagster_project.publish.document.bpt import bpt_section
from dagster_project.publish.document.indicators import Indicators, domain_sections, methods
from dagster_project.publish.document.proms_section import (
    MIN_RECORDS,
    Provider,
    PublishedData,
    load_published,
    participation,
)
from dagster_project.publish.document.provenance import (
    as_of,
    fingerprint,
    inputs_table,
    sources_table,
)
from dagster_project.publish.document.published_tables import Row, read_all
from dagster_project.publish.document.spc import SpcRows, index_spc, spc_sections
from dagster_project.publish.document.tables import Cell, Column, DataTable

PAGE_NAME = "quality-account.html"
PDF_NAME = "quality-account.pdf"
DATA_FOLDER = "data"
DRAFT, FINAL = "draft", "final"

STAKEHOLDERS = (
    (nv.COMMISSIONERS, "statement-commissioners"),
    (nv.HEALTHWATCH, "statement-healthwatch"),
    (nv.SCRUTINY, "statement-scrutiny"),
)


@dataclass
class SiteData:
    """Everything the documents and portal read, loaded once per render."""

    proms: PublishedData
    indicators: Indicators
    optional: dict[str, list[Row] | None]
    publication: Row | None
    narratives: dict[tuple[str, str], nv.Narrative]
    # Problems of narrative files that could not be used: by (provider, year), or unplaced.
    narrative_problems: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    unplaced_problems: list[str] = field(default_factory=list)
    spc: dict[tuple[str, str], SpcRows] = field(default_factory=dict)

    def years_for(self, code: str) -> list[str]:
        years = set(self.proms.years_for(code)) | self.indicators.years_for(code)
        for table in ("bpt_adjustments", "bpt_criteria"):
            years |= {r["financial_year"] for r in self.optional[table] or [] if
                      r["provider_code"] == code}  # fmt: skip
        return sorted(years)

    def all_years(self) -> list[str]:
        return sorted({y for code in self.proms.providers for y in self.years_for(code)})


def load_site_data(published_db: Path, narrative_dir: Path | None) -> SiteData:
    proms = load_published(Path(published_db))
    optional, publication = read_all(Path(published_db))
    indicators = Indicators(
        optional["indicator_catalogue"], optional["indicator_values"], optional["core_indicators"]
    )
    narratives = nv.read_narratives(narrative_dir)
    return SiteData(
        proms,
        indicators,
        optional,
        publication,
        narratives.found,
        narratives.problems,
        narratives.unplaced,
        index_spc(optional["spc_summary"], optional["spc_points"]),
    )


def commentary_codes(data: SiteData, provider: Provider, year: str) -> list[tuple[str, str]]:
    """(code, name) of every indicator the document asks the provider to comment on."""
    return [
        (r["indicator_code"], r["indicator_name"])
        for r in data.indicators.shown(provider.code, year)
        if r["core_indicator"]
    ]


def _commentary_missing(data: SiteData, provider: Provider, year: str) -> list[str]:
    narrative = data.narratives.get((provider.code, year))
    given = narrative.commentary if narrative else {}
    missing = []
    for code, name in commentary_codes(data, provider, year):
        comment = given.get(code)
        if comment is None or not (comment.reasons and comment.actions):
            missing.append(f"commentary on {name}")
    return missing


@dataclass
class Completeness:
    """Every requirement for the provider's kind and year, met or not, and the problems of
    its own narrative and return: the document is final only with none missing and none."""

    who: st.Profile
    ret: st.Return
    checks: list[st.Check]
    narrative_problems: list[str]

    @property
    def missing(self) -> list[str]:
        # Requirements by name: what exactly each lacks is in the checklist.
        out = [c.requirement.requirement for c in self.checks if not c.present]
        if self.ret.problems:
            lines = len(self.ret.problems)
            out.append(f"{lines} line{'' if lines == 1 else 's'} of the return to correct")
        if self.narrative_problems:
            out.append("a narrative file that could not be read, to correct")
        return out


def completeness(data: SiteData, provider: Provider, year: str) -> Completeness:
    narrative = data.narratives.get((provider.code, year))
    ret = st.provider_return(data.optional, provider.code, year)
    who = st.profile(provider.provider_type, provider.name, ret)
    checks = st.checklist(who, ret, year, narrative, _commentary_missing(data, provider, year))
    problems = data.narrative_problems.get((provider.code, year), [])
    return Completeness(who, ret, checks, list(problems))


def awaited(data: SiteData, provider: Provider, year: str) -> list[str]:
    """What the document still needs from the provider: every requirement not yet met and
    any problem with its narrative or return. Anything here keeps it a draft."""
    return completeness(data, provider, year).missing


def status(data: SiteData, provider: Provider, year: str) -> str:
    return DRAFT if awaited(data, provider, year) else FINAL


def _methods_table(data: SiteData, provider: Provider, year: str) -> DataTable:
    rows = [
        (
            "PROMs adjusted health gain",
            "NHS Digital, PROMs record-level files and PartLink",
            "Case-mix adjusted health gain with funnel-plot limits at 95% and 99.8% around "
            "England's, to NHS Digital's published method: beyond the 99.8% limits is higher or "
            f"lower than expected; adjusted figures need {MIN_RECORDS} modelled records.",
        ),
        (
            "PROMs participation",
            "NHS Digital, PROMs PartLink",
            "Pre-operative questionnaires divided by procedures recorded in HES.",
        ),
        *methods(data.indicators, provider.code, year),
    ]
    return DataTable(
        name="methods-and-sources",
        caption="Methods and sources for every figure in this document",
        columns=(Column("Figure"), Column("Source"), Column("Method")),
        rows=tuple((Cell(a), Cell(b), Cell(c)) for a, b, c in rows),
    )


def _toc(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Parts (level 2 headings) with their sections (level 3), as the template writes them."""
    parts = [
        (
            "part-1",
            "Part 1: Statement on quality from the chief executive",
            [("declaration", "Chief executive's declaration")],
        ),
        (
            "part-2",
            "Part 2: Priorities for improvement and statements of assurance from the board",
            [
                ("priorities", "Priorities for improvement"),
                ("assurance", "Statements of assurance from the board"),
            ],
        ),
        (
            "part-3",
            "Part 3: Review of quality performance",
            [
                *((d.anchor, d.heading) for d in context["domains"]),
                ("bpt", "Best practice tariffs"),
            ],
        ),
        (
            "annex",
            "Annex",
            [
                (
                    "statements",
                    "Statements from commissioners, Healthwatch and overview and scrutiny "
                    "committees",
                ),
                ("directors", "Statement of directors' responsibilities"),
                ("external-assurance", "External assurance report"),
                ("checklist", "Completeness checklist"),
                ("methods", "Methods and sources"),
                ("suppression", "Suppression and disclosure control"),
                ("provenance", "Provenance"),
                ("data-files", "Data files"),
            ],
        ),
    ]
    return [
        {
            "anchor": anchor,
            "title": title,
            "children": [{"anchor": a, "title": t} for a, t in children],
        }
        for anchor, title, children in parts
    ]


def document_context(data: SiteData, provider: Provider, year: str) -> dict[str, Any]:
    narrative = data.narratives.get((provider.code, year))
    complete = completeness(data, provider, year)
    missing = complete.missing
    name = provider.name
    assurance = st.statements_context(complete.ret, name, year, complete.who, complete.checks)
    checklist = st.checklist_table(complete.checks, year)
    problems = st.problems_table(complete.ret, complete.narrative_problems, year)
    domains = domain_sections(data.indicators, provider.code, name, year)
    proms_participation = participation(data.proms, provider, year)
    bpt = bpt_section(
        data.optional["bpt_criteria"], data.optional["bpt_adjustments"], provider.code, year
    )
    quality = data_quality(data.optional["data_quality"], provider.code, name, year)
    england_all = data.proms.england_participation.get((year, "All Procedures"))
    suggestions = data.indicators.suggestions(provider.code, year, name)
    methods_table = _methods_table(data, provider, year)
    inputs = inputs_table(data.publication)
    sources = sources_table(data.publication)
    spc = spc_sections(data.spc.get((provider.code, year)), name, year)
    tables: list[DataTable] = [
        *([problems] if problems else []),
        *st.statement_tables(assurance),
        *([quality.feeds] if quality.feeds else []),
        *([quality.rules] if quality.rules else []),
        *([quality.files] if quality.files else []),
        *(b.table for d in domains for b in d.core if b.table),
        *(d.others for d in domains if d.others),
        *(section.table for _, section in sorted(spc.items())),
        *([proms_participation] if proms_participation else []),
        *([bpt.income] if bpt.income else []),
        *(t.criteria for t in bpt.tariffs),
        checklist,
        methods_table,
        *([sources] if sources else []),
        *([inputs] if inputs else []),
    ]
    context: dict[str, Any] = {
        "root": "../../",
        "provider": provider,
        "year": year,
        "status": DRAFT if missing else FINAL,
        "missing": missing,
        "assurance": assurance,
        "checklist": checklist,
        "checks": complete.checks,
        "problems": problems,
        "returns_published": complete.ret.published,
        "narrative": narrative,
        "nv": nv,
        "other_years": [
            {"year": other, "href": f"../{quote(other)}/{PAGE_NAME}"}
            for other in data.years_for(provider.code)
            if other != year
        ],
        "suggestions": suggestions,
        "participation_statement": participation_statement(
            data.proms.participation.get((provider.code, year), []), england_all, name, year
        ),
        "quality": quality,
        "domains": domains,
        "spc": spc,
        "indicators_missing": data.indicators.missing,
        "indicators_available": data.indicators.available,
        "proms_participation": proms_participation,
        "min_records": MIN_RECORDS,
        "bpt": bpt,
        "stakeholders": STAKEHOLDERS,
        "methods": methods_table,
        "inputs": inputs,
        "sources": sources,
        "fingerprint": fingerprint(data.publication),
        "pipeline_version": (data.publication or {}).get("pipeline_version"),
        "as_of": as_of(data.all_years()),
        "tables": tables,
        "pdf_href": PDF_NAME,
        "data_folder": DATA_FOLDER,
        "commentary": narrative.commentary if narrative else {},
    }
    context["toc"] = _toc(context)
    return context


__all__ = [
    "SiteData",
    "awaited",
    "commentary_codes",
    "document_context",
    "load_site_data",
    "status",
]
