"""`qa narrative-template`: a narrative file pre-filled from the publication, ready to edit,
and beside it (in `landing/provider_returns/`) a return listing every item of the year.

The provider's name, the core indicators its document will ask it to comment on and
the priorities the data suggests come from the published file when there is one;
without it the template still has every section, so a provider can start early.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from dagster_project.home import Home
from dagster_project.ingest import provider_returns as pr
from dagster_project.publish.document import narrative as nv

_CODE = re.compile(r"[A-Z0-9]{3,5}")
_YEAR = re.compile(r"\d{4}-\d{2}")


class NarrativeTemplateError(ValueError):
    """Why no template was written."""


def _from_publication(published_db: Path, code: str, year: str):
    """(name, indicators, suggestions) for the provider, or None if it is not published."""
    from dagster_project.publish.document.contents import commentary_codes, load_site_data

    data = load_site_data(published_db, None)
    provider = data.proms.providers.get(code)
    if provider is None:
        return None
    suggestions = data.indicators.suggestions(code, year, provider.name)
    return provider.name, commentary_codes(data, provider, year), suggestions


def write_template(home: Home, provider: str, year: str, *, force: bool = False) -> Path:
    code = provider.strip().upper()
    if not _CODE.fullmatch(code):
        raise NarrativeTemplateError(f"{provider!r} is not an ODS code (3 to 5 letters or digits)")
    if not _YEAR.fullmatch(year) or (int(year[:4]) + 1) % 100 != int(year[5:]):
        raise NarrativeTemplateError(f"{year!r} is not a financial year like 2024-25")
    target = home.landing / nv.NARRATIVE_FOLDER / f"{code}-{year}{nv.SUFFIX}"
    if target.exists() and not force:
        raise NarrativeTemplateError(f"{target} already exists (use --force to replace it)")
    found = None
    if home.published_db.is_file():
        found = _from_publication(home.published_db, code, year)
    name, indicators, suggestions = found or (code, [], [])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nv.template(code, name, year, indicators, suggestions), encoding="utf-8")
    return target


def return_template(code: str, year: str) -> str:
    """Every item the year's return may carry, one line each with its value blank (a blank
    value is an item not yet answered, never a problem); the Description column, ignored
    when the file is read, says what each item is and which answers it takes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*pr.HEADER, "Description"))
    audits = pr.national_audits().get(year, [])
    answers = {"count": "a whole number", "percent": "a percentage, 0 to 100, without %",
               "yes_no": "yes or no", "date": "a date like 2025-06-30", "text": "text"}  # fmt: skip
    for item in pr.items().values():
        kind = answers.get(item.kind) or "one of: " + "; ".join(item.allowed)
        if item.qualified_by == "quarter":
            ids = [(f"{item.item}.{q}", q) for q in pr.QUARTERS]
        elif item.qualified_by == "audit":
            ids = [(f"{item.item}.{a['audit_code']}", a["audit_name"]) for a in audits]
        else:
            ids = [(item.item, "")]
        for item_id, what in ids:
            label = item.label.replace(" (per quarter)", "").replace(" (per audit or enquiry)", "")
            when = f" Needed when {item.required_when}." if item.required_when else ""
            description = f"{label}{': ' + what if what else ''} ({kind}).{when}"
            writer.writerow((code, year, item_id, "", description))
    return out.getvalue()


def write_return_template(
    home: Home, provider: str, year: str, *, force: bool = False
) -> Path | None:
    """The return to fill in, or None when one is already in landing (kept unless `force`)."""
    code = provider.strip().upper()
    target = home.landing / pr.FOLDER / f"{code}-{year}-return.csv"
    if target.exists() and not force:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(return_template(code, year), encoding="utf-8")
    return target
