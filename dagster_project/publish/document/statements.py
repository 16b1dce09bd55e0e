"""The board's statements of assurance (Part 2), the chief executive's declaration, and the
completeness checklist that decides whether a Quality Account is `final`.

What the board states comes from the provider's structured return (the published
`provider_returns`, with its quarantined lines in `provider_return_problems`); which
statements a document must carry depends on the provider's kind and the year (seed
`quality_account_requirements`). A statement the return does not give is printed as
missing, never guessed, and keeps the document a draft; so does any problem with the
provider's narrative or return, listed with its file, line and rule. Nothing here depends
on another provider's files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dagster_project.ingest import provider_returns as pr
from dagster_project.publish.document import narrative as nv
from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import (
    Cell,
    Column,
    DataTable,
    count,
    format_number,
    number,
    text,
)

SEEDS_DIR = pr.SEEDS_DIR
PRESENT, MISSING = "present", "missing"
KINDS = ("acute", "mental health", "ambulance", "community", "independent")
INDEPENDENT = "Independent sector provider"


@dataclass(frozen=True)
class Requirement:
    """One row of seed `quality_account_requirements`."""

    requirement_id: str
    requirement: str
    part: str
    anchor: str
    provider_kinds: tuple[str, ...]
    foundation_trust_only: bool
    from_year: str
    to_year: str
    needs: tuple[str, ...]
    source: str

    def applies(self, kind: str, foundation_trust: bool, year: str) -> bool:
        if self.foundation_trust_only and not foundation_trust:
            return False
        if "all" not in self.provider_kinds and kind not in self.provider_kinds:
            return False
        return self.from_year <= year and (not self.to_year or year <= self.to_year)


@cache
def requirements(seeds_dir: Path = SEEDS_DIR) -> tuple[Requirement, ...]:
    path = seeds_dir / "quality_account_requirements.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(
            Requirement(
                r["requirement_id"],
                r["requirement"],
                r["part"],
                r["anchor"],
                tuple(k.strip() for k in r["provider_kinds"].split(";")),
                r["foundation_trust_only"].strip().lower() == "true",
                r["from_year"],
                r["to_year"],
                tuple(n.strip() for n in r["needs"].split(";") if n.strip()),
                r["source"],
            )
            for r in csv.DictReader(f)
        )


@dataclass
class Return:
    """One provider's return for one year: its values by item id, and its problems."""

    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    problems: list[Row] = field(default_factory=list)
    published: bool = True

    def get(self, item: str) -> str | None:
        return self.values.get(item)

    def yes(self, item: str) -> bool | None:
        value = self.values.get(item)
        return None if value is None else value.strip().casefold() == pr.YES


def provider_return(optional: dict[str, list[Row] | None], code: str, year: str) -> Return:
    rows = optional.get("provider_returns")
    problems = optional.get("provider_return_problems") or []
    out = Return(published=rows is not None)
    for row in rows or []:
        if row["provider_code"] == code and row["financial_year"] == year:
            out.values[row["item"]] = row["value"]
            out.lines[row["item"]] = (row["source_file"], row["row_number"])
    out.problems = [
        p for p in problems if p["provider_code"] == code and p["financial_year"] in (year, None)
    ]
    return out


@dataclass(frozen=True)
class Profile:
    """Which statements apply: the provider's kind and whether it is a foundation trust,
    from its return where it says, and otherwise as stated in `notes`."""

    kind: str
    foundation_trust: bool
    notes: tuple[str, ...]


def profile(provider_type: str | None, name: str, ret: Return) -> Profile:
    notes = []
    kind = (ret.get("provider_kind") or "").strip().casefold()
    if kind not in KINDS:
        kind = "independent" if provider_type == INDEPENDENT else "acute"
        notes.append(
            f"The provider's return does not say what kind of services it provides; "
            f"the statements required of {'an' if kind[0] in 'aeiou' else 'a'} "
            f"{kind} provider are listed."
        )
    ft = ret.yes("foundation_trust")
    if ft is None:
        ft = "foundation trust" in name.casefold()
        notes.append(
            "The provider's return does not say whether it is a foundation trust; "
            f"taken as {'one' if ft else 'not one'} from its name."
        )
    return Profile(kind, ft, tuple(notes))


def _label(item: str) -> str:
    base, qualifier = pr.split_item(item)
    spec = pr.items().get(base)
    label = spec.label if spec else item
    if qualifier is None:
        return label
    label = label.replace(" (per quarter)", "").replace(" (per audit or enquiry)", "")
    if spec and spec.qualified_by == "audit":
        return f"{label}: {_audit_name(qualifier)}"
    return f"{label}, {qualifier}"


@cache
def _audit_names() -> dict[str, str]:
    return {a["audit_code"]: a["audit_name"] for y in pr.national_audits().values() for a in y}


def _audit_name(code: str) -> str:
    return _audit_names().get(code, code)


def _follow_ups(ret: Return, items: list[str]) -> list[str]:
    """Items another answer makes required (`coding_audit=yes` -> the error rates)."""
    extra = []
    for spec in pr.items().values():
        if not spec.required_when:
            continue
        item, _, answer = spec.required_when.partition("=")
        if item in items and (ret.get(item) or "").strip().casefold() == answer:
            extra.append(spec.item)
    return extra


def _audit_list_missing(ret: Return, year: str) -> list[str] | None:
    """Missing per-audit items for the year's list; None when the seed has no list."""
    audits = pr.national_audits().get(year)
    if not audits:
        return None
    missing = []
    for audit in audits:
        code = audit["audit_code"]
        for base, needed in (
            ("audit_eligible", True),
            ("audit_participated", ret.yes(f"audit_eligible.{code}")),
            ("audit_cases_pct", ret.yes(f"audit_participated.{code}")),
        ):
            if needed and ret.get(f"{base}.{code}") is None:
                missing.append(f"{base}.{code}")
    return missing


@dataclass(frozen=True)
class Check:
    requirement: Requirement
    present: bool
    missing: tuple[str, ...]

    @property
    def status(self) -> str:
        return PRESENT if self.present else MISSING


def _narrative_present(token: str, narrative: nv.Narrative | None, commentary_missing: list[str]):
    sections = {
        "narrative.ce": nv.CHIEF_EXECUTIVE,
        "narrative.commissioners": nv.COMMISSIONERS,
        "narrative.healthwatch": nv.HEALTHWATCH,
        "narrative.scrutiny": nv.SCRUTINY,
        "narrative.directors": nv.DIRECTORS,
    }
    if token == "narrative.priorities":
        return [] if narrative and narrative.priorities else ["the priorities for improvement"]
    if token == "narrative.commentary":
        return commentary_missing
    section = sections[token]
    return [] if narrative and narrative.text(section) else [section[0].lower() + section[1:]]


def check(
    requirement: Requirement,
    ret: Return,
    year: str,
    narrative: nv.Narrative | None,
    commentary_missing: list[str],
) -> Check:
    missing: list[str] = []
    items: list[str] = []
    for token in requirement.needs:
        if token.startswith("narrative."):
            missing += _narrative_present(token, narrative, commentary_missing)
        elif token == "audits.year_list":
            absent = _audit_list_missing(ret, year)
            if absent is None:
                missing.append(f"the national audit list for {year}, not held by the pipeline")
            else:
                missing += [_label(i) for i in absent]
        elif "|" in token:
            options = token.split("|")
            items += options
            if not any(ret.get(o) is not None for o in options):
                missing.append(" or ".join(_label(o) for o in options))
        elif token.endswith(".Q*"):
            base = token[:-3]
            items += [f"{base}.{q}" for q in pr.QUARTERS]
            missing += [_label(f"{base}.{q}") for q in pr.QUARTERS if not ret.get(f"{base}.{q}")]
        else:
            items.append(token)
            if ret.get(token) is None:
                missing.append(_label(token))
    missing += [_label(i) for i in _follow_ups(ret, items) if ret.get(i) is None]
    return Check(requirement, not missing, tuple(missing))


def checklist(
    who: Profile,
    ret: Return,
    year: str,
    narrative: nv.Narrative | None,
    commentary_missing: list[str],
) -> list[Check]:
    """Every requirement for the provider's kind and year, met or not, in document order."""
    return [
        check(r, ret, year, narrative, commentary_missing)
        for r in requirements()
        if r.applies(who.kind, who.foundation_trust, year)
    ]


def checklist_table(checks: list[Check], year: str) -> DataTable:
    return DataTable(
        name=f"completeness-checklist-{year}",
        caption=f"Completeness checklist {year}: every requirement for this provider and year",
        columns=(
            Column("Requirement"),
            Column("Where it appears"),
            Column("Status"),
            Column("Missing"),
            Column("Source"),
        ),
        rows=tuple(
            (
                Cell(c.requirement.requirement),
                Cell(c.requirement.part),
                Cell(
                    "Present" if c.present else "Missing",
                    css="neutral" if c.present else "draft",
                    value=c.status,
                ),
                text("; ".join(c.missing) if c.missing else None, "nothing missing"),
                Cell(c.requirement.source),
            )
            for c in checks
        ),
    )


def _item_cell(item: str | None) -> Cell:
    """The item in words; its id (what the provider types in the return) in the CSV."""
    if item is None:
        return Cell(None, "blank")
    known = pr.split_item(item)[0] in pr.items()
    return Cell(_label(item) if known else item, value=item)


def problems_table(ret: Return, narrative_problems: list[str], year: str) -> DataTable | None:
    """Every line of the provider's return that broke a rule, and every narrative file that
    could not be used: the file and line, and the rule in words (its id in the CSV)."""
    rows = [
        (
            Cell(p["source_file"] or "not recorded"),
            text(None if p["row_number"] is None else str(p["row_number"]), "no line"),
            _item_cell(p["item"]),
            text(p["value"], "blank"),
            Cell(p["reason"], value=p["rule"]),
        )
        for p in sorted(ret.problems, key=lambda p: (p["source_file"] or "", p["row_number"] or 0))
    ]
    for message in narrative_problems:
        where, _, problem = message.removeprefix("narrative file ").partition(": ")
        name, _, line = where.partition(", line ")
        rows.append(
            (
                Cell(name),
                text(line or None, "no line"),
                text(None, "the narrative file"),
                text(None, "not a value"),
                Cell(problem[:1].upper() + problem[1:], value="narrative_file"),
            )
        )
    if not rows:
        return None
    return DataTable(
        name=f"input-problems-{year}",
        caption=f"Problems with the provider's narrative and return for {year}",
        columns=(
            Column("File"),
            Column("Line", numeric=True),
            Column("Item"),
            Column("Value"),
            Column("Rule broken"),
        ),
        rows=tuple(rows),
    )


# -- the statements themselves ---------------------------------------------------------------


def _fmt(value: str | None, kind: str = "text") -> str | None:
    if value is None:
        return None
    if kind == "percent":
        return format_number(float(value), 1) + "%"
    if kind == "count":
        return f"{int(value):,}"
    return value


def _sentence(template: str, *values: str | None) -> str | None:
    """The prescribed sentence with its figures, or None when any figure is missing."""
    if any(v is None for v in values):
        return None
    # A provider's own text usually ends in a full stop; the sentence adds its own.
    return template.format(*(_unstopped(v) for v in values))


def _unstopped(text: str) -> str:
    """A provider's text placed inside a sentence that ends with its own full stop."""
    return text.rstrip().rstrip(".")


def _clause(text: str | None) -> str:
    return "not described" if text is None else _unstopped(text)


def _percent_cell(value: str | None, reason: str) -> Cell:
    return number(None if value is None else float(value), 1, reason)


def _count_cell(value: str | None) -> Cell:
    return count(None if value is None else int(value), "not given")


def audits_table(ret: Return, year: str) -> DataTable | None:
    audits = pr.national_audits().get(year)
    if not audits:
        return None

    def answer(item: str) -> Cell:
        value = ret.get(item)
        return text(value.capitalize() if value else None, "not given")

    rows = []
    for a in audits:
        code = a["audit_code"]
        eligible = ret.yes(f"audit_eligible.{code}")
        took_part = ret.yes(f"audit_participated.{code}")
        cases = ret.get(f"audit_cases_pct.{code}")
        rows.append(
            (
                Cell(a["audit_name"]),
                Cell(a["kind"].capitalize()),
                answer(f"audit_eligible.{code}"),
                answer(f"audit_participated.{code}")
                if eligible is not False
                else text(None, "not eligible"),
                _percent_cell(cases, "not given")
                if took_part
                else text(None, "did not take part" if took_part is False else "not given"),
            )
        )
    return DataTable(
        name=f"national-audits-{year}",
        caption=f"National clinical audits and confidential enquiries {year}: eligibility, "
        "participation and cases submitted",
        columns=(
            Column("Audit or enquiry"),
            Column("Kind"),
            Column("Eligible"),
            Column("Took part"),
            Column("Cases submitted (% of cases required)", numeric=True),
        ),
        rows=tuple(rows),
        notes=(f"The list is a selection from the year's national list: {audits[0]['source']}.",),
    )


def sus_table(ret: Return, year: str) -> DataTable:
    settings = (("admitted", "Admitted patient care"), ("outpatient", "Outpatient care"),
                ("ae", "Accident and emergency care"))  # fmt: skip
    return DataTable(
        name=f"sus-data-quality-{year}",
        caption=f"Records submitted to the Secondary Uses Service, {year}: share with a valid "
        "NHS number and a valid General Medical Practice code",
        columns=(
            Column("Setting"),
            Column("Valid NHS number (%)", numeric=True),
            Column("Valid General Medical Practice code (%)", numeric=True),
        ),
        rows=tuple(
            (
                Cell(label),
                _percent_cell(ret.get(f"sus_nhs_number_{key}_pct"), "not given"),
                _percent_cell(ret.get(f"sus_gp_code_{key}_pct"), "not given"),
            )
            for key, label in settings
        ),
    )


def deaths_table(ret: Return, year: str) -> DataTable:
    rows = []
    for q in pr.QUARTERS:
        deaths = ret.get(f"deaths.{q}")
        problems = ret.get(f"deaths_problems_in_care.{q}")
        share = None
        if deaths and problems and int(deaths) > 0:
            share = 100 * int(problems) / int(deaths)
        rows.append(
            (
                Cell(q),
                _count_cell(deaths),
                _count_cell(ret.get(f"deaths_reviewed.{q}")),
                _count_cell(problems),
                number(share, 1, "not given" if not deaths or not problems else "no deaths"),
            )
        )
    return DataTable(
        name=f"learning-from-deaths-{year}",
        caption=f"Learning from deaths {year}: deaths, reviews and deaths judged more likely "
        "than not due to problems in care, by quarter",
        columns=(
            Column("Quarter"),
            Column("Deaths", numeric=True),
            Column("Case record reviews and investigations", numeric=True),
            Column("Judged more likely than not due to problems in care", numeric=True),
            Column("Share of deaths (%)", numeric=True),
        ),
        rows=tuple(rows),
    )


def statements_context(
    ret: Return, name: str, year: str, who: Profile, checks: list[Check]
) -> dict[str, Any]:
    """The Part 2 statements in the prescribed order, each a list of sentences (None where
    the figure is missing) and tables, with which apply to this provider."""
    g = ret.get
    applies = {c.requirement.requirement_id for c in checks}
    services = _sentence(
        "During {0} {1} provided and/or sub-contracted {2} relevant health services.",
        year, name, _fmt(g("services_provided"), "count"),
    )  # fmt: skip
    reviewed = _sentence(
        "{0} has reviewed all the data available to it on the quality of care in {1} of these "
        "relevant health services.",
        name, _fmt(g("services_reviewed"), "count"),
    )  # fmt: skip
    income = _sentence(
        "The income generated by the relevant health services reviewed in {0} represents {1} "
        "of the total income generated from the provision of relevant health services by {2} "
        "for {0}.",
        year, _fmt(g("services_income_pct"), "percent"), name,
    )  # fmt: skip
    covering = _sentence(
        "During {0} {1} national clinical audits and {2} national confidential enquiries "
        "covered relevant health services that {3} provides.",
        year, _fmt(g("audits_covering"), "count"), _fmt(g("enquiries_covering"), "count"), name,
    )  # fmt: skip
    participated = _sentence(
        "During that period {0} participated in {1} of the national clinical audits and {2} of "
        "the national confidential enquiries which it was eligible to participate in.",
        name, _fmt(g("audits_participated_pct"), "percent"),
        _fmt(g("enquiries_participated_pct"), "percent"),
    )  # fmt: skip
    reports = _sentence(
        "The reports of {0} national clinical audits were reviewed by the provider in {1}.",
        _fmt(g("audit_reports_reviewed"), "count"), year,
    )  # fmt: skip
    local = _sentence(
        "The reports of {0} local clinical audits were reviewed by the provider in {1}.",
        _fmt(g("local_audits_reviewed"), "count"), year,
    )  # fmt: skip
    research = _sentence(
        "The number of patients receiving relevant health services provided or sub-contracted "
        "by {0} in {1} that were recruited during that period to participate in research "
        "approved by a research ethics committee was {2}.",
        name, year, _fmt(g("research_recruited"), "count"),
    )  # fmt: skip
    cquin_pct = g("cquin_income_pct")
    cquin = (
        _sentence(
            "A proportion of {0}'s income in {1}, {2}, was conditional on achieving quality "
            "improvement and innovation goals agreed with its commissioners through the "
            "Commissioning for Quality and Innovation (CQUIN) payment framework.",
            name,
            year,
            _fmt(cquin_pct, "percent"),
        )  # fmt: skip
        if cquin_pct is not None
        else g("cquin_note")
    )
    registration = g("cqc_registration")
    cqc = [
        _sentence(
            "{0} is required to register with the Care Quality Commission and its current "
            "registration status is {1}.",
            name,
            registration,
        )  # fmt: skip
        if registration != "not required to register"
        else f"{name} is not required to register with the Care Quality Commission.",
        # Conditions are stated only where the registration has them (not None, which
        # would mean a statement missing from the return).
        *(
            [_sentence("The conditions on its registration are: {0}.", g("cqc_conditions"))]
            if registration == "registered with conditions"
            else []
        ),
        None
        if ret.yes("cqc_enforcement") is None
        else (
            f"The Care Quality Commission has taken enforcement action against {name} during "
            f"{year}: {_clause(g('cqc_enforcement_detail'))}."
            if ret.yes("cqc_enforcement")
            else f"The Care Quality Commission has not taken enforcement action against "
            f"{name} during {year}."
        ),
        None
        if ret.yes("cqc_special_reviews") is None
        else (
            f"{name} has participated in special reviews or investigations by the Care "
            f"Quality Commission during {year}: "
            f"{_clause(g('cqc_special_reviews_detail'))}."
            if ret.yes("cqc_special_reviews")
            else f"{name} has not participated in any special reviews or investigations by "
            f"the Care Quality Commission during {year}."
        ),
    ]
    coding = None
    if ret.yes("coding_audit") is False:
        coding = f"{name} was not subject to a clinical coding audit during {year}."
    elif ret.yes("coding_audit"):
        coding = _sentence(
            "{0} was subject to a clinical coding audit during {1}; the error rates reported "
            "were: primary diagnoses incorrect {2}; secondary diagnoses incorrect {3}; primary "
            "procedures incorrect {4}; secondary procedures incorrect {5}.",
            name, year, *(_fmt(g(f"coding_error_{k}_pct"), "percent") for k in
                          ("primary_diagnosis", "secondary_diagnosis", "primary_procedure",
                           "secondary_procedure")),
        )  # fmt: skip
    dspt = g("dspt_status")
    deaths_total = [g(f"deaths.{q}") for q in pr.QUARTERS]
    total = None if None in deaths_total else str(sum(int(d) for d in deaths_total))
    return {
        "who": who,
        "applies": applies,
        "show_sus": bool(applies & {"sus_admitted_outpatient", "sus_ae"}),
        "services": [services, reviewed, income],
        "audits": [covering, participated],
        "audits_table": audits_table(ret, year),
        "audit_reports": [reports, g("audit_actions")],
        "local_audits": [local, g("local_audit_actions")],
        "research": research,
        "cquin": cquin,
        "cqc": cqc,
        "sus": sus_table(ret, year),
        "dspt": _sentence(
            "{0}'s Data Security and Protection Toolkit assessment for {1}: {2}.", name, year, dspt
        ),
        "coding": coding,
        "data_quality_actions": g("data_quality_actions"),
        "deaths_total": _sentence(
            "During {0} {1} of {2}'s patients died.", year, _fmt(total, "count"), name
        ),
        "deaths": deaths_table(ret, year),
        "deaths_text": [
            ("How deaths were judged", g("deaths_method")),
            ("What the provider has learnt", g("deaths_lessons")),
            ("Actions taken and proposed", g("deaths_actions")),
            ("The impact of those actions", g("deaths_impact")),
        ],
        "deaths_previous": [
            _sentence(
                "{0} case record reviews and investigations were completed after the previous "
                "year's Quality Account of deaths in that year.",
                _fmt(g("deaths_previous_reviews"), "count"),
            ),
            _sentence(
                "{0} of those deaths are judged more likely than not to have been due to "
                "problems in the care provided.",
                _fmt(g("deaths_previous_problems"), "count"),
            ),
            _sentence(
                "This gives a revised estimate of {0} deaths in the previous year judged more "
                "likely than not to have been due to problems in care.",
                _fmt(g("deaths_previous_revised"), "count"),
            ),
        ],
        "seven_day_services": g("seven_day_services"),
        "freedom_to_speak_up": g("freedom_to_speak_up"),
        "rota_gaps": g("rota_gaps"),
        "declaration": {"name": g("ce_declaration_name"), "date": g("ce_declaration_date")},
    }


def statement_tables(context: dict[str, Any]) -> list[DataTable]:
    """The statements' tables, for the document's CSV files."""
    applies = context["applies"]
    tables = []
    if context["audits_table"] is not None and "national_audit_list" in applies:
        tables.append(context["audits_table"])
    if applies & {"sus_admitted_outpatient", "sus_ae"}:
        tables.append(context["sus"])
    if "learning_from_deaths" in applies:
        tables.append(context["deaths"])
    return tables


__all__ = [
    "Check",
    "Profile",
    "Requirement",
    "Return",
    "checklist",
    "checklist_table",
    "problems_table",
    "profile",
    "provider_return",
    "requirements",
    "statement_tables",
    "statements_context",
]
