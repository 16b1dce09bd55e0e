"""The paginated PDF of a Quality Account, printed from the same HTML by WeasyPrint.

The print stylesheet does the layout (cover, contents with `target-counter` page
numbers, running headers, page numbers, rows never split); WeasyPrint turns the
headings into PDF bookmarks. The HTML is given no base address, so relative links
to the site's other files are left out of the PDF rather than pointing at the
folder it happened to be built in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dagster_project.publish.document.contents import PAGE_NAME, PDF_NAME
from dagster_project.publish.files import write_bytes

PRINTED_FROM = ".quality-account.pdf.sha256"  # the checksum of the HTML the PDF was printed from

# What the page marks as screen only (long detail, folded away in a <details>, that its
# CSV holds whole) is hidden by the print stylesheet anyway; cutting it out before printing
# also saves WeasyPrint parsing and styling it. A narrative cannot fake a marker: its
# text is escaped.
_SCREEN_ONLY = re.compile(r"<!-- screen-only -->.*?<!-- /screen-only -->\n?", re.DOTALL)


def printable(html: str) -> str:
    """The page as printed: without its screen-only blocks."""
    return _SCREEN_ONLY.sub("", html)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango, about a second

    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)  # unsupported screen-only CSS is expected, not news
    try:
        # PDF/UA-1: tagged structure (headings, tables with header cells, figures with their
        # text alternative), the document language and title, for screen readers.
        return HTML(string=printable(html), base_url=None).write_pdf(pdf_variant="pdf/ua-1")
    finally:
        logger.setLevel(level)


def write_pdf(html: str, target: Path) -> Path:
    write_bytes(target, html_to_pdf(html))
    return target


def _html_digest(page: Path) -> str:
    return hashlib.sha256(page.read_bytes()).hexdigest()


def is_printed(page: Path) -> bool:
    """Whether the page's PDF exists and was printed from exactly this HTML."""
    marker, pdf = page.parent / PRINTED_FROM, page.parent / PDF_NAME
    return pdf.is_file() and marker.is_file() and marker.read_text() == _html_digest(page)


def print_page(page: Path) -> Path:
    html = page.read_text("utf-8")
    target = write_pdf(html, page.parent / PDF_NAME)
    (page.parent / PRINTED_FROM).write_text(hashlib.sha256(html.encode("utf-8")).hexdigest())
    return target


def print_pages(pages: list[Path], workers: int | None = None) -> list[Path]:
    """Print the PDFs of `pages` whose HTML changed, a process per core; the PDFs printed.

    Printing is the slow part of publishing (seconds a document), so it runs after the
    HTML and only for pages that changed: a rerun over the same data prints nothing.
    """
    stale = [page for page in pages if not is_printed(page)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(stale)))
    if workers == 1:
        return [print_page(page) for page in stale]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(print_page, stale))


def print_site(site: Path, workers: int | None = None) -> tuple[list[Path], int]:
    """Print every Quality Account of the site that needs it; (printed, already up to date)."""
    pages = sorted(site.glob(f"*/*/{PAGE_NAME}"))
    printed = print_pages(pages, workers)
    return printed, len(pages) - len(printed)
