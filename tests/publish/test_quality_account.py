"""Quality Account pages and index, rendered from a small published DuckDB fixture.

The fixture plants one case per behaviour a reader would check: a negative
outlier (Beta, whose name also carries a `<script>` tag), a positive outlier,
a provider with too few records, one with participation but no outcome rows,
a provider in the UNKNOWN region and one with data in two years. PROMs outcomes
reach the page through the indicator tables, as the pipeline publishes them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish.charts import render
from dagster_project.publish.charts.funnel import Funnel, FunnelPoint, Highlight, LimitPoint
from dagster_project.publish.portal.site import render_site

BETA = "Beta <script>alert(1)</script> Trust"

PROVIDERS = [
    ("ENG", "England", "ENG", "England", "country"),
    ("RAA", "Alpha Hospitals NHS Trust", "Y56", "London", "trust"),
    ("RBB", BETA, "Y58", "South West", "trust"),
    ("RCC", "Cedar Hospital", "Y56", "London", "trust"),
    ("RDD", "Delta Clinic", "UNKNOWN", "Region not known", "independent"),
    ("REE", "Echo NHS Trust", "Y61", "East of England", "trust"),
]

OUTCOME_COLUMNS = (
    "financial_year", "provider_code", "region_code", "procedure", "measure", "modelled_records",
    "average_pre_op_score", "average_post_op_score", "health_gain", "improved", "same", "worse",
    "adjusted_post_op_score", "adjusted_health_gain", "standard_deviation", "outlier_status",
    "england_adjusted_health_gain", "lower_limit_998", "lower_limit_95", "upper_limit_95",
    "upper_limit_998",
)  # fmt: skip

HIP = "Hip Replacement Primary"
CENTRE, SD = 21.37, 8.0  # England's Oxford Hip adjusted health gain and residual SD


def _outcome(year, code, region, procedure, measure, n, gain, adjusted, sd, status, england):
    limits = [None] * 4
    if adjusted is not None and n:
        half95, half998 = 1.959964 * SD / n**0.5, 3.090232 * SD / n**0.5
        limits = [england - half998, england - half95, england + half95, england + half998]
    return (
        year, code, region, procedure, measure, n, 18.0, 18.0 + (gain or 0), gain, n, 0, 0,
        None if adjusted is None else adjusted + 18.0, adjusted, sd, status, england, *limits,
    )  # fmt: skip


def _outcome_rows() -> list[tuple]:
    y = "2017-18"
    rows = [
        _outcome(y, "ENG", "ENG", HIP, "Oxford Hip Score", 36000, 21.3, CENTRE, SD, None, CENTRE),
        _outcome(y, "ENG", "ENG", HIP, "EQ-5D Index", 35000, 0.45, 0.4567, 0.22, None, 0.4567),
        _outcome(y, "RAA", "Y56", HIP, "Oxford Hip Score", 200, 21.0, 21.5, 7.9,
                 "Not an outlier", CENTRE),
        _outcome(y, "RAA", "Y56", HIP, "EQ-5D Index", 190, 0.44, 0.4489, 0.21,
                 "Not an outlier", 0.4567),
        _outcome(y, "RAA", "Y56", "Total Hip Replacement", "Oxford Hip Score", 230, 20.8, None,
                 None, None, None),
        _outcome(y, "RBB", "Y58", HIP, "Oxford Hip Score", 150, 17.1, 17.0, 8.3,
                 "Negative outlier (99.8%)", CENTRE),
        _outcome(y, "RCC", "Y56", HIP, "Oxford Hip Score", 20, 22.0, None, None,
                 "Insufficient records", CENTRE),
        _outcome(y, "RDD", "UNKNOWN", HIP, "Oxford Hip Score", 300, 23.1, 23.0, 7.5,
                 "Positive outlier (99.8%)", CENTRE),
        _outcome("2016-17", "ENG", "ENG", HIP, "Oxford Hip Score", 35000, 21.0, 21.1, 8.1,
                 None, 21.1),
        _outcome("2016-17", "RAA", "Y56", HIP, "Oxford Hip Score", 180, 20.5, 20.9, 8.0,
                 "Not an outlier", 21.1),
    ]  # fmt: skip
    return rows


def _participation_rows() -> list[tuple]:
    def row(year, code, region, procedure, hes, preop):
        rate = None if hes is None or preop is None else preop / hes
        return (year, code, region, procedure, hes, preop, rate, None, None, None, None, None, None)

    return [
        row("2017-18", "ENG", "ENG", "All Procedures", 100000, 80000),
        row("2017-18", "RAA", "Y56", "All Procedures", 400, 300),
        row("2017-18", "RAA", "Y56", "Primary Hip Replacement", 210, 219),
        row("2017-18", "RBB", "Y58", "All Procedures", 170, 160),
        row("2017-18", "RCC", "Y56", "All Procedures", 25, 21),
        row("2017-18", "RDD", "UNKNOWN", "All Procedures", 320, 310),
        row("2017-18", "REE", "Y61", "All Procedures", 90, 40),
        row("2017-18", "REE", "Y61", "Revision Knee Replacement", None, None),
        row("2016-17", "RAA", "Y56", "All Procedures", 380, 250),
    ]


def build_published_db(path: Path, *, reverse: bool = False) -> Path:
    """The published tables as the contract defines them; `reverse` flips insert order."""

    def ordered(rows):
        return list(reversed(rows)) if reverse else list(rows)

    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE providers (provider_code VARCHAR, provider_name VARCHAR, "
        "region_code VARCHAR, region_name VARCHAR, provider_type VARCHAR)"
    )
    con.executemany("INSERT INTO providers VALUES (?, ?, ?, ?, ?)", ordered(PROVIDERS))
    types = {
        "modelled_records": "INTEGER", "improved": "INTEGER", "same": "INTEGER",
        "worse": "INTEGER", "financial_year": "VARCHAR", "provider_code": "VARCHAR",
        "region_code": "VARCHAR", "procedure": "VARCHAR", "measure": "VARCHAR",
        "outlier_status": "VARCHAR",
    }  # fmt: skip
    columns = ", ".join(f"{c} {types.get(c, 'DOUBLE')}" for c in OUTCOME_COLUMNS)
    con.execute(f"CREATE TABLE proms_provider_outcomes ({columns})")
    marks = ", ".join("?" * len(OUTCOME_COLUMNS))
    con.executemany(
        f"INSERT INTO proms_provider_outcomes VALUES ({marks})", ordered(_outcome_rows())
    )
    con.execute(
        "CREATE TABLE proms_participation (financial_year VARCHAR, provider_code VARCHAR, "
        "region_code VARCHAR, procedure VARCHAR, hes_procedures INTEGER, "
        "pre_op_questionnaires INTEGER, participation_rate DOUBLE, linked INTEGER, "
        "linkage_rate DOUBLE, q2_issued INTEGER, issue_rate DOUBLE, q2_returned INTEGER, "
        "response_rate DOUBLE)"
    )
    con.executemany(
        f"INSERT INTO proms_participation VALUES ({', '.join('?' * 13)})",
        ordered(_participation_rows()),
    )
    _indicator_tables(con, ordered)
    con.close()
    return path


# PROMs measures as the indicator catalogue names them, and NHS Digital's outlier status in
# the one verdict wording every indicator uses (judged at 99.8%).
MEASURES = {
    "Oxford Hip Score": ("proms_hip_ohs_gain", "Adjusted health gain, Oxford Hip Score, "
                         "primary hip replacement", "points", True),
    "EQ-5D Index": ("proms_hip_eq5d_gain", "Adjusted health gain, EQ-5D Index, primary hip "
                    "replacement", "index points", False),
}  # fmt: skip
VERDICT = {
    "Positive outlier (99.8%)": "higher than expected",
    "Negative outlier (99.8%)": "lower than expected",
    "Insufficient records": "insufficient data",
}


def _indicator_tables(con, ordered) -> None:
    con.execute(
        "CREATE TABLE indicator_catalogue (indicator_code VARCHAR, indicator_name VARCHAR, "
        "domain VARCHAR, unit VARCHAR, higher_is_better BOOLEAN, core_indicator BOOLEAN, "
        "source VARCHAR, method VARCHAR, min_denominator DOUBLE, denominator_noun VARCHAR)"
    )
    con.executemany(
        "INSERT INTO indicator_catalogue VALUES (?, ?, 'outcomes', ?, true, ?, 'NHS Digital "
        "PROMs', 'proms_outlier', 30, 'modelled records')",
        [(code, name, unit, core) for code, name, unit, core in MEASURES.values()],
    )
    con.execute(
        "CREATE TABLE indicator_values (financial_year VARCHAR, provider_code VARCHAR, "
        "region_code VARCHAR, indicator_code VARCHAR, numerator DOUBLE, denominator DOUBLE, "
        "value DOUBLE, national_value DOUBLE, lower_95 DOUBLE, upper_95 DOUBLE, "
        "lower_998 DOUBLE, upper_998 DOUBLE, comparison VARCHAR, withheld VARCHAR)"
    )
    con.execute(
        "CREATE TABLE core_indicators (financial_year VARCHAR, provider_code VARCHAR, "
        "region_code VARCHAR, indicator_code VARCHAR, value DOUBLE, previous_value DOUBLE, "
        "national_value DOUBLE, highest_value DOUBLE, lowest_value DOUBLE, "
        "comparator_group VARCHAR, period_label VARCHAR)"
    )
    rows = [dict(zip(OUTCOME_COLUMNS, r, strict=True)) for r in _outcome_rows()]
    values = []
    for r in rows:
        if r["provider_code"] == "ENG" or r["procedure"] != HIP:
            continue
        code = MEASURES[r["measure"]][0]
        values.append((
            r["financial_year"], r["provider_code"], r["region_code"], code, None,
            r["modelled_records"], r["adjusted_health_gain"], r["england_adjusted_health_gain"],
            r["lower_limit_95"], r["upper_limit_95"], r["lower_limit_998"],
            r["upper_limit_998"], VERDICT.get(r["outlier_status"], "as expected"), None,
        ))  # fmt: skip
    con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 14)})", ordered(values))
    core = []
    for v in values:
        if v[3] != "proms_hip_ohs_gain":
            continue
        peers = [w[6] for w in values if w[0] == v[0] and w[3] == v[3] and w[6] is not None]
        last = next((w[6] for w in values if w[1] == v[1] and w[3] == v[3] and w[0] < v[0]), None)
        period = f"Operations April {v[0][:4]} to March {int(v[0][:4]) + 1}"
        core.append((v[0], v[1], v[2], v[3], v[6], last, v[7], max(peers), min(peers),
                     "NHS trusts", period))  # fmt: skip
    con.executemany(f"INSERT INTO core_indicators VALUES ({', '.join('?' * 11)})", ordered(core))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("qa")
    db = build_published_db(root / "quality.duckdb")
    site_dir = root / "site"
    return site_dir, render_site(db, site_dir, pdf=False)


def _documents(site_dir: Path, written: list[Path]) -> list[Path]:
    """The Quality Account pages and the site index among everything written."""
    return [p for p in written if p.name == "quality-account.html" or p == site_dir / "index.html"]


def _page(site_dir: Path, code: str, year: str = "2017-18") -> str:
    return (site_dir / code / year / "quality-account.html").read_text(encoding="utf-8")


def _table_row(html: str, caption_start: str, row_header: str) -> str:
    """The text of one table row, found by its caption and its row header."""
    start = re.search(rf'<caption id="[^"]+">{re.escape(caption_start)}', html)
    assert start, f"no table captioned {caption_start!r}"
    table = html[start.start() : html.index("</table>", start.start())]
    row = re.search(rf'<th scope="row"[^>]*>{re.escape(row_header)}</th>(.*?)</tr>', table, re.S)
    assert row, f"no row {row_header!r} in table {caption_start!r}"
    return re.sub(r"<[^>]+>", " ", row.group(1))


def test_pages_written_for_each_provider_year(site):
    site_dir, written = site
    expected = [site_dir / "index.html"] + [
        site_dir / code / year / "quality-account.html"
        for code, year in [
            ("RAA", "2016-17"), ("RAA", "2017-18"), ("RBB", "2017-18"),
            ("RCC", "2017-18"), ("RDD", "2017-18"), ("REE", "2017-18"),
        ]
    ]  # fmt: skip
    assert _documents(site_dir, written) == sorted(expected)
    assert all(path.is_file() for path in written)
    assert not (site_dir / "ENG").exists()


def test_page_has_one_h1_with_year_and_provider(site):
    html = _page(site[0], "RAA")
    assert '<html lang="en-GB">' in html
    assert html.count("<h1") == 1
    assert "<h1>Quality Account 2017-18: Alpha Hospitals NHS Trust</h1>" in html
    assert "<title>Quality Account 2017-18: Alpha Hospitals NHS Trust</title>" in html
    assert "Draft: awaiting text from the provider." in html
    headings = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False))


def test_a_proms_negative_outlier_reads_lower_than_expected_like_every_indicator(site):
    html = _page(site[0], "RBB")
    box = html[html.index('id="suggested-priorities"') :]
    box = box[: box.index("</div>")]
    assert "Oxford Hip Score, primary hip replacement: lower than expected against England" in box
    # NHS Digital's own status words stay in the published table; the page has one wording.
    assert "Negative outlier" not in html and "Not an outlier" not in html


def test_england_value_beside_provider(site):
    html = _page(site[0], "RAA")
    oxford = _table_row(html, "Adjusted health gain, Oxford Hip Score", "This year (2017-18)")
    assert oxford.split()[-4:] == ["21.5", "21.4", "23.0", "17.0"]  # own, England, high, low
    eq5d = _table_row(html, "Other clinical effectiveness", "Adjusted health gain, EQ-5D Index, "
                      "primary hip replacement").split()  # fmt: skip
    assert eq5d == ["index", "points", "0.449", "England", "0.457",  # 3 dp for EQ-5D
                    "as", "expected", "against", "England"]  # fmt: skip


def test_missing_values_are_explained(site):
    row = _table_row(_page(site[0], "RCC"), "Adjusted health gain, Oxford Hip Score",
                     "This year (2017-18)")  # fmt: skip
    assert "not published: fewer than 30 modelled records" in row


def test_participation_as_percentage(site):
    html = _page(site[0], "RAA")
    assert "75.0%" in _table_row(html, "Participation in PROMs", "All Procedures")
    assert "80.0%" in _table_row(html, "Participation in PROMs", "All Procedures")  # England
    assert "104.3%" in _table_row(html, "Participation in PROMs", "Primary Hip Replacement")
    suppressed = _table_row(_page(site[0], "REE"), "Participation", "Revision Knee Replacement")
    assert "not published" in suppressed


def test_provider_without_outcomes_says_so(site):
    html = _page(site[0], "REE")
    assert "No clinical effectiveness and outcomes indicators are published" not in html
    assert "Participation in PROMs" in html
    assert "Adjusted health gain" not in html.split('id="proms"')[0].split('id="part-3"')[1]
    assert "<svg" not in html


def test_funnel_svg_text_alternative_and_highlight(site):
    html = _page(site[0], "RBB")
    svg = html[html.index("<svg") : html.index("</svg>")]
    title = re.search(r'<title id="([^"]+)">(.*?)</title>', svg)
    desc = re.search(r'<desc id="([^"]+)">(.*?)</desc>', svg)
    assert title and desc
    assert f'aria-labelledby="{title.group(1)}"' in svg
    assert "Oxford Hip Score" in title.group(2)
    assert "lower than expected" in desc.group(2)
    assert re.search(r">RBB</text>", svg), "the provider's diamond is labelled with its code"


def test_funnel_not_plotted_provider_explained(site):
    html = _page(site[0], "RCC")
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", html).group(1)
    assert "Cedar Hospital is not plotted" in desc
    assert ">RCC</text>" not in html


def _hip_funnel() -> Funnel:
    points = [FunnelPoint("B", 120, 19.123456), FunnelPoint("A", 999, 21.298765)]
    return Funnel.build(
        slug="t", subject="2017-18", name="Adjusted health gain, Oxford Hip Score",
        unit="score", denominator_noun="modelled records", points=points,
        limits=[LimitPoint(p.code, p.records, 18.0, 24.0, 17.0, 25.0) for p in points],
        centre=21.0, decimals=1,
    )  # fmt: skip


def test_a_chart_is_the_same_bytes_every_time_and_escapes_names():
    first = str(_hip_funnel().svg(Highlight("A", "A & Co", "Not an outlier")))
    again = str(_hip_funnel().svg(Highlight("A", "A & Co", "Not an outlier")))
    assert first == again
    _hip_funnel().chart(Highlight("A", "A & Co", "Not an outlier")).to_dict()  # schema-valid
    assert "A &amp; Co" in first and "A & Co" not in first
    assert "within the 95% limits" in first
    assert re.findall(r' id="([^"]+)"', first) == ["funnel-t-title", "funnel-t-desc"], (
        "no ids but the text alternative's, so two charts on a page never clash"
    )


def test_chart_text_prints_at_eight_points_or_more():
    svg = str(_hip_funnel().svg(Highlight("A", "A & Co", "Not an outlier")))
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)px"', svg)]
    assert sizes
    printed_pt = min(sizes) * min(1.0, render.PRINT_WIDTH_PX / width) * 72 / 96
    assert printed_pt >= 8, f"smallest chart text prints at {printed_pt:.1f} pt"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.h2: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)


def test_index_groups_regions_with_unknown_last_and_links_resolve(site):
    site_dir, _ = site
    html = (site_dir / "index.html").read_text(encoding="utf-8")
    parser = _Links()
    parser.feed(html)
    assert parser.h2 == ["East of England", "London", "South West", "Region not known"]
    london = html[html.index(">London</h2>") : html.index(">South West</h2>")]
    assert london.index("Alpha Hospitals") < london.index("Cedar Hospital")
    assert "England (ENG)" not in html and ">England<" not in html
    pages = [h for h in parser.hrefs if h.endswith(".html")]
    assert "RAA/2016-17/quality-account.html" in pages
    for href in pages:
        assert not href.startswith("/") and (site_dir / href).is_file(), href
    for page in site_dir.glob("*/*/quality-account.html"):
        assert 'href="../../index.html"' in page.read_text(encoding="utf-8")


def test_markup_in_provider_name_is_escaped(site):
    site_dir, written = site
    for path in (p for p in written if p.suffix == ".html"):
        assert "<script>alert" not in path.read_text(encoding="utf-8"), path
    escaped = "Beta &lt;script&gt;alert(1)&lt;/script&gt; Trust"
    assert escaped in (site_dir / "index.html").read_text(encoding="utf-8")
    html = _page(site_dir, "RBB")
    assert f"<h1>Quality Account 2017-18: {escaped}</h1>" in html
    assert escaped in html[html.index("<desc") : html.index("</desc>")]


def test_same_data_in_any_row_order_gives_identical_bytes(tmp_path, site):
    site_dir, written = site
    db = build_published_db(tmp_path / "reversed.duckdb", reverse=True)
    again = render_site(db, tmp_path / "site", pdf=False)
    assert [p.relative_to(tmp_path / "site") for p in again] == [
        p.relative_to(site_dir) for p in written
    ]
    for first, second in zip(written, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first


def test_render_subset_of_providers(tmp_path):
    db = build_published_db(tmp_path / "quality.duckdb")
    site_dir = tmp_path / "site"
    written = render_site(db, site_dir, provider_codes=["RAA"], pdf=False)
    assert _documents(site_dir, written) == [
        site_dir / "RAA" / "2016-17" / "quality-account.html",
        site_dir / "RAA" / "2017-18" / "quality-account.html",
        site_dir / "index.html",
    ]
    assert not (site_dir / "RBB").exists()
    with pytest.raises(ValueError, match="ENG"):
        render_site(db, site_dir, provider_codes=["ENG"], pdf=False)


def test_pages_of_providers_no_longer_published_are_removed(tmp_path):
    db = build_published_db(tmp_path / "quality.duckdb")
    site = tmp_path / "site"
    render_site(db, site, pdf=False)
    stale = site / "ZZ999" / "2017-18" / "quality-account.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("withdrawn figures")
    render_site(db, site, pdf=False)
    assert not stale.exists() and not (site / "ZZ999").exists()
    assert (site / "index.html").exists()
