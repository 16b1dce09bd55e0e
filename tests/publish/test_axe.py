"""The portal and a Quality Account checked with axe-core in the real browser, as an
accessibility auditor would: no serious or critical violation on any kind of page."""

from __future__ import annotations

import pytest
from conftest import document_fixtures
from test_phone_layout import PAGES, browser  # noqa: F401  (the shared Chromium)

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir, _ = document_fixtures().render_fixture_site(tmp_path_factory.mktemp("axe"))
    return site_dir


@pytest.mark.parametrize("path", [*PAGES, "accessibility.html"])
def test_no_serious_or_critical_accessibility_violation(site, browser, path):  # noqa: F811
    page = browser.new_page()
    try:
        page.goto((site / path).as_uri())
        results = axe_playwright.Axe().run(page)
    finally:
        page.close()
    violations = results.response["violations"]
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
