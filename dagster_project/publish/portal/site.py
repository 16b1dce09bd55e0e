"""Rendering the site: each provider's Quality Account per year (HTML, PDF, CSV), the
provider and region pages, and the index.

Reads only the published DuckDB file (read-only, so observatories can keep it open)
and the providers' narrative files. Output is deterministic: every query is ordered,
every grouping sorted, and no clock, random id or hash order reaches the HTML or CSV,
so the same inputs give byte-identical files. The stylesheet is inlined into every
page so a downloaded page renders on its own, and links are relative so the site
works from disk or any static host.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dagster_project.publish.document.contents import (
    DATA_FOLDER,
    PAGE_NAME,
    PDF_NAME,
    SiteData,
    document_context,
    load_site_data,
)
from dagster_project.publish.document.pdf import PRINTED_FROM, print_pages
from dagster_project.publish.document.proms_section import Provider, PublishedData, load_published
from dagster_project.publish.document.tables import DataTable
from dagster_project.publish.files import write_bytes as _write_bytes
from dagster_project.publish.files import write_text, zip_bytes
from dagster_project.publish.portal import pages as portal

TEMPLATE_DIR = Path(__file__).parents[1] / "templates"
_SAFE_CODE = re.compile(r"[A-Za-z0-9]+")
_SAFE_YEAR = re.compile(r"\d{4}-\d{2}")


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _selected(data: SiteData, provider_codes: Sequence[str] | None) -> list[Provider]:
    providers = data.proms.providers
    if provider_codes is None:
        codes = sorted(providers)
    else:
        if isinstance(provider_codes, str):
            raise TypeError("provider_codes must be a sequence of codes, not one string")
        codes = sorted(set(provider_codes))
        unknown = [c for c in codes if c not in providers]
        if unknown:
            raise ValueError(f"unknown provider codes (England is not a provider): {unknown}")
    return [providers[c] for c in codes]


def _write_tables(folder: Path, tables: Sequence[DataTable]) -> list[Path]:
    """Each table's CSV in `folder`; CSVs of tables no longer in the document are removed."""
    written = []
    for table in tables:
        path = folder / table.csv_name
        write_text(path, table.to_csv())
        written.append(path)
    if folder.is_dir():
        for stale in folder.glob("*.csv"):
            if stale not in written:
                stale.unlink()
    return written


def render_document(
    env: Environment, data: SiteData, provider: Provider, year: str, site: Path
) -> list[Path]:
    """One Quality Account: the HTML page (first in the list) and its tables as CSV (and
    zipped); the PDF is printed from the page afterwards."""
    if not (_SAFE_CODE.fullmatch(provider.code) and _SAFE_YEAR.fullmatch(year)):
        raise ValueError(f"unsafe path component: provider {provider.code!r}, year {year!r}")
    folder = site / provider.code / year
    context = document_context(data, provider, year)
    html = env.get_template("quality_account.html").render(context)
    page = folder / PAGE_NAME
    write_text(page, html)
    tables = context["tables"]
    written = [page, *_write_tables(folder / DATA_FOLDER, tables)]
    bundle = folder / portal.zip_name(provider.code, year)
    _write_bytes(bundle, zip_bytes((t.csv_name, t.to_csv()) for t in tables))
    written.append(bundle)
    return written


def render_portal(
    env: Environment, data: SiteData, site: Path, selected: Sequence[Provider]
) -> list[Path]:
    """The index, the selected providers' pages and every region's comparison page."""
    written = []
    chosen = {p.code for p in selected}
    for code, name, providers in portal.regions(data):
        context = portal.region_context(data, code, name, providers)
        folder = site / portal.REGION_FOLDER / code
        page = folder / "index.html"
        write_text(page, env.get_template("region.html").render(context))
        written += [page, *_write_tables(folder / DATA_FOLDER, portal.region_tables(context))]
        for provider in (p for p in providers if p.code in chosen):
            page = site / provider.code / "index.html"
            rendered = env.get_template("provider.html").render(
                portal.provider_context(data, provider)
            )
            write_text(page, rendered)
            written.append(page)
    index = site / "index.html"
    write_text(index, env.get_template("index.html").render(portal.index_context(data)))
    statement = site / "accessibility.html"
    write_text(statement, env.get_template("accessibility.html").render(root=""))
    return [*written, index, statement]


def render_site(
    published_db: Path,
    site_dir: Path,
    provider_codes: Sequence[str] | None = None,
    *,
    narrative_dir: Path | None = None,
    pdf: bool = True,
    years: Sequence[str] | None = None,
) -> list[Path]:
    """Write each selected provider's documents per year, and the portal; return the paths.

    The portal always lists every provider in the published file (so rendering a
    subset of providers or `years` leaves a complete index); its links assume the
    other documents were rendered by an earlier or concurrent run. A malformed
    narrative file raises `NarrativeError` before anything is written.
    """
    data = load_site_data(Path(published_db), narrative_dir)
    site = Path(site_dir)
    env = environment()
    written: list[Path] = []
    pages: list[Path] = []
    selected = _selected(data, provider_codes)
    wanted = [
        (provider.code, year)
        for provider in selected
        for year in data.years_for(provider.code)
        if years is None or year in years
    ]
    for document in _render_documents(data, env, wanted, site, published_db, narrative_dir):
        pages.append(document[0])
        written += document
    written += render_portal(env, data, site, selected)
    if pdf:
        # Printed from the HTML alone, so an unchanged page keeps its PDF. The pipeline
        # prints in a step of its own (site/quality_account_pdfs) with print_site.
        print_pages(pages)
        written += [page.parent / PDF_NAME for page in pages]
    if provider_codes is None and years is None:
        _remove_withdrawn(site, data)
    return sorted(written)


# Documents are drawn a process per core past this many: each has dozens of charts, a
# tenth of a second apiece, so a region's documents take minutes on one core.
PARALLEL_FROM = 8
_WORKER: dict[str, object] = {}


def _start_worker(published_db: Path, narrative_dir: Path | None) -> None:
    _WORKER["data"] = load_site_data(Path(published_db), narrative_dir)
    _WORKER["env"] = environment()


def _render_in_worker(code: str, year: str, site: Path) -> list[Path]:
    data = _WORKER["data"]
    assert isinstance(data, SiteData)
    env = _WORKER["env"]
    assert isinstance(env, Environment)
    return render_document(env, data, data.proms.providers[code], year, site)


def _render_documents(
    data: SiteData,
    env: Environment,
    wanted: list[tuple[str, str]],
    site: Path,
    published_db: Path,
    narrative_dir: Path | None,
) -> list[list[Path]]:
    """Each wanted (provider, year) document, in order; in a pool of fresh processes (spawned,
    not forked: the chart renderer's engine runs a thread a fork would not carry) when
    there are enough to repay starting them."""
    workers = min(os.cpu_count() or 1, len(wanted))
    if len(wanted) < PARALLEL_FROM or workers < 2:
        return [render_document(env, data, data.proms.providers[c], y, site) for c, y in wanted]
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(Path(published_db), narrative_dir),
    ) as pool:
        futures = [pool.submit(_render_in_worker, c, y, site) for c, y in wanted]
        return [f.result() for f in futures]


_OWN_FILES = (PAGE_NAME, PDF_NAME, PRINTED_FROM, "*-data.zip")


def _remove_withdrawn(site: Path, data: SiteData) -> None:
    """Documents of a provider or year no longer published must not stay at their address."""
    current = {(code, year) for code in data.proms.providers for year in data.years_for(code)}
    for page in site.glob(f"*/*/{PAGE_NAME}"):
        code, year = page.parent.parent.name, page.parent.name
        if code == portal.REGION_FOLDER or (code, year) in current:
            continue
        for pattern in _OWN_FILES:
            for path in page.parent.glob(pattern):
                path.unlink()
        for csv in (page.parent / DATA_FOLDER).glob("*.csv"):
            csv.unlink()
        for folder in (page.parent / DATA_FOLDER, page.parent, page.parent.parent):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    for provider_page in site.glob("*/index.html"):
        folder = provider_page.parent
        # The regions' and the data dictionary's folders hold an index.html too.
        ours = folder.name in (portal.REGION_FOLDER, portal.DOCS_FOLDER)
        withdrawn = not ours and folder.name not in data.proms.providers
        if withdrawn and not any(p for p in folder.iterdir() if p != provider_page):
            provider_page.unlink()
            folder.rmdir()
    regions = {code for code, _, _ in portal.regions(data)}
    for region_page in site.glob(f"{portal.REGION_FOLDER}/*/index.html"):
        if region_page.parent.name not in regions:
            for csv in (region_page.parent / DATA_FOLDER).glob("*.csv"):
                csv.unlink()
            region_page.unlink()
            for folder in (region_page.parent / DATA_FOLDER, region_page.parent):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()


__all__ = ["PublishedData", "load_published", "render_document", "render_site"]
