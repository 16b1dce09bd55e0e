"""The provider portal in a real browser (headless Chromium): the filter box works, with and
without a query, and every link on the index, provider and region pages resolves; and
`qa serve` serves the site folder and nothing outside it."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import document_fixtures, skip_or_fail

from dagster_project.publish.portal.serve import make_server
from dagster_project.publish.portal.site import render_site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("portal")
    site_dir, _ = document_fixtures().render_fixture_site(root)
    # RAA's PDF too, for the link checks.
    render_site(root / "quality.duckdb", site_dir, ["RAA"], narrative_dir=root / "narratives")
    return site_dir


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        skip_or_fail("chromium not installed (Debian package chromium)")
    return found


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran, as headless Chromium sees it."""
    result = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _providers(dom: str) -> dict[str, bool]:
    """Provider code -> shown, from the filtered list items."""
    items = re.findall(r'<li data-provider="[^"]* (r[a-z]{2})"( hidden="")?>', dom)
    return {code.upper(): not hidden for code, hidden in items}


def test_filter_box_is_added_and_shows_everyone_without_a_query(site):
    dom = dump_dom((site / "index.html").as_uri())
    assert '<input type="search" id="provider-filter"' in dom
    assert '<label for="provider-filter">Filter providers by name or code</label>' in dom
    assert _providers(dom) == dict.fromkeys(["RAA", "RBB", "RCC", "RDD", "REE"], True)
    assert "5 providers shown" in dom


@pytest.mark.parametrize(
    ("query", "shown"),
    [("alpha", {"RAA"}), ("RDD", {"RDD"}), ("nhs trust", {"RAA", "RBB", "RCC", "RDD", "REE"})],
)
def test_filter_query_hides_other_providers_and_empty_regions(site, query, shown):
    dom = dump_dom((site / "index.html").as_uri() + "?q=" + query.replace(" ", "%20"))
    providers = _providers(dom)
    assert {code for code, visible in providers.items() if visible} == shown
    assert f"{len(shown)} provider{'s' if len(shown) != 1 else ''} shown" in dom
    london_hidden = re.search(
        r'<section aria-labelledby="region-y56" data-region=""( hidden="")?>', dom
    )
    assert bool(london_hidden.group(1)) == (not shown & {"RAA", "RBB"})


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href", ""))


def _resolves(target: Path, fragment: str) -> bool:
    if not target.is_file():
        return False
    return not fragment or f'id="{fragment}"' in target.read_text(encoding="utf-8")


def _broken_links(page: Path, dom: str) -> list[str]:
    parser = _Links()
    parser.feed(dom)
    broken = []
    for href in parser.hrefs:
        parts = urlsplit(href)
        if parts.scheme or href.startswith("/"):
            broken.append(href)  # the site must work from disk: relative links only
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not _resolves(target, parts.fragment):
            broken.append(href)
    return broken


@pytest.mark.parametrize(
    "page",
    ["index.html", "RAA/index.html", "regions/Y56/index.html", "RAA/2017-18/quality-account.html"],
)
def test_links_resolve_in_the_browser(site, page):
    path = site / page
    dom = dump_dom(path.as_uri())
    assert _broken_links(path, dom) == []


def test_provider_page_lists_years_with_downloads_and_status(site):
    html = (site / "RAA" / "index.html").read_text(encoding="utf-8")
    section = html[html.index('id="year-2017-18"') :]
    assert '<a href="2017-18/quality-account.html">Read online (HTML)' in section
    assert '<a href="2017-18/quality-account.pdf">Download PDF' in section
    assert '<a href="2017-18/RAA-2017-18-data.zip">Download the data' in section
    assert '<span class="tag tag--neutral">Final</span>' in section
    older = html[html.index('id="year-2016-17"') :]
    assert '<span class="tag tag--draft">Draft</span>' in older
    assert html.index('id="year-2017-18"') < html.index('id="year-2016-17"')


def test_region_page_compares_its_providers(site):
    html = (site / "regions" / "Y58" / "index.html").read_text(encoding="utf-8")
    table = html[html.index('id="core-shmi-2017-18-caption"') :]
    table = re.sub(r"<[^>]+>", " ", table[: table.index("</table>")])
    table = re.sub(r"\s+", " ", table)
    assert "Cedar NHS Trust 1.010 1.000 1.000 as expected" in table
    assert "Delta NHS Trust" in table and "Alpha" not in table
    assert html.index(">2017-18</h2>") < html.index(">2016-17</h2>")


def test_serve_gives_the_site_and_nothing_outside_it(site):
    (site.parent / "secret.txt").write_text("record-level data", encoding="utf-8")
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/index.html", timeout=10) as response:
            assert b"Quality Accounts by provider" in response.read()
        with urllib.request.urlopen(f"{base}/RAA/2017-18/data/core-shmi.csv", timeout=10) as r:
            assert r.read().startswith(b"Reporting period,")
        for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=10)
            assert refused.value.code == 404, path
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_full_render_keeps_the_data_dictionary(tmp_path):
    """docs/index.html is the dictionary's, not a withdrawn provider's page to remove."""
    fixtures = document_fixtures()
    db = fixtures.build_document_db(tmp_path / "quality.duckdb")
    site_dir = tmp_path / "site"
    dictionary = site_dir / "docs" / "index.html"
    dictionary.parent.mkdir(parents=True)
    dictionary.write_text("<html>the data dictionary</html>", encoding="utf-8")
    render_site(db, site_dir, pdf=False)
    assert dictionary.read_text(encoding="utf-8") == "<html>the data dictionary</html>"
    assert (site_dir / "RAA" / "index.html").is_file()
