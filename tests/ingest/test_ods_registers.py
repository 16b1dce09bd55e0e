"""NHS Organisation Data Service trust registers (`etr.csv`) as shipped over the years.

The real registers of about 2015 and 2020 (NHS Digital ODS, `etr.csv`: 24 unquoted fields,
no header; the 2015 one with the NHS England region codes in use before 2018, Y54 to Y57)
are read from ../shared/data/ods/ when present. Later registers quote every field and carry
27: that shape is built here from the real rows with three trailing fields added. Every
feed's organisation codes are judged against the register (validation/register.py), so a
trust dissolved between two registers must stay in it for the years it was open.
"""

from __future__ import annotations

import csv as csvlib
import io
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import real_data

from dagster_project.home import Home
from dagster_project.ingest.landing import LandingCsv
from dagster_project.ingest.organisations import ODS_COLUMNS, looks_like_ods, parse_ods
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.register import load_register, unknown_organisations
from dagster_project.validation.run import validate_feed

PRE_2018_REGIONS = {"Y54", "Y55", "Y56", "Y57"}
POST_2018_REGIONS = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}
WALES = "W00"


@pytest.fixture(scope="module")
def ods() -> Path:
    return real_data("ods")


def _rows(path: Path) -> list[list[str]]:
    return list(csvlib.reader(path.read_text(encoding="utf-8").splitlines()))


def _quoted_27(rows: list[list[str]]) -> bytes:
    """The later shape: every field quoted, three more trailing fields."""
    buffer = io.StringIO()
    writer = csvlib.writer(buffer, quoting=csvlib.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        writer.writerow([*row, "", "", ""])
    return buffer.getvalue().encode()


@pytest.mark.parametrize(("name", "regions"), [("etr-2015.csv", PRE_2018_REGIONS),
                                               ("etr-2020.csv", POST_2018_REGIONS)])  # fmt: skip
def test_each_real_register_is_recognised_and_read_whole(ods: Path, name: str, regions) -> None:
    path = ods / name
    csv = LandingCsv(path, None)
    assert looks_like_ods(csv)
    frame = parse_ods(csv)
    rows = _rows(path)
    assert len(frame) == len(rows) and {len(r) for r in rows} == {24}
    assert frame["organisation_code"].tolist() == [r[0] for r in rows]
    # An address with a comma in it is one field: the dates stay where ODS puts them.
    assert frame["open_date"].dropna().str.fullmatch(r"\d{8}").all()
    # The 2015 register lists two trusts before they opened (R0A, R0B), with no region yet.
    assert set(frame["national_grouping"].dropna()) <= regions | {WALES}


def test_a_quoted_27_field_register_reads_as_the_24_field_one(ods: Path) -> None:
    rows = _rows(ods / "etr-2020.csv")
    # A first row with a comma inside a quoted address must still be recognised.
    comma = next(r for r in rows if any("," in cell for cell in r[4:9]))
    rows = [comma, *(r for r in rows if r is not comma)]
    plain = parse_ods(LandingCsv(Path("etr.csv"), None, _rows_text(rows)))
    quoted = LandingCsv(Path("etr.csv"), None, _quoted_27(rows))
    assert looks_like_ods(quoted)
    frame = parse_ods(quoted)
    pd.testing.assert_frame_equal(
        frame[ODS_COLUMNS].reset_index(drop=True), plain[ODS_COLUMNS].reset_index(drop=True)
    )


def _rows_text(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csvlib.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def test_a_site_register_of_the_same_shape_is_read(ods: Path) -> None:
    """`ets.csv` (sites) has the trust register's shape with five-character site codes;
    built here from a real trust row, as no real site register is held."""
    row = _rows(ods / "etr-2020.csv")[0]
    site = [f"{row[0]}01", f"{row[1]} - MAIN SITE", *row[2:]]
    frame = parse_ods(LandingCsv(Path("ets.csv"), None, _rows_text([site])))
    assert frame["organisation_code"].tolist() == [site[0]]


def test_a_later_register_leaves_the_trusts_it_no_longer_lists_in_force(
    ods: Path, tmp_path: Path
) -> None:
    home = Home(tmp_path)
    folder = home.landing / "organisations"
    folder.mkdir(parents=True)
    for name in ("etr-2015.csv", "etr-2020.csv"):
        shutil.copy(ods / name, folder / name)
    os.utime(folder / "etr-2015.csv", (1_500_000_000, 1_500_000_000))  # delivered first
    ingest_feed(home, "organisations")
    report = validate_feed(home, "organisations")
    assert report.by_rule() == {}
    earlier = {r[0] for r in _rows(ods / "etr-2015.csv")}
    later = {r[0] for r in _rows(ods / "etr-2020.csv")}
    dissolved = earlier - later
    assert dissolved, "trusts merged between the two registers"
    totals = report.totals()
    assert totals["rows_superseded"] == len(earlier & later)
    register = load_register(home)
    assert set(register.dates.index) == earlier | later
    # A 2016-17 row of a trust dissolved before 2020 (RW3, Central Manchester, merged into
    # Manchester University R0A in 2017) names a trust in force then.
    rows = pd.DataFrame(
        {"provider_code": ["RW3", "R0A", "ZZ999"], "financial_year": ["2016-17"] * 3}
    )
    unknown = unknown_organisations(rows, "proms_participation", register)
    assert unknown.isna().tolist()[:1] == [True] and "RW3" in dissolved
    assert unknown.tolist()[2] == "ZZ999"
