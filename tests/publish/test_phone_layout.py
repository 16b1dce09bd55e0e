"""The portal and the documents on a phone: at 390 px wide (an iPhone's width) no table
runs off the screen, because each row reflows into a card whose lines name their column,
and on a wide screen the tables stay tables. Measured in a real browser (Playwright driving
the Debian Chromium the other browser tests use)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import document_fixtures, skip_or_fail

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGES = (
    "index.html",
    "RAA/index.html",
    "regions/Y56/index.html",
    "RAA/2017-18/quality-account.html",
    "RBB/2017-18/quality-account.html",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site_dir, _ = document_fixtures().render_fixture_site(tmp_path_factory.mktemp("phone"))
    return site_dir


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        skip_or_fail("chromium not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


_MEASURE = """() => ({
  pageWidth: document.documentElement.scrollWidth,
  viewport: document.documentElement.clientWidth,
  tables: [...document.querySelectorAll('table')].map(t => ({
    name: t.dataset.table || t.querySelector('caption')?.textContent || '',
    right: Math.round(t.getBoundingClientRect().right),
    display: getComputedStyle(t).display,
  })),
  unlabelled: [...document.querySelectorAll('td')].filter(td =>
    getComputedStyle(td, '::before').content !== JSON.stringify(td.dataset.label || '')
  ).length,
})"""


def _measure(browser, page_path: Path, viewport: dict) -> dict:
    page = browser.new_page(viewport=viewport)
    try:
        page.goto(page_path.as_uri())
        return page.evaluate(_MEASURE)
    finally:
        page.close()


@pytest.mark.parametrize("path", PAGES)
def test_no_table_runs_off_a_phone_screen(site, browser, path):
    seen = _measure(browser, site / path, PHONE)
    assert seen["viewport"] == PHONE["width"]
    off_screen = [t["name"] for t in seen["tables"] if t["right"] > seen["viewport"]]
    assert off_screen == [], "every column of every table within 390 px"
    assert seen["pageWidth"] <= seen["viewport"], "the page never scrolls sideways"
    assert seen["unlabelled"] == 0, "every reflowed cell says which column it is"


def test_a_quality_account_on_a_phone_has_its_tables_and_a_wide_screen_keeps_them(site, browser):
    path = site / "RAA/2017-18/quality-account.html"
    phone = _measure(browser, path, PHONE)
    assert len(phone["tables"]) >= 10
    assert {t["display"] for t in phone["tables"]} == {"block"}
    desktop = _measure(browser, path, DESKTOP)
    assert {t["display"] for t in desktop["tables"]} == {"table"}


def test_every_page_links_an_accessibility_statement_that_states_its_known_problems(site):
    statement = (site / "accessibility.html").read_text(encoding="utf-8")
    assert "<h1>Accessibility statement</h1>" in statement
    assert "has not been checked with a PDF/UA validator" in statement, (
        "a known problem is stated, not hidden"
    )
    for path in PAGES:
        depth = path.count("/")
        html = (site / path).read_text(encoding="utf-8")
        assert f'<a href="{"../" * depth}accessibility.html">Accessibility statement</a>' in html
