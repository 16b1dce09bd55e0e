"""`qa narrative-template`: a pre-filled narrative file a provider can complete, which the
pipeline reads back as a draft until it is filled in."""

from __future__ import annotations

from conftest import document_fixtures

from dagster_project.cli import main
from dagster_project.home import resolve_home
from dagster_project.publish.document import narrative as nv


def test_narrative_template_is_prefilled_from_the_publication(tmp_path, capsys):
    home = resolve_home(tmp_path / "home").ensure()
    document_fixtures().build_document_db(home.published_db)
    assert main(["narrative-template", "RBB", "2017-18", "--home", str(home.root)]) == 0
    path = home.landing / "narratives" / "RBB-2017-18.md"
    returned = home.landing / "provider_returns" / "RBB-2017-18-return.csv"
    assert capsys.readouterr().out.split() == [str(path), str(returned)]
    lines = returned.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Organisation code,Financial year,Item,Value,Description"
    assert any(line.startswith("RBB,2017-18,audit_eligible.NHFD,,") for line in lines)
    assert any(line.startswith("RBB,2017-18,deaths.Q4,,") for line in lines)
    text = path.read_text(encoding="utf-8")
    assert "Quality Account 2017-18 of Beta Hospital NHS Trust" in text
    for code in ("### cdi_rate", "### inpatient_personal_needs", "### shmi"):
        assert code in text
    assert "### PROMS" not in text  # PROMs indicators are commented on one by one
    assert "> Suggested by the data: C. difficile infection rate: higher than expected" in text
    narrative = nv.parse_narrative(path)
    assert (narrative.provider_code, narrative.financial_year) == ("RBB", "2017-18")
    assert narrative.missing == list(nv.REQUIRED)  # unfilled: the document stays a draft


def test_narrative_template_refuses_to_overwrite_or_take_bad_input(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["narrative-template", "RXX", "2024-25", "--home", home]) == 0
    assert main(["narrative-template", "RXX", "2024-25", "--home", home]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["narrative-template", "RXX", "2024-25", "--home", home, "--force"]) == 0
    assert main(["narrative-template", "R<X>", "2024-25", "--home", home]) == 2
    assert main(["narrative-template", "RXX", "2024-26", "--home", home]) == 2
