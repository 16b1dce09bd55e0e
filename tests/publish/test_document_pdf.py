"""The PDF of a Quality Account, read back as a reader's PDF viewer would: it opens, its text
can be extracted, it names the provider and its core indicator values, it has bookmarks, and
its table of contents gives the pages where the headings really fall."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from conftest import document_fixtures, skip_or_fail

from dagster_project.publish.portal.site import render_site

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    fixtures = document_fixtures()
    root = tmp_path_factory.mktemp("pdf")
    db = fixtures.build_document_db(root / "quality.duckdb")
    narratives = fixtures.write_narratives(root / "narratives")
    render_site(db, root / "site", ["RAA", "RBB"], narrative_dir=narratives)
    return {
        code: root / "site" / code / "2017-18" / "quality-account.pdf" for code in ("RAA", "RBB")
    }


def _pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(str(path))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def test_pdf_opens_with_provider_name_and_core_indicator_values(pdfs):
    text = " ".join(_pages(pdfs["RBB"]))
    assert "Quality Account 2017-18: Beta Hospital NHS Trust" in text
    for value in ("1.162", "25.7", "61.0", "13.6"):  # SHMI, C. diff, personal needs, national
        assert value in text, value
    assert "Surgery within 36 hours: 71.2% of 212 spells; 61 spells waited longer" in text
    assert "Draft: awaiting text from the provider." in text
    final = " ".join(_pages(pdfs["RAA"]))
    assert "We are proud of our staff." in final and "Draft: awaiting" not in final


def test_pdf_has_the_data_quality_by_feed_and_one_line_of_provenance_per_feed(pdfs):
    text = " ".join(_pages(pdfs["RAA"]))
    assert "Rows received and quarantined for Alpha Hospitals NHS Trust in 2017-18, by feed" in text
    assert "each one with its SHA-256 checksum is in provenance-input-files.csv" in text
    assert re.search(r"PROMs records 1 [0-9a-f]{16}", text), "a line per feed, fingerprinted"
    assert "a" * 64 not in text, "the checksums are in the CSV, not the printed annex"


def _outline(reader, items, depth=0, out=None):
    out = [] if out is None else out
    for item in items:
        if isinstance(item, list):
            _outline(reader, item, depth + 1, out)
        else:
            out.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    return out


def test_bookmarks_follow_the_headings(pdfs):
    reader = pypdf.PdfReader(str(pdfs["RAA"]))
    outline = _outline(reader, reader.outline)
    titles = [title for _, title, _ in outline]
    assert titles[0] == "Quality Account 2017-18: Alpha Hospitals NHS Trust"
    for part in (
        "Part 1: Statement on quality from the chief executive",
        "Part 3: Review of quality performance",
        "Summary Hospital-level Mortality Indicator",
        "Annex",
    ):
        assert part in titles, part
    pages = _pages(pdfs["RAA"])
    for _, title, page in outline:
        assert title[:40] in pages[page - 1], (title, page)


def test_table_of_contents_page_numbers_are_where_headings_fall(pdfs):
    for path in pdfs.values():
        pages = _pages(path)
        reader = pypdf.PdfReader(str(path))
        bookmarks = {title[:40]: page for _, title, page in _outline(reader, reader.outline)}
        toc_page = next(i for i, text in enumerate(pages) if text.startswith("Contents"))
        toc = pages[toc_page].removeprefix("Contents")
        entries = re.findall(r"([A-Z][^.]*?) \.{3,} ?(\d+)", toc)
        assert len(entries) >= 15, entries
        for title, number in entries:
            page = int(number)
            assert page > toc_page + 1
            heading = title.strip()[:40]
            assert heading in pages[page - 1], (heading, page)
            assert bookmarks[heading] == page, heading  # where the heading itself was laid out


def test_running_header_and_page_numbers(pdfs):
    pages = _pages(pdfs["RBB"])
    assert "Page" not in pages[0]  # the cover has none
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(pages)}" in text
        assert "Quality Account 2017-18: Beta Hospital NHS Trust" in text


def test_pdfs_differ_at_most_in_creation_metadata(pdfs, tmp_path):
    fixtures = document_fixtures()
    db = fixtures.build_document_db(tmp_path / "quality.duckdb", reverse=True)
    narratives = fixtures.write_narratives(tmp_path / "narratives", reverse=True)
    render_site(db, tmp_path / "site", ["RBB"], narrative_dir=narratives)
    again = (tmp_path / "site" / "RBB" / "2017-18" / "quality-account.pdf").read_bytes()

    def without_metadata(data: bytes) -> bytes:
        return re.sub(rb"/(CreationDate|ModDate) \([^)]*\)", b"", data)

    assert without_metadata(again) == without_metadata(pdfs["RBB"].read_bytes())


def test_unchanged_document_keeps_its_pdf(pdfs):
    fixtures = document_fixtures()
    site = pdfs["RAA"].parents[2]
    before = pdfs["RAA"].stat().st_mtime_ns
    db = site.parent / "quality.duckdb"
    render_site(db, site, ["RAA"], narrative_dir=site.parent / "narratives")
    assert pdfs["RAA"].stat().st_mtime_ns == before
    fixtures.write_narratives(site.parent / "narratives")  # same text: still unchanged
    render_site(db, site, ["RAA"], narrative_dir=site.parent / "narratives")
    assert pdfs["RAA"].stat().st_mtime_ns == before


def _structure(node, found: dict[str, list]) -> dict[str, list]:
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _structure(child, found)
    elif isinstance(node, dict) and "/S" in node:
        found.setdefault(str(node["/S"]), []).append(node)
        if node.get("/K") is not None:
            _structure(node["/K"], found)
    return found


def test_pdf_is_tagged_for_a_screen_reader(pdfs):
    reader = pypdf.PdfReader(str(pdfs["RBB"]))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]), "a tagged PDF"
    assert root["/Lang"] == "en-GB"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == "Quality Account 2017-18: Beta Hospital NHS Trust"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data(), "declares PDF/UA-1"
    tags = _structure(root["/StructTreeRoot"].get_object()["/K"], {})
    assert len(tags.get("/H1", [])) == 1 and len(tags.get("/H2", [])) >= 4
    assert len(tags["/Table"]) >= 10 and len(tags["/TH"]) > len(tags["/Table"])
    figures = tags["/Figure"]
    assert figures, "the charts are figures"
    assert all(str(f.get("/Alt", "")).startswith(("Funnel plot:", "Trend:")) for f in figures), (
        "every chart has its text alternative"
    )


def test_no_page_ends_on_a_heading_cut_off_from_what_it_introduces(pdfs):
    html = (pdfs["RBB"].parent / "quality-account.html").read_text(encoding="utf-8")
    headings = {
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", h))).strip()
        for h in re.findall(r"<h[3-6][^>]*>(.*?)</h[3-6]>", html, re.DOTALL)
    }
    reader = pypdf.PdfReader(str(pdfs["RBB"]))
    ends = []
    for number, page in enumerate(reader.pages, start=1):
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"Page \d+ of \d+", line)]
        for k in (1, 2):
            if " ".join(body[-k:]) in headings:
                ends.append((number, " ".join(body[-k:])))
                break
    assert len(headings) > 20
    assert ends == []


ARTEFACTS = Path(
    os.environ.get("QA_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artefacts")
)


def test_a_chart_page_of_each_pdf_is_kept_as_a_picture_to_look_at(pdfs):
    """The first page with a funnel plot, as PNG in test-artefacts/, for a reviewer's eyes."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        skip_or_fail("pdftoppm not installed (Debian package poppler-utils)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for code, path in pdfs.items():
        number = next(n for n, text in enumerate(_pages(path), start=1) if "Funnel plot:" in text)
        stem = ARTEFACTS / f"{code}-chart-page"
        subprocess.run(
            [pdftoppm, "-r", "70", "-f", str(number), "-l", str(number), "-png", "-singlefile",
             str(path), str(stem)],
            check=True,
        )  # fmt: skip
        assert stem.with_suffix(".png").stat().st_size > 20_000, "a page with a chart on it"
