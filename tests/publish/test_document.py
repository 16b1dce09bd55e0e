"""The Quality Account document: statutory structure, narrative files, drafts, CSV, determinism
and accessibility, rendered from a small published DuckDB built with the agreed table contract.

The fixture plants: Alpha (RAA) with a complete narrative file whose text tries to inject
markup, Beta (RBB) with none (a draft) and a failed best practice tariff criterion, and
indicators in all three domains over two years, one of them worse than expected for Beta.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish.document import narrative as nv
from dagster_project.publish.document.assurance import file_year
from dagster_project.publish.document.pdf import printable
from dagster_project.publish.portal.site import render_site
from dagster_project.synth.returns import return_rows

YEARS = ("2016-17", "2017-18")
PROVIDERS = [
    ("ENG", "England", "ENG", "England", "country"),
    ("RAA", "Alpha Hospitals NHS Trust", "Y56", "London", "NHS trust"),
    ("RBB", "Beta Hospital NHS Trust", "Y56", "London", "NHS trust"),
    ("RCC", "Cedar NHS Trust", "Y58", "South West", "NHS trust"),
    ("RDD", "Delta NHS Trust", "Y58", "South West", "NHS trust"),
    ("REE", "Echo NHS Trust", "Y58", "South West", "NHS trust"),
]
# The last two columns are the method's code and its words, as indicator_catalogue has them.
CATALOGUE = [
    ("cdi_rate", "C. difficile infection rate", "safety", "per 100,000 bed days", False, True,
     "UKHSA mandatory surveillance", "Hospital-onset cases per 100,000 bed days", None,
     "occupied bed days", "rate_funnel"),
    ("inpatient_personal_needs", "Responsiveness to inpatients' personal needs", "experience",
     "score", True, True, "CQC adult inpatient survey", "Average of five questions, 0 to 100",
     None, None, "score_spread"),
    ("fft_inpatient_positive_pct", "Friends and Family Test: inpatients positive", "experience",
     "per cent", True, False, "NHS England FFT", "Very good or good as a share of responses",
     30.0, "responses", "proportion_funnel"),
    ("shmi", "Summary Hospital-level Mortality Indicator", "outcomes", "ratio", False, True,
     "NHS Digital SHMI", "Observed deaths over expected", None, "expected deaths",
     "shmi_banding"),
]  # fmt: skip
# provider -> (cdi, personal needs, fft, shmi) for 2017-18; 2016-17 is each minus a step
VALUES = {
    "RAA": (10.2, 68.4, 95.1, 0.981),
    "RBB": (25.7, 61.0, 88.0, 1.162),
    "RCC": (12.5, 66.0, 93.0, 1.010),
    "RDD": (14.0, 70.0, 96.0, 0.950),
    "REE": (11.0, 67.5, 94.5, 1.020),
}
NATIONAL = (13.6, 67.1, 94.0, 1.0)
PUBLICATION_ID = "20260101T000000000000Z-abcdef123456"
HIP_FILE = "Hip Replacement Provider 1718.csv"
INPUTS = [
    {"table": "proms_records", "source_file": HIP_FILE, "sha256": "a" * 64},
    {"table": "shmi", "source_file": "shmi-2018-march.csv", "sha256": "b" * 64},
]


def _comparison(code: str, index: int) -> str:
    if code == "RBB" and index in (0, 3):
        return "higher than expected"
    return "as expected"


def _indicator_rows() -> tuple[list[tuple], list[tuple]]:
    values, core = [], []
    codes = [c[0] for c in CATALOGUE]
    for y_index, year in enumerate(YEARS):
        step = 0.0 if year == "2017-18" else 1.0
        for i, code in enumerate(codes):
            by_provider = {p: v[i] - step * (0.01 if i == 3 else 1) for p, v in VALUES.items()}
            national = NATIONAL[i]
            for p, value in sorted(by_provider.items()):
                region = "Y56" if p in ("RAA", "RBB") else "Y58"
                denominator = 50_000.0 + 10_000 * list(VALUES).index(p)
                half = 0.1 * national
                values.append(
                    (year, p, region, code, value * denominator / 100_000, denominator, value,
                     national, national - half, national + half,
                     None if code == "shmi" else national - 2 * half,
                     None if code == "shmi" else national + 2 * half,
                     _comparison(p, i) if year == "2017-18" else "as expected", None)
                )  # fmt: skip
                if CATALOGUE[i][5]:
                    previous = value - (0.01 if i == 3 else 1) if y_index else None
                    core.append(
                        (year, p, region, code, value, previous, national,
                         max(by_provider.values()), min(by_provider.values()), "NHS trusts",
                         f"April {year[:4]} to March 20{year[5:]}")
                    )  # fmt: skip
    return values, core


def _proms_rows() -> tuple[list[tuple], list[tuple]]:
    outcomes, participation = [], []
    hip = "Hip Replacement Primary"
    for p, gain in (("ENG", 21.4), ("RAA", 21.5), ("RBB", 17.0), ("RCC", 22.0)):
        region = {"ENG": "ENG", "RAA": "Y56", "RBB": "Y56"}.get(p, "Y58")
        status = {"RAA": "Not an outlier", "RBB": "Negative outlier (99.8%)"}.get(p)
        status = status or ("Not an outlier" if p != "ENG" else None)
        n = 36000 if p == "ENG" else 200
        outcomes.append(
            ("2017-18", p, region, hip, "Oxford Hip Score", n, 18.0, 18.0 + gain, gain, n, 0, 0,
             18.0 + gain, gain, 8.0, status, 21.4, 20.0, 20.5, 22.3, 22.8)
        )  # fmt: skip
        participation.append(
            ("2017-18", p, region, "All Procedures", 400, 300, 0.75, None, None, None, None,
             None, None)
        )  # fmt: skip
    return outcomes, participation


SURGERY = "Surgery within 36 hours: 71.2% of 212 spells; 61 spells waited longer"


def _bpt_rows() -> tuple[list[tuple], list[tuple], list[tuple]]:
    criteria = [
        ("2017-18", "RBB", "Y56", "Hip fracture", "surgery_36h", "Surgery within 36 hours",
         None, 0.712, False, SURGERY),
        ("2017-18", "RBB", "Y56", "Hip fracture", "ortho_72h",
         "Orthogeriatric assessment within 72 hours", None, 1.0, True,
         "Orthogeriatric assessment within 72 hours: 100.0% of 212 spells"),
        ("2017-18", "RAA", "Y56", "Primary hip replacement", "proms_participation",
         "PROMs participation", 0.5, 0.75, True, "PROMs participation: 75.0%; at least 50% needed"),
    ]  # fmt: skip
    adjustments = [
        ("2017-18", "RBB", "Y56", "Hip fracture", 212, 151, 1_060_000.0, 1_261_585.0,
         201_585.0, 81_435.0),
        ("2017-18", "RAA", "Y56", "Primary hip replacement", 300, 300, 1_500_000.0,
         1_665_000.0, 165_000.0, 0.0),
    ]  # fmt: skip
    summary = [("2017-18", "Y56", "Hip fracture", 1, 0, 212, 201_585.0, 81_435.0)]
    return criteria, adjustments, summary


def _quality_rows() -> list[tuple]:
    return [
        ("proms", "proms_records", "Hip Replacement Provider 1718.csv", "a" * 64, "RBB", "Y56",
         None, None, 210, 4, 2),
        ("proms", "proms_records", "Hip Replacement Provider 1718.csv", "a" * 64, "RBB", "Y56",
         "provider_code_known", "Provider code is not a known ODS code", None, 4, 0),
        ("proms", "proms_records", "Hip Replacement Provider 1718.csv", "a" * 64, "RBB", "Y56",
         "oxford_items_in_range", "An Oxford item is outside 0 to 4 or 9", None, 0, 2),
        ("shmi", "shmi", "shmi-2018-march.csv", "b" * 64, "RAA", "Y56", None, None, 1, 0, 0),
    ]  # fmt: skip


def _table(con, name: str, columns: str, rows: list[tuple], reverse: bool) -> None:
    con.execute(f"CREATE TABLE {name} ({columns})")
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows[::-1] if reverse else rows)


def _return_rows() -> list[tuple]:
    """Alpha's complete return for 2017-18 (Beta gives none, so stays a draft)."""
    rows = return_rows("RAA", "2017-18", 1)
    return [(c, "Y56", y, i, v, "RAA-2017-18-return.csv", n) for n, (c, y, i, v) in
            enumerate(rows, start=2)]  # fmt: skip


def build_document_db(path: Path, *, reverse: bool = False, optional: bool = True) -> Path:
    """The published tables; `reverse` flips insert order, `optional=False` leaves out every
    table but the PROMs ones, as a publication before the other feeds arrive."""
    con = duckdb.connect(str(path))
    v, d, i, b = "VARCHAR", "DOUBLE", "INTEGER", "BOOLEAN"
    _table(con, "providers", f"provider_code {v}, provider_name {v}, region_code {v}, "
           f"region_name {v}, provider_type {v}", PROVIDERS, reverse)  # fmt: skip
    outcomes, participation = _proms_rows()
    cols = ["financial_year", "provider_code", "region_code", "procedure", "measure",
            "modelled_records", "average_pre_op_score", "average_post_op_score", "health_gain",
            "improved", "same", "worse", "adjusted_post_op_score", "adjusted_health_gain",
            "standard_deviation", "outlier_status", "england_adjusted_health_gain",
            "lower_limit_998", "lower_limit_95", "upper_limit_95", "upper_limit_998"]  # fmt: skip
    text = {"financial_year", "provider_code", "region_code", "procedure", "measure",
            "outlier_status"}  # fmt: skip
    ints = {"modelled_records", "improved", "same", "worse"}
    spec = ", ".join(f"{c} {v if c in text else i if c in ints else d}" for c in cols)
    _table(con, "proms_provider_outcomes", spec, outcomes, reverse)
    _table(con, "proms_participation", f"financial_year {v}, provider_code {v}, region_code {v}, "
           f"procedure {v}, hes_procedures {i}, pre_op_questionnaires {i}, participation_rate {d}, "
           f"linked {i}, linkage_rate {d}, q2_issued {i}, issue_rate {d}, q2_returned {i}, "
           f"response_rate {d}", participation, reverse)  # fmt: skip
    if optional:
        values, core = _indicator_rows()
        _table(con, "indicator_catalogue", f"indicator_code {v}, indicator_name {v}, domain {v}, "
               f"unit {v}, higher_is_better {b}, core_indicator {b}, source {v}, "
               f"comparison_method {v}, min_denominator {d}, denominator_noun {v}, method {v}",
               CATALOGUE, reverse)  # fmt: skip
        _table(con, "indicator_values", f"financial_year {v}, provider_code {v}, region_code {v}, "
               f"indicator_code {v}, numerator {d}, denominator {d}, value {d}, "
               f"national_value {d}, lower_95 {d}, upper_95 {d}, lower_998 {d}, upper_998 {d}, "
               f"comparison {v}, withheld {v}",
               values, reverse)  # fmt: skip
        _table(con, "core_indicators", f"financial_year {v}, provider_code {v}, region_code {v}, "
               f"indicator_code {v}, value {d}, previous_value {d}, national_value {d}, "
               f"highest_value {d}, lowest_value {d}, comparator_group {v}, period_label {v}",
               core, reverse)  # fmt: skip
        criteria, adjustments, summary = _bpt_rows()
        _table(con, "bpt_criteria", f"financial_year {v}, provider_code {v}, region_code {v}, "
               f"bpt_code {v}, criterion_code {v}, criterion {v}, threshold {d}, observed {d}, "
               f"met {b}, reason {v}", criteria, reverse)  # fmt: skip
        _table(con, "bpt_adjustments", f"financial_year {v}, provider_code {v}, region_code {v}, "
               f"bpt_code {v}, eligible_spells {i}, compliant_spells {i}, base_income {d}, "
               f"bpt_income {d}, adjustment {d}, forgone {d}", adjustments, reverse)  # fmt: skip
        _table(con, "bpt_regional_summary", f"financial_year {v}, region_code {v}, bpt_code {v}, "
               f"providers {i}, providers_meeting_all {i}, eligible_spells {i}, adjustment {d}, "
               f"forgone {d}", summary, reverse)  # fmt: skip
        _table(con, "provider_returns", f"provider_code {v}, region_code {v}, "
               f"financial_year {v}, item {v}, value {v}, source_file {v}, row_number BIGINT",
               _return_rows(), reverse)  # fmt: skip
        _table(con, "provider_return_problems", f"provider_code {v}, region_code {v}, "
               f"financial_year {v}, item {v}, value {v}, source_file {v}, row_number BIGINT, "
               f"rule {v}, reason {v}", [], reverse)  # fmt: skip
        _table(con, "data_quality", f"feed {v}, source_table {v}, source_file {v}, sha256 {v}, "
               f"provider_code {v}, region_code {v}, rule {v}, reason {v}, rows_received BIGINT, "
               f"rows_quarantined BIGINT, measures_set_aside BIGINT", _quality_rows(),
               reverse)  # fmt: skip
    _table(con, "publication", "publication_id VARCHAR, published_at TIMESTAMPTZ, "
           "pipeline_version VARCHAR, table_name VARCHAR, row_count BIGINT, input_files JSON",
           [(PUBLICATION_ID, "2026-01-01 12:34:56+00", "0.1.0", t, 1, json.dumps(INPUTS))
            for t in ("providers", "shmi")], reverse)  # fmt: skip
    con.close()
    return path


NARRATIVE = """---
provider_code: RAA
financial_year: 2017-18
---

## Chief executive's statement

We are proud of our staff. <script>alert("ce")</script> & more.

Second paragraph of the statement.

## Priorities for improvement

### Fewer infections

Reduce C. difficile cases.

Progress since last year: Cases fell by a fifth.

How progress will be monitored: Monthly reports to the board.

### Kinder discharge

Progress since last year: New discharge lounge.

How progress will be monitored: <b>Patient survey</b> every quarter.

### Safer surgery

Progress since last year: Checklists everywhere.

How progress will be monitored: Audit of every theatre list.

## Indicator commentary

### shmi

Reasons: Coding is audited every month.

Actions: A mortality review group meets weekly.

### cdi_rate

Reasons: Every case is reviewed.

Actions: Antibiotic stewardship rounds.

### inpatient_personal_needs

Reasons: The survey is run by an approved contractor.

Actions: Ward leaders act on comments.

## Statement from commissioners

The commissioners agree with this account.

## Statement from Healthwatch

- Patients told us about waiting times.
- Parking remains a problem.

## Statement from the overview and scrutiny committee

The committee welcomes the report.
"""


def write_narratives(folder: Path, *, reverse: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = [("RAA-2017-18.md", NARRATIVE), ("notes-RCC.md", _template_for("RCC"))]
    for name, text in files[::-1] if reverse else files:
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _template_for(code: str) -> str:
    return nv.template(code, "Cedar NHS Trust", "2017-18", [("shmi", "SHMI")], ["SHMI"])


def render_fixture_site(root: Path) -> tuple[Path, list[Path]]:
    """The small publication and its narratives under `root`, rendered without PDFs into
    `root/site`: the site the document, portal and phone tests read."""
    db = build_document_db(root / "quality.duckdb")
    narratives = write_narratives(root / "narratives")
    site_dir = root / "site"
    return site_dir, render_site(db, site_dir, narrative_dir=narratives, pdf=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, list[Path]]:
    return render_fixture_site(tmp_path_factory.mktemp("document"))


def _doc(site_dir: Path, code: str, year: str = "2017-18") -> str:
    return (site_dir / code / year / "quality-account.html").read_text(encoding="utf-8")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- structure ---------------------------------------------------------------------------


def test_every_part_and_statutory_wording_present(site):
    html = _doc(site[0], "RBB")
    for heading in (
        "Part 1: Statement on quality from the chief executive",
        "Part 2: Priorities for improvement and statements of assurance from the board",
        "Statements of assurance from the board",
        "Part 3: Review of quality performance",
        "Patient safety",
        "Patient experience",
        "Clinical effectiveness and outcomes",
        "Best practice tariffs",
        "Annex",
        "Methods and sources",
        "Provenance",
    ):
        assert re.search(rf"<h[2-4] id=\"[^\"]+\">{re.escape(heading)}</h[2-4]>", html), heading
    core = ["C. difficile infection rate", "Responsiveness to inpatients&#39; personal needs",
            "Summary Hospital-level Mortality Indicator"]  # fmt: skip
    for name in core:
        assert re.search(rf"<h4 id=\"indicator-[^\"]+\">{re.escape(name)}</h4>", html), name
    considers = "The Beta Hospital NHS Trust considers that this data is as described"
    intends = "The Beta Hospital NHS Trust intends to take / has taken the following actions"
    assert html.count(considers) == len(core)  # PROMs too go through the indicator path
    assert html.count(intends) == len(core)
    assert "actions to improve this ratio" in html and "improve this rate" in html


def test_core_indicator_table_in_statutory_format(site):
    html = _doc(site[0], "RBB")
    start = html.index('<caption id="core-shmi-caption">')
    table = _text(html[start : html.index("</table>", start)])
    assert "England Highest Lowest" in table  # SHMI: England is 1 by construction
    assert "This year (2017-18) April 2017 to March 2018 1.162 1.000 1.162 0.950" in table
    assert "Last year (2016-17) April 2016 to March 2017 1.152 1.000" in table


def test_failed_bpt_criterion_in_plain_words_with_income(site):
    html = _doc(site[0], "RBB")
    assert "<li>Surgery within 36 hours: 71.2% of 212 spells; 61 spells waited longer</li>" in html
    income = _text(html[html.index('id="bpt-income-caption"') :])
    # A publication that does not say the price is the year's published one: illustrative.
    assert (
        "Hip fracture 212 151 £1,060,000 (illustrative price) £1,261,585 (illustrative price) "
        "£201,585 (illustrative price) £81,435 (illustrative price)"
    ) in income
    assert "met every criterion of 0 of its 1 best practice tariff" in html


def test_statements_of_assurance_from_the_data(site):
    html = _doc(site[0], "RBB")
    assert "300 pre-operative questionnaires for 400 eligible procedures" in html
    assert "The pipeline received 210 rows naming Beta Hospital NHS Trust in 1 source file" in html
    rules = _text(html[html.index('id="data-quality-rules-caption"') :])
    assert "Provider code is not a known ODS code 4 0" in rules
    assert "provider_code_known" not in rules, "rule identifiers stay in the data, not the text"


def test_data_quality_is_summed_per_feed_for_the_year(site):
    html = _doc(site[0], "RBB")
    feeds = _text(html[html.index('id="data-quality-feeds-caption"') :].split("</table>")[0])
    assert "Rows received and quarantined for Beta Hospital NHS Trust in 2017-18, by feed" in feeds
    assert "Feed Files for Files Rows received Rows quarantined Share quarantined" in feeds
    assert "PROMs 2017-18 1 210 4 1.9% 2" in feeds
    files = _text(html[html.index('id="data-quality-files-caption"') :].split("</table>")[0])
    assert "Hip Replacement Provider 1718.csv PROMs 2017-18 210 4 1.9% 2" in files
    # One file: printed in full, not folded away (the provenance below folds its own list).
    assert '<details class="screen-only file-detail">\n<summary>Rows received' not in html
    alpha = _doc(site[0], "RAA")
    assert "in 1 source file for 2017-18 (1 of them with no year in their name)" in alpha
    feeds = _text(alpha[alpha.index('id="data-quality-feeds-caption"') :].split("</table>")[0])
    assert "SHMI not dated 1 1 0 0.0% 0" in feeds
    earlier = _doc(site[0], "RBB", "2016-17")
    assert (
        "No source file for 2016-17 names Beta Hospital NHS Trust. The per-file table lists "
        "the 1 file of other years that name it." in earlier
    )
    assert 'data-table="data-quality-feeds"' not in earlier
    assert 'data-table="data-quality-files"' in earlier


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("CDI_2024-25.csv", "2024-25"),
        ("Beds-Open-Overnight-Web_File-Q1-2024-25.xlsx", "2024-25"),
        ("fft-ae-2024-03.csv", "2023-24"),
        ("fft-ae-2024-04.csv", "2024-25"),
        ("fft-maternity-2023-12.xlsx", "2023-24"),
        ("Hip Replacement Provider 1718.csv", "2017-18"),
        ("PartLink Hip and Knee Replacement 2324.csv", "2023-24"),
        ("shmi-2024-august.csv", None),
        ("staff-survey-2024.csv", None),
        ("Knee Replacement Provider 2021.csv", None),  # 2020-21, or the calendar year 2021
        ("etr.csv", None),
        ("extract-20240415.csv", None),
    ],
)
def test_source_files_are_given_the_financial_year_their_name_states(name, year):
    assert file_year(name) == year


def test_long_per_file_list_is_folded_away_and_left_out_of_print(tmp_path):
    db = build_document_db(tmp_path / "q.duckdb")
    extra = [
        ("fft", "fft_responses", f"fft-ae-{y}-{m:02d}.csv", f"{i:064x}", "RBB", "Y56", None,
         None, 3, 1 if m == 5 else 0, 0)
        for i, (y, m) in enumerate((y, m) for y in (2016, 2017) for m in range(1, 13))
    ]  # fmt: skip
    con = duckdb.connect(str(tmp_path / "q.duckdb"))
    con.executemany(f"INSERT INTO data_quality VALUES ({', '.join('?' * 11)})", extra)
    con.close()
    render_site(db, tmp_path / "site", ["RBB"], pdf=False)
    html = _doc(tmp_path / "site", "RBB")
    feeds = _text(html[html.index('id="data-quality-feeds-caption"') :].split("</table>")[0])
    # 2017-18 is April 2017 to March 2018: nine 2017 months and three 2018 ones not delivered
    assert "FFT 2017-18 9 27 1 3.7% 0" in feeds
    assert "The pipeline received 237 rows naming Beta Hospital NHS Trust in 10 source files" in (
        html
    )
    assert '<details class="screen-only file-detail">' in html
    printed = printable(html)
    assert 'data-table="data-quality-files"' in html
    assert 'data-table="data-quality-files"' not in printed
    assert 'data-table="data-quality-feeds"' in printed and "<details" not in printed
    csv = (tmp_path / "site" / "RBB" / "2017-18" / "data" / "data-quality-files.csv").read_text()
    assert len(csv.splitlines()) == 1 + 1 + 24
    assert "fft-ae-2016-05.csv,fft,2016-17,3,1,33.3,0," in csv


def test_provenance_prints_a_line_per_feed_and_keeps_every_file_on_screen(site):
    html = _doc(site[0], "RAA")
    printed = printable(html)
    short = printed[printed.index('data-table="provenance-sources"') :].split("</table>")[0]
    rows = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>\s*<td[^>]*>([^<]+)</td>', short)
    assert rows == [("PROMs records", "1"), ("SHMI", "1")]
    assert 'data-table="provenance-input-files"' not in printed
    digest = hashlib.sha256(("b" * 64).encode()).hexdigest()[:16]
    assert digest in short, "the fingerprint is of the feed's files' checksums"
    table = html[html.index('data-table="provenance-input-files"') :].split("</table>")[0]
    assert 'class="reflow compact checksums"' in html
    assert re.search(r'<th scope="rowgroup"[^>]*>Data: PROMs records \(1 file\)</th>', table)
    assert re.search(rf"<th scope=\"row\"[^>]*>{HIP_FILE}</th>\s*<td[^>]*>{'a' * 64}</td>", table)
    csv = (site[0] / "RAA" / "2017-18" / "data" / "provenance-input-files.csv").read_text()
    assert csv.splitlines() == [
        "Source file,Data,SHA-256 checksum,note",
        f"{HIP_FILE},proms_records,{'a' * 64},",
        f"shmi-2018-march.csv,shmi,{'b' * 64},",
    ]


def test_suggested_priorities_are_marked_as_suggestions(site):
    html = _doc(site[0], "RBB")
    box = html[html.index('id="suggested-priorities"') :]
    box = box[: box.index("</div>")]
    assert "Suggestions, not the provider's priorities." in box
    # A pooled rate is the providers in this publication, never England's.
    assert (
        "C. difficile infection rate: higher than expected against the providers in this "
        "publication"
    ) in box
    assert "Summary Hospital-level Mortality Indicator: higher than expected" in box


def test_annex_traces_figures_to_files_version_and_date_without_clock(site):
    html = _doc(site[0], "RAA")
    assert "a" * 64 in html and "Hip Replacement Provider 1718.csv" in html
    assert "<dd>0.1.0</dd>" in html
    assert "abcdef123456" in html and "20260101T" not in html
    assert "31 March 2018" in html
    assert "12:34" not in html and "2026" not in html


# -- narratives and drafts ----------------------------------------------------------------


def test_provider_without_narrative_is_a_draft_with_boxes(site):
    html = _doc(site[0], "RBB")
    assert '<span class="tag tag--draft">Draft</span>' in html
    assert html.count('class="draft-box"') >= 6
    assert "The chief executive&#39;s statement on quality will appear here" in html
    provider_page = (site[0] / "RBB" / "index.html").read_text(encoding="utf-8")
    assert '<span class="tag tag--draft">Draft</span>' in provider_page


def test_unfilled_template_keeps_the_document_a_draft(site):
    html = _doc(site[0], "RCC")
    assert '<span class="tag tag--draft">Draft</span>' in html
    assert "Suggested by the data" not in html


def test_provider_with_narrative_gets_its_text_escaped_and_is_final(site):
    html = _doc(site[0], "RAA")
    assert '<span class="tag tag--neutral">Final</span>' in html
    assert 'class="draft-box"' not in html.split('id="part-3"')[0]
    escaped = "&lt;script&gt;alert(&#34;ce&#34;)&lt;/script&gt; &amp; more."
    assert f"<p>We are proud of our staff. {escaped}</p>" in html
    assert "<script>alert" not in html and "<b>Patient survey</b>" not in html
    assert '<h4 id="priority-3">Priority 3: Safer surgery</h4>' in html
    assert "<li>Parking remains a problem.</li>" in html
    assert "<p>A mortality review group meets weekly.</p>" in html
    provider_page = (site[0] / "RAA" / "index.html").read_text(encoding="utf-8")
    assert "Final" in provider_page


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("provider_code: RAA\nfinancial_year: 2017-18\n---\n", "must start with a front matter"),
        ("---\nprovider_code: RAA\n---\n", "front matter has no 'financial_year'"),
        ("---\nprovider_code: RAA\nfinancial_year: 2017-19\n---\n", "is not like 2024-25"),
        ("---\nprovider_code: RAA\nfinancial_year: 2017-18\n---\n## Chef's statement\n",
         "line 5: unknown section 'Chef's statement'"),
        ("---\nprovider_code: RAA\nfinancial_year: 2017-18\n---\n## Priorities for improvement\n"
         "### One\nProgress since last year: a\nHow progress will be monitored: b\n",
         "1 priorities given; a Quality Account needs at least 3"),
        ("---\nprovider_code: RAA\nfinancial_year: 2017-18\n---\n## Priorities for improvement\n"
         "### One\nProgress since last year: a\n", "priority 'One' has no 'How progress"),
    ],
)  # fmt: skip
def test_malformed_narrative_is_a_clear_error(tmp_path, text, problem):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(nv.NarrativeError) as caught:
        nv.load_narratives(tmp_path)
    assert "bad.md" in str(caught.value) and problem in str(caught.value)


def test_two_narratives_for_one_provider_year_fail(tmp_path):
    (tmp_path / "a.md").write_text(NARRATIVE, encoding="utf-8")
    (tmp_path / "b.md").write_text(NARRATIVE, encoding="utf-8")
    with pytest.raises(nv.NarrativeError, match=r"b\.md.*already has a narrative file, a\.md"):
        nv.load_narratives(tmp_path)


def test_malformed_narrative_keeps_its_own_document_a_draft_and_no_other(tmp_path):
    """A narrative file that cannot be read is listed in its own provider's document, with
    its file, line and rule; the site is still built and the others are unaffected."""
    db = build_document_db(tmp_path / "q.duckdb")
    folder = tmp_path / "narratives"
    folder.mkdir()
    (folder / "RAA-2017-18.md").write_text(NARRATIVE, encoding="utf-8")
    bad = NARRATIVE.replace("RAA", "RBB").replace("## Chief executive's statement", "## Chef")
    (folder / "RBB-2017-18.md").write_text(bad, encoding="utf-8")
    site = tmp_path / "site"
    render_site(db, site, narrative_dir=folder, pdf=False)
    alpha = (site / "RAA" / "2017-18" / "quality-account.html").read_text(encoding="utf-8")
    beta = (site / "RBB" / "2017-18" / "quality-account.html").read_text(encoding="utf-8")
    assert '<span class="tag tag--neutral">Final</span>' in alpha
    assert '<span class="tag tag--draft">Draft</span>' in beta
    problems = beta.split('id="input-problems"')[1]
    assert "RBB-2017-18.md" in problems and ">6<" in problems
    assert "Unknown section &#39;Chef&#39;" in problems
    data = (site / "RBB" / "2017-18" / "data" / "input-problems-2017-18.csv").read_text()
    assert "narrative_file" in data


def test_template_parses_and_lists_the_indicators():
    text = _template_for("RCC")
    path = Path("RCC.md")
    narrative = nv.parse_narrative_text(path, text)
    assert narrative.missing == list(nv.REQUIRED)
    assert "### shmi" in text and "> Suggested by the data: SHMI" in text


# -- tables as CSV, absent tables -----------------------------------------------------------


def test_every_table_has_its_csv_with_the_same_figures(site):
    site_dir, _ = site
    html = _doc(site_dir, "RBB")
    names = re.findall(r'<caption id="([^"]+)-caption">', html)
    folder = site_dir / "RBB" / "2017-18" / "data"
    assert sorted(p.stem for p in folder.glob("*.csv")) == sorted(names)
    csv = (folder / "core-shmi.csv").read_text(encoding="utf-8")
    assert csv.splitlines()[0] == (
        "Reporting period,Data period,Beta Hospital NHS Trust,England,Highest,Lowest,note"
    )
    assert "This year (2017-18),April 2017 to March 2018,1.162,1.000,1.162,0.950," in csv
    assert (site_dir / "RBB" / "2017-18" / "RBB-2017-18-data.zip").is_file()


def test_absent_tables_are_named_plainly(tmp_path):
    db = build_document_db(tmp_path / "q.duckdb", optional=False)
    render_site(db, tmp_path / "site", pdf=False)
    html = _doc(tmp_path / "site", "RBB")
    assert "Indicator figures are not available in this publication" in html
    assert "Best practice tariff figures are not available in this publication." in html
    assert "Data quality figures (rows received and quarantined by validation) are not" in html
    assert "Participation in PROMs" in html  # PROMs participation still there


# -- accessibility -----------------------------------------------------------------------------


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.tables = self.captions = 0
        self.th_without_scope = 0
        self.svgs: list[dict] = []
        self.svg_children: list[str] = []
        self.lang = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self.tables += tag == "table"
        self.captions += tag == "caption"
        self.th_without_scope += tag == "th" and "scope" not in a
        if tag == "svg":
            self.svgs.append(a)
        if tag in ("title", "desc") and self.svgs:
            self.svg_children.append(a.get("id", ""))


PAGES = [
    "RAA/2017-18/quality-account.html",
    "RBB/2017-18/quality-account.html",
    "index.html",
    "RBB/index.html",
    "regions/Y58/index.html",
]


@pytest.mark.parametrize("page", PAGES)
def test_accessibility_basics(site, page):
    audit = _Audit()
    audit.feed((site[0] / page).read_text(encoding="utf-8"))
    assert audit.lang == "en-GB"
    assert audit.headings[0] == 1 and audit.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:], strict=False))
    assert audit.tables == audit.captions
    assert audit.th_without_scope == 0
    for svg in audit.svgs:
        assert svg.get("role") == "img"
        assert svg["aria-labelledby"] in audit.svg_children
        assert svg["aria-describedby"] in audit.svg_children


def test_charts_have_text_alternatives(site):
    html = _doc(site[0], "RBB")
    assert html.count("<svg") == 3 + 3  # a funnel and a trend per core indicator
    trend = re.search(r'<desc id="trend-shmi-desc">(.*?)</desc>', html).group(1)
    assert "2016-17: Beta Hospital NHS Trust 1.152, England 1.000" in trend
    funnel = re.search(r'<desc id="funnel-shmi-2017-18-desc">(.*?)</desc>', html).group(1)
    assert "above the upper 95% limit of 1.1000" in funnel
    assert "Comparison: higher than expected" in funnel
    assert (
        'stroke-dasharray="2 3"'
        not in html[html.index('id="funnel-shmi-2017-18-title"') :][:20000].split("</svg>")[0]
    )  # SHMI is banded at 95% only


# -- determinism ---------------------------------------------------------------------------------

_RENDER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from test_document import build_document_db, write_narratives
from dagster_project.publish.portal.site import render_site
root, reverse = Path(sys.argv[2]), sys.argv[3] == "1"
root.mkdir(parents=True)
db = build_document_db(root / "q.duckdb", reverse=reverse)
render_site(db, root / "site", narrative_dir=write_narratives(root / "n", reverse=reverse),
            pdf=False)
"""


def _render_in_process(root: Path, seed: str, reverse: bool) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": "Pacific/Chatham" if reverse else "UTC"}
    subprocess.run(
        [sys.executable, "-c", _RENDER, str(Path(__file__).parent), str(root), str(int(reverse))],
        check=True,
        env=env,
    )
    site = root / "site"
    return {
        str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()
    }


def test_same_inputs_give_identical_html_and_csv(tmp_path):
    first = _render_in_process(tmp_path / "a", "1", reverse=False)
    second = _render_in_process(tmp_path / "b", "4242", reverse=True)
    assert list(first) == list(second)
    assert any(name.endswith(".csv") for name in first)
    for name, data in first.items():
        assert data == second[name], name


# A code as the pipeline writes it (hip_fracture, rate_funnel, proms_records,
# directors_responsibilities): lower case words joined by underscores.
_CODE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def test_no_internal_codes_in_reader_facing_text(site):
    for code in ("RAA", "RBB", "RCC"):
        html = re.sub(r"<(script|style)\b.*?</\1>", " ", _doc(site[0], code), flags=re.S)
        assert _CODE.findall(_text(html)) == [], code


def test_worse_than_expected_is_said_in_words_and_tagged_on_the_region_page(site):
    """In words (not colour alone), with the tag the document's tables use (the same
    indicators.comparison_cell builds both)."""
    mark = (
        '<span class="tag tag--negative">higher than expected against the providers in this '
        "publication (worse)</span>"
    )
    region = (site[0] / "regions" / "Y56" / "index.html").read_text(encoding="utf-8")
    region_table = region[region.index('data-table="core-cdi-rate-2017-18"') :]
    region_row = region_table[: region_table.index("</table>")]
    assert mark in region_row
    assert '<span class="tag tag--positive">' not in region_row, "nothing here is better"
