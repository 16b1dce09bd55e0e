"""NHS England's public monthly Friends and Family Test workbook (`.xlsm`).

The fixture is the real template, `FFT_IP_template.xlsm` from NHS England's public
`nhsengland/fft_pipeline` repository (held in ../shared/data/fft/, empty of data): its
`Trusts` sheet has title and filter rows, a header over two rows (`ICB Code, Trust Code,
Trust Name, Total Responses, Total Eligible, Percentage Positive, Percentage Negative,
Breakdown of Responses` over `Very Good ... Don't Know`, then the collection modes), the
rows `England (including Independent Sector Providers)`, `England (excluding Independent
Sector Providers)` and `Selection (excluding suppressed data)`, then one row per trust; the
`Sites` sheet the same per site. A copy made here (macros kept, never run) is given a few
rows of invented counts, `*` where NHS England suppresses one.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import real_data

from dagster_project.home import Home
from dagster_project.ingest import layouts, tabular
from dagster_project.ingest.landing import LandingCsv
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed

# (ICB, trust, name, responses, eligible, very good, good, neither, poor, very poor, don't know)
TRUSTS = (
    ("QE1", "RXL", "BLACKPOOL TEACHING HOSPITALS NHS FOUNDATION TRUST",
     1210, 4100, 1000, 150, 20, 15, 15, 10),
    ("QE1", "RXN", "LANCASHIRE TEACHING HOSPITALS NHS FOUNDATION TRUST",
     640, 2900, 520, 90, 10, 10, 6, 4),
    # A small independent provider: NHS England writes `*` for a count it suppresses.
    ("QE1", "NT3", "SPIRE HEALTHCARE", 12, 40, 10, "*", "*", 0, 0, 0),
)  # fmt: skip
ENGLAND = ("England (including Independent Sector Providers)", 1862, 7040,
           1530, 242, 31, 25, 21, 13)  # fmt: skip
FIRST_TRUST_ROW = 15


@pytest.fixture(scope="module")
def template() -> Path:
    return real_data("fft") / "FFT_IP_template.xlsm"


def _workbook(template: Path) -> bytes:
    """The template with invented counts, saved with its macros."""
    book = openpyxl.load_workbook(template, keep_vba=True)
    trusts, sites = book["Trusts"], book["Sites"]
    assert trusts["A10"].value == "ICB Code" and trusts["H11"].value == "Very Good"
    name, *figures = ENGLAND
    assert trusts["C12"].value == name
    for column, value in zip("DEHIJKLM", figures, strict=True):
        trusts[f"{column}12"] = value
    # The England total without the independent sector: a subtotal, never loaded.
    for column, value in zip("DEHIJKLM", (1850, 7000, 1520, 240, 30, 25, 21, 13), strict=True):
        trusts[f"{column}13"] = value
    for offset, (icb, code, trust, *counts) in enumerate(TRUSTS):
        row = FIRST_TRUST_ROW + offset
        for column, value in zip("ABC", (icb, code, trust), strict=True):
            trusts[f"{column}{row}"] = value
        for column, value in zip("DEHIJKLM", counts, strict=True):
            trusts[f"{column}{row}"] = value
        # The same trust at two sites, which must not be read as two more organisations.
        for site in range(2):
            site_row = FIRST_TRUST_ROW + 2 * offset + site
            sites[f"A{site_row}"], sites[f"B{site_row}"] = icb, code
            sites[f"D{site_row}"], sites[f"F{site_row}"] = f"{code}0{site + 1}", 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def workbook(template: Path) -> bytes:
    return _workbook(template)


def test_the_copy_keeps_its_macros_and_is_accepted_as_a_workbook(workbook: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        assert "xl/vbaProject.bin" in archive.namelist()
    assert LandingCsv(Path("FFT_IP_July25.xlsm"), None, workbook).is_workbook


@pytest.mark.parametrize("name", ["FFT_IP_July25.xlsm", "FFT inpatient data.xlsm"])
def test_the_trusts_sheet_is_read_under_its_two_row_header(workbook: bytes, name: str) -> None:
    """The month from the file's name, else from the title atop the `Notes` sheet."""
    counts = tabular.ParseCounts()
    csv = LandingCsv(Path(name), None, workbook)
    frame = pd.concat(list(tabular.parse_batches(csv, layouts.FFT, counts)))
    assert frame["organisation_code"].tolist() == ["ENG", "RXL", "RXN", "NT3"]
    assert frame["row_number"].tolist() == [12, 15, 16, 17], "the sheet's own rows"
    assert set(frame["setting"]) == {"inpatient"}
    assert set(frame["month"]) == {"2025-07-01"}
    assert set(frame["financial_year"]) == {"2025-26"}
    first = frame.set_index("organisation_code").loc["RXL"]
    assert (first["parent_code"], first["very_good"], first["dont_know"]) == ("QE1", "1000", "10")
    assert (first["total_responses"], first["total_eligible"]) == ("1210", "4100")
    assert frame.set_index("organisation_code").loc["NT3", "good"] == "*"
    # England without the independent sector, and the sum of the rows on show.
    assert counts.subtotal_lines == [13, 14]


def test_the_workbook_validates_and_a_suppressed_count_sets_that_trust_aside(
    workbook: bytes, tmp_path: Path
) -> None:
    home = Home(tmp_path)
    (home.landing / "fft").mkdir(parents=True)
    (home.landing / "fft" / "FFT_IP_July25.xlsm").write_bytes(workbook)
    (entry,) = ingest_feed(home, "fft").files
    assert entry.rows == 4 and "subtotal" in entry.note
    validate_feed(home, "fft")
    raw = pd.read_parquet(run.raw_file(home, "fft_responses", entry.key))
    raw = raw.set_index("organisation_code")
    assert raw.loc["RXL", "very_good"] == 1000 and raw.loc["ENG", "total_responses"] == 1862
    assert pd.isna(raw.loc["NT3", "total_responses"]), "answers suppressed: not added up"
    held = pd.read_parquet(run.quarantine_file(home, "fft_responses", entry.key))
    assert set(held["row_number"]) == {17} and set(held["value"]) >= {"*"}
