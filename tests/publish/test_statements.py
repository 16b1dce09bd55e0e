"""The board's statements of assurance, the completeness checklist and `final`: a complete
return (with the narrative) makes a document final, a missing item keeps it a draft with the
item named, a bad return or narrative is its own provider's problem only, and the checklist
holds every requirement for the provider's kind and year.

Rendered from the small publication of tests/publish/test_document.py: Alpha (RAA) has a
complete return and narrative for 2017-18.
"""

from __future__ import annotations

import csv

import duckdb
import pytest
from conftest import document_fixtures

from dagster_project.ingest import provider_returns as pr
from dagster_project.publish.document import statements as st
from dagster_project.publish.portal.site import render_site
from dagster_project.synth.returns import narrative_text, return_csv, return_rows
from dagster_project.validation.dry_run import dry_run

YEAR = "2017-18"
FINAL = '<span class="tag tag--neutral">Final</span>'
DRAFT = '<span class="tag tag--draft">Draft</span>'
# The fixture's core indicators (its PROMs gains among them).
INDICATORS = ("cdi_rate", "inpatient_personal_needs", "shmi", "proms_hip_ohs_gain",
              "proms_knee_oks_gain", "proms_hip_ohs", "proms_knee_oks")  # fmt: skip


def _render(tmp_path, *, changes=None, problems=(), narratives=("RAA", "RCC")):
    """Render with complete returns for RAA and RCC; `changes` maps (code, item) to a new
    value (None: left out); `problems` are quarantined lines of a return."""
    fx = document_fixtures()
    db = fx.build_document_db(tmp_path / "q.duckdb")
    con = duckdb.connect(str(db))
    con.execute("delete from provider_returns")
    for code in ("RAA", "RCC"):
        for number, (c, y, item, value) in enumerate(return_rows(code, YEAR, 1), start=2):
            value = (changes or {}).get((code, item), value)
            if value is not None:
                con.execute(
                    "insert into provider_returns values (?, 'Y56', ?, ?, ?, ?, ?)",
                    [c, y, item, value, f"{code}-{YEAR}-return.csv", number],
                )
    for row in problems:
        con.execute("insert into provider_return_problems values (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    con.close()
    folder = tmp_path / "narratives"
    folder.mkdir()
    names = {"RAA": "Alpha Hospitals NHS Trust", "RCC": "Cedar NHS Trust"}
    for code in narratives:
        text = narrative_text(code, names[code], YEAR, indicators=INDICATORS)
        (folder / f"{code}-{YEAR}.md").write_text(text, encoding="utf-8")
    site = tmp_path / "site"
    render_site(db, site, narrative_dir=folder, pdf=False)

    def page(code: str) -> str:
        return (site / code / YEAR / "quality-account.html").read_text(encoding="utf-8")

    return page, site


def test_a_complete_return_and_narrative_make_the_document_final(tmp_path):
    page, site = _render(tmp_path)
    for code in ("RAA", "RCC"):
        html = page(code)
        assert FINAL in html and "Draft: missing from the provider" not in html
        assert "Signed: A. Synthetic (demonstration chief executive)" in html
    checklist = (site / "RAA" / YEAR / "data" / f"completeness-checklist-{YEAR}.csv").read_text()
    statuses = [r["Status"] for r in csv.DictReader(checklist.splitlines())]
    assert statuses and set(statuses) == {"present"}
    provider_page = (site / "RAA" / "index.html").read_text(encoding="utf-8")
    assert "Completeness checklist 2017-18: " in provider_page and FINAL in provider_page


def test_a_missing_item_keeps_the_document_a_draft_naming_it(tmp_path):
    page, site = _render(tmp_path, changes={("RCC", "research_recruited"): None})
    html = page("RCC")
    assert DRAFT in html
    assert "Patients recruited to research approved by a research ethics committee" in html
    assert "Draft: missing from the provider's return." in html.split('id="assurance-research"')[1]
    rows = list(csv.DictReader(
        (site / "RCC" / YEAR / "data" / f"completeness-checklist-{YEAR}.csv").open()
    ))  # fmt: skip
    missing = [r for r in rows if r["Status"] == "missing"]
    assert [r["Requirement"] for r in missing] == [
        "Patients recruited to research approved by a research ethics committee"
    ]
    assert FINAL in page("RAA")  # the other provider is unaffected
    provider_page = (site / "RCC" / "index.html").read_text(encoding="utf-8")
    assert DRAFT in provider_page and "Missing" in provider_page


def test_an_answer_that_needs_more_asks_for_it(tmp_path):
    """A clinical coding audit that took place needs its error rates."""
    page, _ = _render(tmp_path, changes={("RCC", "coding_error_primary_diagnosis_pct"): None})
    assert DRAFT in page("RCC")
    assert "Clinical coding error rate: primary diagnosis (%)" in page("RCC")


def test_a_bad_return_line_is_listed_in_its_own_document_only(tmp_path):
    problem = ("RCC", "Y58", YEAR, "services_income_pct", "112.5", f"RCC-{YEAR}-return.csv", 6,
               "value_percent", "Value is not a percentage from 0 to 100")  # fmt: skip
    page, site = _render(
        tmp_path, changes={("RCC", "services_income_pct"): None}, problems=[problem]
    )
    html = page("RCC")
    assert DRAFT in html
    listed = html.split('id="input-problems"')[1]
    assert f"RCC-{YEAR}-return.csv" in listed and ">6<" in listed
    assert "Value is not a percentage from 0 to 100" in listed
    assert "Income of the services reviewed" in listed
    data = (site / "RCC" / YEAR / "data" / f"input-problems-{YEAR}.csv").read_text()
    assert "services_income_pct" in data and "value_percent" in data
    assert FINAL in page("RAA")


def test_a_bad_narrative_leaves_the_other_documents_final(tmp_path):
    fx = document_fixtures()
    db = fx.build_document_db(tmp_path / "q.duckdb")
    folder = tmp_path / "narratives"
    folder.mkdir()
    (folder / f"RAA-{YEAR}.md").write_text(fx.NARRATIVE, encoding="utf-8")
    (folder / "notes.txt").write_text("not a narrative", encoding="utf-8")
    (folder / f"RBB-{YEAR}.md").write_text("no front matter", encoding="utf-8")
    render_site(db, tmp_path / "site", narrative_dir=folder, pdf=False)
    alpha = (tmp_path / "site" / "RAA" / YEAR / "quality-account.html").read_text()
    beta = (tmp_path / "site" / "RBB" / YEAR / "quality-account.html").read_text()
    assert FINAL in alpha
    assert DRAFT in beta and "Must start with a front matter block" in beta


@pytest.mark.parametrize(
    ("kind", "foundation_trust", "year", "present", "absent"),
    [
        ("acute", False, "2024-25", {"seven_day_services", "learning_from_deaths", "dspt"},
         {"directors_responsibilities"}),
        ("acute", True, "2024-25", {"directors_responsibilities"}, set()),
        ("ambulance", False, "2024-25", {"freedom_to_speak_up"},
         {"learning_from_deaths", "seven_day_services", "sus_ae"}),
        ("acute", False, "2016-17", {"review_of_services"},
         {"learning_from_deaths", "dspt", "rota_gaps"}),
        ("independent", False, "2024-25", {"research"}, {"learning_from_deaths", "rota_gaps"}),
    ],
)  # fmt: skip
def test_the_checklist_holds_every_requirement_for_the_kind_and_year(
    kind, foundation_trust, year, present, absent
):
    who = st.Profile(kind, foundation_trust, ())
    checks = st.checklist(who, st.Return(), year, None, [])
    ids = [c.requirement.requirement_id for c in checks]
    expected = [
        r.requirement_id for r in st.requirements() if r.applies(kind, foundation_trust, year)
    ]
    assert ids == expected and present <= set(ids) and not absent & set(ids)
    # Nothing given, nothing present (no indicator shown, so none to comment on).
    assert [c.requirement.requirement_id for c in checks if c.present] == ["indicator_commentary"]


def test_every_requirement_names_items_the_return_knows():
    known = set(pr.items())
    for requirement in st.requirements():
        for token in requirement.needs:
            if token.startswith(("narrative.", "audits.")):
                continue
            for option in token.split("|"):
                assert pr.split_item(option.removesuffix(".Q*"))[0] in known, option


def test_the_suite_quarantines_bad_lines_with_file_line_and_rule(tmp_path):
    rows = return_rows("RAA", "2024-25", 1)
    rows = [(c, y, i, "112.5" if i == "services_income_pct" else v) for c, y, i, v in rows]
    rows += [("RAA", "2024-25", "no_such_item", "3"), ("RAA", "2024-25", "cqc_enforcement",
             "maybe"), ("RAA", "2024-25", "audit_eligible.XYZ", "yes"),
             ("RAA", "2024-25", "deaths.Q5", "1")]  # fmt: skip
    path = tmp_path / "return.csv"
    path.write_text(return_csv(rows), encoding="utf-8")
    (result,) = dry_run(path)
    assert result.feed == pr.FOLDER
    lines = {rule: [e.row_number for e in f.examples] for rule, f in result.rules.items()}
    income = next(n for n, r in enumerate(rows, start=2) if r[2] == "services_income_pct")
    assert lines["value_percent"] == [income]
    total = len(rows) + 1
    assert lines["item_known"] == [total - 3, total - 1, total]
    assert "value_yes_no" in lines and "item_once" in lines
    # the four above, and both cqc_enforcement lines (the item given twice)
    assert result.records_quarantined == 6 and not result.blocking


def _statement(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return " ".join(html[start : html.index("<h4", start + 1)].split())


def test_cqc_statements_say_only_what_the_return_says(tmp_path):
    """Registered without conditions: no conditions sentence, and an answer of no to
    enforcement and special reviews is stated as such, with no detail quoted; registered
    with conditions: they are quoted, in one sentence with one full stop."""
    page, _ = _render(
        tmp_path,
        changes={
            ("RCC", "cqc_registration"): "registered with conditions",
            ("RCC", "cqc_conditions"): "Regulated activity limited to the main site.",
            ("RCC", "cqc_enforcement"): "yes",
            ("RCC", "cqc_enforcement_detail"): "A warning notice on staffing.",
        },
    )
    alpha = _statement(page("RAA"), "assurance-cqc")
    assert "its current registration status is registered without conditions." in alpha
    assert "conditions on its registration" not in alpha
    assert "has not taken enforcement action against Alpha Hospitals NHS Trust" in alpha
    assert "has not participated in any special reviews" in alpha
    cedar = _statement(page("RCC"), "assurance-cqc")
    assert (
        "The conditions on its registration are: Regulated activity limited to the main site."
        in cedar
    )
    assert "Regulated activity limited to the main site.." not in cedar
    assert (
        "has taken enforcement action against Cedar NHS Trust during 2017-18: "
        "A warning notice on staffing." in cedar
    )
