"""`qa narrative-template`: a narrative file pre-filled from the publication, ready to edit.

The provider's name, the core indicators its document will ask it to comment on and
the priorities the data suggests come from the published file when there is one;
without it the template still has every section, so a provider can start early.
"""

from __future__ import annotations

import re
from pathlib import Path

from dagster_project.home import Home
from dagster_project.publish import narrative as nv

_CODE = re.compile(r"[A-Z0-9]{3,5}")
_YEAR = re.compile(r"\d{4}-\d{2}")


class NarrativeTemplateError(ValueError):
    """Why no template was written."""


def _from_publication(published_db: Path, code: str, year: str):
    """(name, indicators, suggestions) for the provider, or None if it is not published."""
    from dagster_project.publish.document import commentary_codes, load_site_data

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
