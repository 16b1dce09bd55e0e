"""The providers' structured return: the figures and statements a board states in Part 2
that no national file carries (audits, research, CQUIN, CQC, data quality, learning from
deaths), one line per item in a long layout:

    Organisation code,Financial year,Item,Value
    RCF,2024-25,services_provided,42
    RCF,2024-25,deaths.Q1,311

Items are keyed by the ids in seed `provider_return_items`; a per-audit item carries the
audit's code from seed `national_clinical_audits` (`audit_eligible.NHFD`), a per-quarter
item its quarter (`deaths.Q1`). A long layout keeps every value's line in the file, so a
bad value is quarantined on its own with the file, the line and the rule, and the rest of
the return still counts. The value checks are derived here and compared by the suite.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from dagster_project.ingest.tabular import Column, Layout

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
FOLDER = "provider_returns"
KINDS = ("count", "percent", "yes_no", "choice", "date", "text")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
YES, NO = "yes", "no"

PROVIDER_RETURN = Layout(
    kind="provider_return",
    table="provider_returns",
    columns=(
        Column(
            "organisation_code",
            ("organisation code", "org code", "provider code", "trust code", "ods code"),
        ),
        Column("financial_year", ("financial year", "year")),
        Column("item", ("item", "item id", "return item")),
        Column("value", ("value", "answer")),
    ),
)
HEADER = ("Organisation code", "Financial year", "Item", "Value")


@dataclass(frozen=True)
class Item:
    """One item a return may carry, as seed `provider_return_items` describes it."""

    item: str
    section: str
    label: str
    kind: str
    allowed: tuple[str, ...]
    qualified_by: str
    required_when: str
    source: str


@cache
def items(seeds_dir: Path = SEEDS_DIR) -> dict[str, Item]:
    with (seeds_dir / "provider_return_items.csv").open(encoding="utf-8", newline="") as f:
        return {
            r["item"]: Item(
                r["item"],
                r["section"],
                r["label"],
                r["kind"],
                tuple(a for a in r["allowed"].split("|") if a),
                r["qualified_by"],
                r["required_when"],
                r["source"],
            )
            for r in csv.DictReader(f)
        }


@cache
def national_audits(seeds_dir: Path = SEEDS_DIR) -> dict[str, list[dict[str, str]]]:
    """The year's national audits and confidential enquiries, by financial year."""
    out: dict[str, list[dict[str, str]]] = {}
    with (seeds_dir / "national_clinical_audits.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["financial_year"], []).append(row)
    return out


def split_item(item: str) -> tuple[str, str | None]:
    """`audit_eligible.NHFD` -> (`audit_eligible`, `NHFD`); `research_recruited` -> (it, None)."""
    base, _, qualifier = item.partition(".")
    return base, qualifier or None


def _known(item: object, year: object) -> bool | None:
    if not isinstance(item, str) or not item:
        return None
    base, qualifier = split_item(item)
    spec = items().get(base)
    if spec is None:
        return False
    if not spec.qualified_by:
        return qualifier is None
    if spec.qualified_by == "quarter":
        return qualifier in QUARTERS
    codes = {a["audit_code"] for a in national_audits().get(str(year), [])}
    return qualifier in codes


_COUNT = re.compile(r"\d+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def value_fits(kind: str, value: str, allowed: tuple[str, ...] = ()) -> bool:
    """Whether a (non-blank) value is of the item's kind."""
    text = value.strip()
    if kind == "count":
        return bool(_COUNT.fullmatch(text))
    if kind == "percent":
        return bool(_NUMBER.fullmatch(text)) and 0 <= float(text) <= 100
    if kind == "yes_no":
        return text.casefold() in (YES, NO)
    if kind == "choice":
        return text.casefold() in allowed
    if kind == "date":
        return bool(_DATE.fullmatch(text)) and not pd.isna(pd.to_datetime(text, errors="coerce"))
    return True


def add_return_checks(frame: pd.DataFrame) -> pd.DataFrame:
    """`_item_known`, one `_<kind>_value` column per kind (NA where the item is of another
    kind or the value is blank), and `_item_once` (an item given once per provider and year
    in a file)."""
    out = frame.copy()
    catalogue = items()
    known = [_known(i, y) for i, y in zip(out["item"], out["financial_year"], strict=True)]
    out["_item_known"] = pd.array(known, dtype="boolean")
    specs = [
        catalogue.get(split_item(i)[0]) if isinstance(i, str) and ok else None
        for i, ok in zip(out["item"], known, strict=True)
    ]
    values = out["value"].astype("string")
    for kind in KINDS[:-1]:
        checks: list[bool | None] = []
        for spec, value in zip(specs, values, strict=True):
            if spec is None or spec.kind != kind or pd.isna(value) or not str(value).strip():
                checks.append(None)
            else:
                checks.append(value_fits(kind, str(value), spec.allowed))
        out[f"_{kind}_value"] = pd.array(checks, dtype="boolean")
    # Files validated together are told apart by name: a repeat is within one file.
    by = [c for c in ("source_file", "organisation_code", "financial_year", "item") if c in out]
    keys = out[by].astype("string")
    duplicated = keys.duplicated(keep=False) & keys["item"].notna()
    out["_item_once"] = pd.array(~duplicated.to_numpy(), dtype="boolean")
    return out


__all__ = [
    "FOLDER",
    "HEADER",
    "PROVIDER_RETURN",
    "Item",
    "add_return_checks",
    "items",
    "national_audits",
    "split_item",
    "value_fits",
]
