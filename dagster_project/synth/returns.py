"""Synthetic providers' returns and narrative files, so the demo's Quality Accounts are
honestly mixed: most providers give everything and their documents are final; some leave
items out, one gives a value of the wrong kind and one has no narrative, and theirs stay
drafts that say what is missing.

Every value is synthetic and plainly labelled so in its text. Same arguments, same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dagster_project.ingest import provider_returns as pr
from dagster_project.publish.document import narrative as nv
from dagster_project.publish.names import readable_name
from dagster_project.synth.organisations import Provider

# Which providers (by position in the roster) are left incomplete, and how.
GAP_ITEMS = ("research_recruited", "deaths_reviewed.Q3", "dspt_status")
BAD_VALUE = ("services_income_pct", "112.5")  # a percentage over 100: quarantined
# The core indicators a synthetic narrative comments on (every core code: a comment on an
# indicator the document does not show is never printed).
_CORE = (
    "shmi", "proms_hip_ohs_gain", "proms_knee_oks_gain", "readmission_30d_0_15_pct",
    "readmission_30d_16plus_pct", "responsiveness", "staff_recommend_care_pct", "cdi_rate",
    "incident_rate", "severe_harm_count", "severe_harm_pct", "vte_assessed_pct",
)  # fmt: skip
_SYNTHETIC = "Synthetic text for the demonstration region."


# Counts in the ranges an acute trust's Quality Account reports (a few dozen services and
# national audits, a handful of confidential enquiries), so every sentence reads as plausible.
_COUNTS = {
    "services_provided": (20, 60),
    "audits_covering": (40, 70),
    "enquiries_covering": (3, 9),
    "audit_reports_reviewed": (15, 40),
    "local_audits_reviewed": (20, 150),
    "research_recruited": (200, 3000),
    "deaths_previous_reviews": (20, 80),
    "deaths_previous_problems": (1, 5),
    "deaths_previous_revised": (5, 16),
}
# What most trusts answer; the CQC's enforcement and special reviews are the exception.
_ANSWERS = {"cqc_enforcement": pr.NO, "cqc_special_reviews": pr.NO}


def _value(item: pr.Item, rng: np.random.Generator, year: str) -> str:
    if item.kind == "count":
        low, high = _COUNTS.get(item.item, (5, 400))
        return str(int(rng.integers(low, high)))
    if item.kind == "percent":
        low, high = (
            (0.5, 8) if "error" in item.item else (0.5, 2.5) if "cquin" in item.item else (85, 100)
        )
        return f"{rng.uniform(low, high):.1f}"
    if item.kind == "yes_no":
        return _ANSWERS.get(item.item, pr.YES)
    if item.kind == "choice":
        return item.allowed[0] if item.item != "provider_kind" else "acute"
    if item.kind == "date":
        return f"20{year[5:]}-06-15"
    return f"{_SYNTHETIC} {item.label}."


def return_rows(
    code: str, year: str, seed: int, *, foundation_trust: bool = False, leave_out: Sequence = ()
) -> list[tuple[str, str, str, str]]:
    """(code, year, item, value) for every item of the year, less `leave_out`."""
    rng = np.random.default_rng(_seed(code, year, seed))
    rows = []
    audits = [a["audit_code"] for a in pr.national_audits().get(year, [])]
    for item in pr.items().values():
        if item.qualified_by == "quarter":
            ids = [f"{item.item}.{q}" for q in pr.QUARTERS]
        elif item.qualified_by == "audit":
            ids = [f"{item.item}.{a}" for a in audits]
        else:
            ids = [item.item]
        for item_id in ids:
            value = _value(item, rng, year)
            if item.item == "foundation_trust":
                value = pr.YES if foundation_trust else pr.NO
            elif item.kind == "count" and item.qualified_by == "quarter":
                low, high = (1, 5) if "problems" in item.item else (150, 400)
                value = str(int(rng.integers(low, high)))
            rows.append((code, year, item_id, value))
    # A reviewed count within the deaths, and problems in care within the reviewed.
    values = {r[2]: r[3] for r in rows}
    for q in pr.QUARTERS:
        deaths = int(values[f"deaths.{q}"])
        values[f"deaths_reviewed.{q}"] = str(deaths // 5)
    values["services_reviewed"] = values["services_provided"]
    # A share of a count is a whole number of them: all the enquiries, all but one audit.
    for covering, share, missed in (
        ("audits_covering", "audits_participated_pct", 1),
        ("enquiries_covering", "enquiries_participated_pct", 0),
    ):
        if covering in values and share in values:
            n = int(values[covering])
            values[share] = f"{100 * (n - missed) / n:.1f}"
    values["ce_declaration_name"] = "A. Synthetic (demonstration chief executive)"
    rows = [(c, y, i, values[i]) for c, y, i, _ in rows]
    return [r for r in rows if r[2] not in set(leave_out)]


def _seed(code: str, year: str, seed: int) -> int:
    return (seed * 1_000_003 + sum(ord(c) * 31**i for i, c in enumerate(code + year))) % 2**32


def return_csv(rows: Sequence[tuple[str, str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(pr.HEADER)
    writer.writerows(rows)
    return out.getvalue()


def narrative_text(
    code: str,
    name: str,
    year: str,
    *,
    foundation_trust: bool = False,
    indicators: Sequence[str] = _CORE,
) -> str:
    """A complete narrative: every section, three priorities and a comment on each of
    `indicators` (by default every core indicator)."""
    lines = ["---", f"provider_code: {code}", f"financial_year: {year}", "---", ""]
    # Written as the provider writes its name, not in the register's capitals.
    own_name = readable_name(name) or name
    lines += [f"## {nv.CHIEF_EXECUTIVE}", "", f"{_SYNTHETIC} The chief executive of {own_name}.",
              ""]  # fmt: skip
    lines += [f"## {nv.PRIORITIES}", ""]
    for title in ("Fewer falls", "Earlier treatment of sepsis", "Kinder discharge"):
        lines += [f"### {title}", "", _SYNTHETIC, "", f"{nv.PROGRESS} {_SYNTHETIC}", "",
                  f"{nv.MONITORING} {_SYNTHETIC}", ""]  # fmt: skip
    lines += [f"## {nv.COMMENTARY}", ""]
    for indicator in indicators:
        lines += [f"### {indicator}", "", f"{nv.REASONS} {_SYNTHETIC}", "",
                  f"{nv.ACTIONS} {_SYNTHETIC}", ""]  # fmt: skip
    sections = [nv.COMMISSIONERS, nv.HEALTHWATCH, nv.SCRUTINY]
    if foundation_trust:
        sections.append(nv.DIRECTORS)
    for section in sections:
        lines += [f"## {section}", "", f"{_SYNTHETIC} {section}.", ""]
    return "\n".join(lines)


def write_returns(
    landing_dir: Path, providers: Sequence[Provider], years: Sequence[str], seed: int
) -> dict:
    """Each provider's return and narrative per year under `provider_returns/` and
    `narratives/`; returns the truth: who was left incomplete and how."""
    truth: dict = {"complete": [], "missing_items": {}, "bad_value": {}, "no_narrative": []}
    for index, provider in enumerate(providers):
        foundation_trust = "foundation trust" in provider.name.casefold()
        for year in years:
            key = f"{provider.code} {year}"
            leave_out: tuple[str, ...] = ()
            if index % 6 == 2:
                leave_out = (GAP_ITEMS[(index // 6) % len(GAP_ITEMS)],)
                truth["missing_items"][key] = list(leave_out)
            rows = return_rows(
                provider.code, year, seed, foundation_trust=foundation_trust, leave_out=leave_out
            )
            if index % 6 == 4:
                rows = [(c, y, i, BAD_VALUE[1] if i == BAD_VALUE[0] else v) for c, y, i, v in rows]
                truth["bad_value"][key] = BAD_VALUE[0]
            path = landing_dir / pr.FOLDER / f"{provider.code}-{year}-return.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(return_csv(rows), encoding="utf-8")
            if index % 6 == 5:
                truth["no_narrative"].append(key)
            else:
                text = narrative_text(
                    provider.code, provider.name, year, foundation_trust=foundation_trust
                )
                target = landing_dir / nv.NARRATIVE_FOLDER / f"{provider.code}-{year}{nv.SUFFIX}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            if index % 6 not in (2, 4, 5):
                truth["complete"].append(key)
    return truth


__all__ = ["narrative_text", "return_csv", "return_rows", "write_returns"]
