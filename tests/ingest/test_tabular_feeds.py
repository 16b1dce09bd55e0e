"""The one-table feeds read as publishers ship them, and files bigger than one batch stream.

Every file is built here, so each test states the drift it survives: header spellings (case,
spacing, apostrophes, other names for a column), columns moved or added, Windows-1252 as well
as UTF-8 with or without a byte-order mark, CRLF, metadata above the header, notes and a
copyright line after the data, blank lines within it, and NHS England's FFT workbook. Row
numbers are checked against the line a person sees when opening the file.
"""

from __future__ import annotations

import csv as csvlib
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.ingest import layouts, tabular
from dagster_project.ingest.landing import LandingCsv, LandingFileError
from dagster_project.ingest.row_shape import ROW_PROBLEM
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed

STAMPS = ["source_file", "sha256", "load_id", "row_number", "file_kind"]
METADATA = ["Quality Accounts extract", "Produced: 1 September 2024", ""]
NOTES = ["", "Note: figures are provisional", '"Source: NHS England, © Crown copyright 2024"']


@dataclass(frozen=True)
class Specimen:
    """A feed's file: its name, the header as the project documents it, the same columns as
    another publisher (or another year) spells them, and rows in the documented order."""

    name: str
    header: tuple[str, ...]
    drifted: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def cells(line: str) -> tuple[str, ...]:
    """A CSV line's cells (quote a cell holding a comma)."""
    (parsed,) = csvlib.reader([line])
    return tuple(parsed)


def specimen(name: str, header: str, drifted: str, *rows: str) -> Specimen:
    return Specimen(name, cells(header), cells(drifted), tuple(cells(r) for r in rows))


FFT_HEADER = cells(
    "Yearnumber,Periodname,Org code,Org name,Parent org code,1 Very Good SUM,2 Good SUM,"
    "3 Neither good nor poor SUM,4 Poor SUM,5 Very poor SUM,6 Dont Know SUM,Total Responses,"
    "Total Eligible"
)

SPECIMENS: dict[str, Specimen] = {
    "fft": specimen(
        "fft-inpatient-2024-08.csv",
        ",".join(FFT_HEADER),
        "YEAR NUMBER,Period Name,Organisation code,Organisation Name,Parent Org Code,"
        "1 very good sum,2  Good  SUM,3 Neither Good Nor Poor SUM,4 POOR SUM,5 Very Poor SUM,"
        "6 Don\u2019t Know SUM,Total responses,Total Eligible SUM",
        "2024_25,AUGUST,RA2,St Mary\u2019s Hospital,QE1,60,30,5,3,1,1,100,400",
        "2024_25,AUGUST,RB1,Royal Berkshire,QE1,20,10,2,0,0,0,32,90",
        "2024_25,AUGUST,RC1,Bedford Hospital,QE2,7,3,0,0,0,0,10,",
    ),
    "inpatient_survey": specimen(
        "inpatient-survey-2023.csv",
        "Organisation code,Survey year,Q1,Q2,Q3,Q4,Q5",
        "Org Code,SURVEY YEAR,q1,Question 2,Q 3,question 4,Q5",
        "RA2,2023,71.2,80,65.5,90.1,77",
        "RB1,2023,68,79.9,70,88,75.25",
    ),
    "staff_survey": specimen(
        "staff-survey-2023.csv",
        "Organisation code,Survey year,Recommend care",
        "Trust Code,Survey Year,Recommend Care %",
        "RA2,2023,71.5",
        "RB1,2023,64",
    ),
    "incidents": specimen(
        "incidents-2024-25.csv",
        "Incident ID,Organisation code,Incident date,Reported date,Category,Degree of harm,"
        "Never event type",
        "Incident Reference,Org Code,Date of incident,Date Reported,Incident category,HARM,"
        "Never Event",
        "INC1,RA2,2024-08-01,2024-08-02,Medication \u2013 dose,Low,",
        'INC2,RA2,2024-08-03,2024-08-03,"Treatment, procedure",Severe,Wrong site surgery',
        "INC3,RB1,2024-09-10,2024-10-01,Patient accident,No harm,",
    ),
    "vte": specimen(
        "vte-2024-25.csv",
        "Organisation code,Quarter,Admitted,Risk assessed",
        "ORG CODE,Period,Total admissions,Risk-assessed",
        "RA2,2024-25 Q1,1000,950",
        "RB1,2024-25 Q1,800,790",
    ),
    # NHS Digital's indicator file (Compendium I02040), its Breakdown column not read.
    "readmissions": specimen(
        "readmissions-2024-25.csv",
        "Level,Level description,Reporting period,Age group,Indicator value,Lower CI,Upper CI,"
        "Numerator,Denominator",
        "Org Code,Organisation name,Financial Year,Age,Indirectly standardised percentage,"
        "Lower confidence interval,Upper confidence interval,Observed,Discharges",
        "RA2,St Mary's,2024-25,0-15,10.2,8.43,12.21,120,1200",
        "RA2,St Mary's,2024-25,16+,14.1,13.34,14.9,1300,9000",
    ),
    "njr": specimen(
        "njr-2024-25.csv",
        "Organisation code,Financial year,Compliance,Consent not recorded,"
        "Cemented or hybrid over 70",
        "Org code,Year,NJR compliance,Consent Not Recorded,Cemented over 70",
        "RA2,2024-25,0.97,0.01,0.92",
        "RB1,2024-25,1,0,",
    ),
    "hip_fracture": specimen(
        "hip-fracture-2024-25.csv",
        "Spell ID,Organisation code,Arrival,Surgery,Orthogeriatric assessment,Joint care,"
        "Geriatrician rehabilitation,Falls assessment,Bone health assessment,AMTS pre-op,"
        "AMTS post-op",
        "Spell,ODS Code,Arrival date/time,Surgery Date Time,Orthogeriatric Assessment,"
        "JOINT CARE,Geriatrician Rehabilitation,Falls Assessment,Bone health assessment,"
        "AMTS preop,AMTS postop",
        "HF1,RA2,2024-08-01 10:00,2024-08-02 09:30,2024-08-01 15:00,Y,Y,Y,Y,Y,N",
        "HF2,RB1,2024-08-03 23:10,2024-08-05 08:00,2024-08-04 09:00,Y,N,Y,Y,,",
    ),
}
LAYOUT_OF = {
    "fft": layouts.FFT,
    "inpatient_survey": layouts.INPATIENT_SURVEY,
    "staff_survey": layouts.STAFF_SURVEY,
    "incidents": layouts.INCIDENTS,
    "vte": layouts.VTE,
    "readmissions": layouts.READMISSIONS,
    "njr": layouts.NJR,
    "hip_fracture": layouts.HIP_FRACTURE,
}


def table(
    header: tuple[str, ...],
    rows: tuple[tuple[str, ...], ...],
    *,
    order: list[int] | None = None,
    extra: str | None = None,
    above: Sequence[str] = (),
    after: Sequence[str] = (),
    blank_every: int = 0,
    newline: str = "\n",
) -> tuple[str, list[int]]:
    """A CSV text and the line (1-based) each data row is on.

    `order` moves the columns, `extra` adds a column of junk second, `above` and `after` are
    lines written before the header and after the data, `blank_every` puts a blank line after
    every so many rows.
    """
    order = order if order is not None else list(range(len(header)))
    lines = list(above)

    def emit(values: list[str]) -> None:
        buffer = io.StringIO()
        csvlib.writer(buffer, lineterminator="").writerow(values)
        lines.append(buffer.getvalue())

    head = [header[i] for i in order]
    if extra:
        head.insert(1, extra)
    emit(head)
    data_lines = []
    for number, row in enumerate(rows, 1):
        values = [row[i] for i in order]
        if extra:
            values.insert(1, "not for us")
        emit(values)
        data_lines.append(len(lines))
        if blank_every and number % blank_every == 0:
            lines.append("")
    lines.extend(after)
    return newline.join(lines) + newline, data_lines


def landing(name: str, data: bytes) -> LandingCsv:
    return LandingCsv(Path(name), None, data)


def parse(name: str, data: bytes, layout: tabular.Layout) -> pd.DataFrame:
    return tabular.parse_frame(landing(name, data), layout)


def value(cell: object) -> object:
    """A parsed cell with pandas' missing value as None, to compare with plain values."""
    return None if cell is pd.NA else cell


def content(frame: pd.DataFrame) -> pd.DataFrame:
    """The parsed values, without the stamps that legitimately differ between deliveries."""
    return frame.drop(columns=STAMPS).reset_index(drop=True)


# --------------------------------------------------------------------------- header drift

VARIANTS = {
    "UTF-8, LF": ("utf-8", "\n"),
    "UTF-8 with byte-order mark, CRLF": ("utf-8-sig", "\r\n"),
    "Windows-1252, CRLF": ("cp1252", "\r\n"),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("feed", sorted(SPECIMENS))
def test_every_feed_reads_through_drift_to_the_same_values(feed: str, variant: str) -> None:
    specimen, layout = SPECIMENS[feed], LAYOUT_OF[feed]
    plain, plain_lines = table(specimen.header, specimen.rows)
    clean = parse(specimen.name, plain.encode("utf-8"), layout)
    assert clean["row_number"].tolist() == plain_lines == list(range(2, len(specimen.rows) + 2))

    encoding, newline = VARIANTS[variant]
    text, lines = table(
        specimen.drifted,
        specimen.rows,
        order=list(reversed(range(len(specimen.header)))),
        extra="Comments",
        above=METADATA,
        after=NOTES,
        blank_every=1,
        newline=newline,
    )
    data = text.encode(encoding)
    csv = landing(specimen.name, data)
    assert FEEDS[feed].recognise(csv) is not None, "recognised by its header"
    counts = tabular.ParseCounts()
    drifted = pd.concat(list(tabular.parse_batches(csv, layout, counts)), ignore_index=True)

    pd.testing.assert_frame_equal(content(drifted), content(clean))
    assert drifted["row_number"].tolist() == lines, "the lines a person sees, blanks counted"
    assert lines[0] == len(METADATA) + 2, "header on line N, first data row on line N+1"
    assert (counts.rows, counts.notes) == (len(specimen.rows), 2)
    assert counts.note_lines == [lines[-1] + 3, lines[-1] + 4]


def test_row_numbers_are_the_lines_a_person_sees() -> None:
    text = "\r\n".join(
        [
            "Friends and Family Test: Inpatient",  # 1
            "Period:,August 2024",  # 2
            "",  # 3
            ",".join(FFT_HEADER),  # 4
            "2024_25,AUGUST,RA2,A Trust,QE1,6,3,1,0,0,0,10,40",  # 5
            "",  # 6
            '2024_25,AUGUST,RB1,"Royal',  # 7: a quoted name running over two lines
            'Berkshire",QE1,6,3,1,0,0,0,10,40',  # 8
            ",,,,,,,,,,,,",  # 9: empty cells only
            "2024_25,AUGUST,RC1,C Trust,QE1,6,3,1,0,0,0,10,40",  # 10
            "",  # 11
            '"Source: NHS England, Copyright © 2024"',  # 12
        ]
    )
    counts = tabular.ParseCounts()
    csv = landing("fft-inpatient-2024-08.csv", text.encode("utf-8"))
    frame = pd.concat(list(tabular.parse_batches(csv, layouts.FFT, counts)))
    assert frame["row_number"].tolist() == [5, 7, 10]
    assert frame["organisation_name"].tolist() == ["A Trust", "Royal\r\nBerkshire", "C Trust"]
    assert counts.note_lines == [12]
    assert counts.describe() == "1 note line(s) without data skipped (line 12)"


def test_a_note_in_the_code_column_is_a_note_and_a_lone_code_is_a_row() -> None:
    """Where the code is the first column, a note lands in it: text with spaces or marks is a
    note; a lone code is a row with everything else missing, left for the suite to judge."""
    text = "Organisation code,Quarter,Admitted,Risk assessed\nRA2,2024-25 Q1,10,9\nRB1\n"
    text += "Note: provisional figures\n© NHS England 2024\n"
    counts = tabular.ParseCounts()
    csv = landing("vte.csv", text.encode())
    frame = pd.concat(list(tabular.parse_batches(csv, layouts.VTE, counts)))
    assert frame["organisation_code"].tolist() == ["RA2", "RB1"]
    assert [value(v) for v in frame["quarter"]] == ["2024-25 Q1", None]
    assert counts.note_lines == [4, 5]


def test_optional_columns_the_file_lacks_are_blank() -> None:
    header = tuple(h for h in FFT_HEADER if h not in ("Org name", "Parent org code"))
    header = header[:-1]  # no Total Eligible (maternity, community and others publish none)
    text, _ = table(header, (("2024_25", "AUGUST", "RA2", "6", "3", "1", "0", "0", "0", "10"),))
    frame = parse("fft-maternity-2024-08.csv", text.encode(), layouts.FFT)
    row = frame.iloc[0]
    assert row["organisation_code"] == "RA2" and row["total_responses"] == "10"
    assert frame[["organisation_name", "parent_code", "total_eligible"]].isna().all().all()


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("2024_25,AUGUST,,ENGLAND,,60,30,5,3,1,1,100,400", "ENG"),
        ("2024_25,AUGUST,,Total,,60,30,5,3,1,1,100,400", "ENG"),
        ("Grand Total,,,,,60,30,5,3,1,1,100,400", "ENG"),
        ("2024_25,AUGUST,,A Trust Without Code,,60,30,5,3,1,1,100,400", None),
    ],
)
def test_the_publishers_total_row_gets_the_code_eng(line: str, code: str | None) -> None:
    text = ",".join(FFT_HEADER) + "\n" + line + "\n"
    frame = parse("fft-ae-2024-08.csv", text.encode(), layouts.FFT)
    assert value(frame["organisation_code"].iloc[0]) == code


def test_england_where_the_code_would_be_gets_the_code_eng() -> None:
    text = b"Org Code,Quarter,Admitted,Risk assessed\nEngland,2024-25 Q1,9,8\n"
    assert parse("vte.csv", text, layouts.VTE)["organisation_code"].tolist() == ["ENG"]


# --------------------------------------------------------------------------- what is refused


def test_a_file_with_no_recognisable_header_is_refused_naming_the_file(tmp_path: Path) -> None:
    home = Home(tmp_path)
    folder = home.landing / "vte"
    folder.mkdir(parents=True)
    (folder / "vte-2024-25.csv").write_text("Trust,When,How many\nRA2,Q1,10\n")
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(home, "vte")
    assert caught.value.source == "vte-2024-25.csv"
    assert "header (line 1) not recognised" in str(caught.value)
    assert "Trust, When" in str(caught.value)

    with pytest.raises(LandingFileError, match=r"^vte-2024-25\.csv: has no vte header row"):
        list(tabular.parse_batches(landing("vte-2024-25.csv", b"a,b\n1,2\n"), layouts.VTE))


def test_a_workbook_with_no_recognisable_sheet_is_refused_naming_the_file_and_sheets() -> None:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["Nothing to see"])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(LandingFileError, match=r"^FFT_AE_August_2024\.xlsx: no sheet .*Notes"):
        tabular.find_header(landing("FFT_AE_August_2024.xlsx", buffer.getvalue()), layouts.FFT)


# --------------------------------------------------------------------------- FFT setting, month


@pytest.mark.parametrize(
    ("name", "title", "setting"),
    [
        ("fft-inpatient-2024-08.csv", None, "inpatient"),
        ("FFT_AE_August_2024.csv", None, "ae"),
        ("FFT_A&E_V1 Jul-25.csv", None, "ae"),
        ("Maternity-Aug24.csv", None, "maternity"),
        ("FFT_Inpatients_V1 Jul-25.csv", None, "inpatient"),
        ("FFT_Mental_Health_2024-08.csv", None, "mental_health"),
        ("fft-2024-08.csv", "Friends and Family Test: Community services", "community"),
        ("fft-2024-08.csv", "Friends and Family Test - Accident & Emergency", "ae"),
    ],
)
def test_fft_setting_comes_from_the_file_name_or_title_lines(
    name: str, title: str | None, setting: str
) -> None:
    text, _ = table(FFT_HEADER, SPECIMENS["fft"].rows, above=[title, ""] if title else [])
    frame = parse(name, text.encode(), layouts.FFT)
    assert set(frame["setting"]) == {setting}


def test_an_fft_file_that_does_not_say_its_setting_is_refused(tmp_path: Path) -> None:
    home = Home(tmp_path)
    (home.landing / "fft").mkdir(parents=True)
    text, _ = table(FFT_HEADER, SPECIMENS["fft"].rows, above=["Friends and Family Test", ""])
    (home.landing / "fft" / "fft-2024-08.csv").write_text(text)
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(home, "fft")
    assert caught.value.source == "fft-2024-08.csv"
    assert "setting" in caught.value.problem


def test_fft_month_from_yearnumber_and_periodname_with_january_to_march_in_the_next_year() -> None:
    rows = tuple(
        ("2024_25", period, "RA2", "A Trust", "QE1", "6", "3", "1", "0", "0", "0", "10", "40")
        for period in ("APRIL", "AUGUST", "DECEMBER", "JANUARY", "MARCH")
    )
    text, _ = table(FFT_HEADER, rows)
    frame = parse("fft-inpatient-2024-08.csv", text.encode(), layouts.FFT)
    assert frame["month"].tolist() == [
        "2024-04-01",
        "2024-08-01",
        "2024-12-01",
        "2025-01-01",
        "2025-03-01",
    ], "the period wins over the file name's month"
    assert set(frame["financial_year"]) == {"2024-25"}


@pytest.mark.parametrize(
    ("name", "title", "month"),
    [
        ("fft-ae-2025-02.csv", None, "2025-02-01"),
        ("FFT_AE_February_2025.csv", None, "2025-02-01"),
        ("Maternity-Feb25.csv", None, "2025-02-01"),
        ("fft-ae.csv", "Period: February 2025", "2025-02-01"),
        ("fft-ae.csv", None, None),
    ],
)
def test_without_yearnumber_the_month_comes_from_the_file_name_or_title(
    name: str, title: str | None, month: str | None
) -> None:
    header = FFT_HEADER[2:]
    rows = (("RA2", "A Trust", "QE1", "6", "3", "1", "0", "0", "0", "10", "40"),)
    text, _ = table(header, rows, above=[title, ""] if title else [])
    row = parse(name, text.encode(), layouts.FFT).iloc[0]
    assert value(row["month"]) == month
    assert value(row["financial_year"]) == ("2024-25" if month else None)


# --------------------------------------------------------------------------- NHS England workbook

NHSE_HEADER = (
    "Yearnumber", "Periodname", "Parent org code", "Parent name", "Org code", "Org name",
    "Total Responses", "Total Eligible SUM", "Prop_Pos", "Prop_Neg", "1 Very Good SUM",
    "2 Good SUM", "3 Neither Good nor Poor SUM", "4 Poor SUM", "5 Very Poor SUM",
    "6 Dont Know SUM", "Mode SMS",
)  # fmt: skip
NHSE_ROWS = (
    ("2024_25", "AUGUST", None, None, None, "ENGLAND", 1000, 5000, 0.9, 0.05,
     700, 200, 50, 30, 15, 5, 400),
    ("2024_25", "AUGUST", "QE1", "NHS ONE ICB", "RA2", "A TRUST", 110, 500, 0.91, 0.03,
     80, 20, 5, 2, 1, 2, 40),
    ("2024_25", "AUGUST", "QE1", "NHS ONE ICB", "RB1", "B TRUST", 40, None, 0.9, 0.05,
     30, 6, 2, 1, 1, 0, 10),
)  # fmt: skip


def nhse_workbook(organisation_sheet: str, site_sheet: str) -> bytes:
    """NHS England's organisation-level workbook: a notes sheet, a site-level sheet with the
    same columns (listed first, so choosing by header alone would pick it), and the
    organisation sheet with a title, a blank row, the header on row 3, the data, a blank row
    and a note."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["Inpatient Friends and Family Test (FFT) Data - August 2024"])
    sites = book.create_sheet(site_sheet)
    sites.append(["Site level data"])
    sites.append([])
    sites.append([*NHSE_HEADER[:6], "Site Code", *NHSE_HEADER[6:]])
    for row in NHSE_ROWS[1:]:
        for site in ("01", "02"):
            sites.append([*row[:6], f"{row[4]}{site}", *row[6:]])
    sheet = book.create_sheet(organisation_sheet)
    sheet.append(["Maternity Friends and Family Test - Organisation level"])  # row 1
    sheet.append([])  # row 2
    sheet.append(list(NHSE_HEADER))  # row 3
    for row in NHSE_ROWS:  # rows 4-6
        sheet.append(list(row))
    sheet.append([])  # row 7
    sheet.append(["Note: * figures suppressed where fewer than 5 responses"])  # row 8
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("organisation_sheet", "site_sheet"),
    [
        ("Parent & Self Trusts - Organisa", "Parent & Self Trusts - Site Lev"),
        ("Parent & Self - Organisation Le", "Parent & Self - Site Level"),
    ],
)
def test_nhs_england_fft_workbook_is_read_from_its_organisation_sheet(
    organisation_sheet: str, site_sheet: str
) -> None:
    data = nhse_workbook(organisation_sheet, site_sheet)
    counts = tabular.ParseCounts()
    csv = landing("Maternity-Aug24.xlsx", data)
    frame = pd.concat(list(tabular.parse_batches(csv, layouts.FFT, counts)))
    assert frame["row_number"].tolist() == [4, 5, 6], "the sheet's own row numbers"
    assert frame["organisation_code"].tolist() == ["ENG", "RA2", "RB1"]
    assert set(frame["setting"]) == {"maternity"}
    assert set(frame["month"]) == {"2024-08-01"}
    first = frame.iloc[1]
    assert (first["very_good"], first["total_responses"], first["total_eligible"]) == (
        "80",
        "110",
        "500",
    ), "whole numbers as written, eligible from Total Eligible SUM"
    assert frame["total_eligible"].iloc[2] is pd.NA
    assert first["parent_code"] == "QE1"
    assert counts.note_lines == [8]


def test_nhs_england_fft_workbook_validates_clean(tmp_path: Path) -> None:
    home = Home(tmp_path)
    (home.landing / "fft").mkdir(parents=True)
    (home.landing / "fft" / "Maternity-Aug24.xlsx").write_bytes(
        nhse_workbook("Parent & Self Trusts - Organisa", "Parent & Self Trusts - Site Lev")
    )
    report = ingest_feed(home, "fft")
    (entry,) = report.files
    assert (entry.rows, entry.note) == (3, "1 note line(s) without data skipped (line 8)")
    validation = validate_feed(home, "fft")
    assert validation.totals()["rows_valid"] == 3 and validation.by_rule() == {}
    raw = pd.read_parquet(run.raw_file(home, "fft_responses", entry.key))
    assert raw["very_good"].tolist() == [700, 80, 30]
    assert raw["total_eligible"].isna().tolist() == [False, False, True]
    # A rerun does not parse the file again, and says the same of it.
    (again,) = ingest_feed(home, "fft").files
    assert (again.rows, again.note) == (entry.rows, entry.note)


def test_a_workbook_with_a_wrong_used_range_is_read_whole() -> None:
    """Some writers record the used range as `A1`; read-only openpyxl would stop there."""
    data = nhse_workbook("Parent & Self Trusts - Organisa", "Parent & Self Trusts - Site Lev")
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                body = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', body)
            target.writestr(item, body)
    frame = parse("Maternity-Aug24.xlsx", out.getvalue(), layouts.FFT)
    assert frame["organisation_code"].tolist() == ["ENG", "RA2", "RB1"]


def test_workbook_dates_read_as_dates_and_times_as_times() -> None:
    book = openpyxl.Workbook()
    incidents = book.active
    incidents.append(list(SPECIMENS["incidents"].header))
    incidents.append(["INC1", "RA2", dt.datetime(2024, 8, 1), dt.datetime(2024, 8, 2),
                      "Medication", "Low", None])  # fmt: skip
    for cell in incidents[2][2:4]:
        cell.number_format = "dd/mm/yyyy"
    hip = book.create_sheet("Spells")
    hip.append(list(SPECIMENS["hip_fracture"].header))
    hip.append(["HF1", "RA2", dt.datetime(2024, 8, 1, 0, 0), dt.datetime(2024, 8, 2, 9, 30),
                dt.datetime(2024, 8, 1, 15, 0), "Y", "Y", "Y", "Y", "Y", "N"])  # fmt: skip
    for cell in hip[2][2:5]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    buffer = io.BytesIO()
    book.save(buffer)

    frame = parse("incidents.xlsx", buffer.getvalue(), layouts.INCIDENTS)
    assert frame[["incident_date", "reported_date"]].iloc[0].tolist() == [
        "2024-08-01",
        "2024-08-02",
    ]
    spell = parse("hip.xlsx", buffer.getvalue(), layouts.HIP_FRACTURE).iloc[0]
    assert [spell["arrival"], spell["surgery"]] == ["2024-08-01 00:00", "2024-08-02 09:30"]


# --------------------------------------------------------------------------- streaming


def vte_file(rows: int) -> tuple[bytes, list[int]]:
    """A VTE file of `rows` rows below two metadata lines, a blank line after every third row
    and a note at the end."""
    data = tuple((f"R{n:03d}", "2024-25 Q1", str(100 + n), str(90 + n)) for n in range(rows))
    header = SPECIMENS["vte"].header
    text, lines = table(header, data, above=["VTE", ""], after=NOTES, blank_every=3)
    return text.encode(), lines


def test_parse_batches_streams_one_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    data, lines = vte_file(11)
    whole = parse("vte-2024-25.csv", data, layouts.VTE)
    position = {"line": 0}
    reader = tabular.rows

    def counted(csv: LandingCsv, layout: tabular.Layout):
        for number, found in reader(csv, layout):
            position["line"] = number
            yield number, found

    monkeypatch.setattr(tabular, "rows", counted)
    monkeypatch.setattr(tabular, "BATCH_ROWS", 4)
    batches, read = [], []
    for batch in tabular.parse_batches(landing("vte-2024-25.csv", data), layouts.VTE):
        read.append(position["line"])
        batches.append(batch)

    assert [len(b) for b in batches] == [4, 4, 3]
    first_rows = [b["row_number"].iloc[0] for b in batches]
    # A full batch is handed on once the next data row is read (so the file's last row is
    # still in hand when the end of the file shows whether it arrived whole), no later.
    assert read[:2] == first_rows[1:], "a full batch is handed on as the next row arrives"
    assert read[2] == lines[-1] + len(NOTES), "the last, partial batch at the end of the file"
    streamed = pd.concat(batches, ignore_index=True)
    assert streamed["row_number"].tolist() == lines, "row numbers continue across batches"
    pd.testing.assert_frame_equal(streamed, whole)


def test_a_file_of_exactly_whole_batches_and_a_header_only_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tabular, "BATCH_ROWS", 4)
    data, _ = vte_file(8)
    batches = list(tabular.parse_batches(landing("vte.csv", data), layouts.VTE))
    assert [len(b) for b in batches] == [4, 4]
    header_only = ",".join(SPECIMENS["vte"].header).encode() + b"\r\n\r\n"
    (empty,) = list(tabular.parse_batches(landing("vte.csv", header_only), layouts.VTE))
    assert len(empty) == 0
    assert list(empty.columns) == [*STAMPS, *layouts.VTE.output_columns, ROW_PROBLEM]


NJR_ROWS = (
    ("RA2", "2024-25", "0.97", "0.01", "0.92"),
    ("RB1", "2024-25", "1.2", "0.01", "0.92"),  # compliance > 1: record
    ("RC1", "2024-25", "0.95", "0.02", "1.5"),  # cemented > 1: set aside
    ("RD1", "2024-25", "0.99", "0", ""),
    ("RE1", "", "0.99", "0", "0.5"),  # no year: record
    ("RF1", "2024-25", "0.96", "0.03", "0.9"),
    ("RG1", "2024-25", "0.96", "5%", "0.9"),  # consent not a fraction: record
    ("RH1", "2024-25", "0.96", "0.03", "lots"),  # cemented not a number: set aside
    ("RJ1", "2024-25", "0.96", "0.03", "0.9"),
    ("RK1", "2024-25", "0.96", "0.03", "0.9"),
)


def _validate_njr(root: Path, data: bytes) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    home = Home(root)
    (home.landing / "njr").mkdir(parents=True)
    (home.landing / "njr" / "njr-2024-25.csv").write_bytes(data)
    (entry,) = ingest_feed(home, "njr").files
    validate_feed(home, "njr")
    raw = pd.read_parquet(run.raw_file(home, "njr_compliance", entry.key))
    held = pd.read_parquet(run.quarantine_file(home, "njr_compliance", entry.key))
    sidecar = run.raw_file(home, "njr_compliance", entry.key).with_suffix(".json")
    outcome = json.loads(sidecar.read_text())
    return raw, held, outcome


def test_validation_in_small_batches_gives_what_one_batch_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, lines = table(SPECIMENS["njr"].header, NJR_ROWS, above=["NJR", ""], blank_every=4)
    once = _validate_njr(tmp_path / "one", text.encode())

    calls = []
    checked = run.validate_file

    def counted(frame: pd.DataFrame, table: str, suite: str, register=None):
        calls.append(frame["row_number"].tolist())
        return checked(frame, table, suite, register)

    monkeypatch.setattr(tabular, "BATCH_ROWS", 4)
    monkeypatch.setattr(run, "BATCH_ROWS", 3)
    monkeypatch.setattr(run, "validate_file", counted)
    batched = _validate_njr(tmp_path / "batched", text.encode())

    assert [len(c) for c in calls] == [3, 3, 3, 1]
    assert [n for c in calls for n in c] == lines
    pd.testing.assert_frame_equal(batched[0], once[0])
    pd.testing.assert_frame_equal(batched[1], once[1])
    assert batched[2] == once[2], "the same counts by rule"
    raw, held, _ = once
    assert len(raw) == 7 and set(raw["set_aside"].dropna()) == {"cemented"}
    assert set(held["rule"]) == {
        "compliance_fraction",
        "cemented_fraction",
        "financial_year_present",
        "consent_fraction",
    }


# --------------------------------------------------------------------------- infection objectives

OBJECTIVES = (
    "Clostridioides difficile infection objectives 2024 to 2025\n"
    "\n"
    "Organisation code,Organisation name,Financial year,Threshold\n"
    "RA2,St Mary's Hospital,2024/25,28\n"
    "RB1,Royal Berkshire,2024 to 2025,14\n"
)


def test_infection_objectives_take_the_organism_from_the_title_and_normalise_the_year():
    frame = parse("objectives.csv", OBJECTIVES.encode(), layouts.HCAI_OBJECTIVES)
    assert frame["organism"].tolist() == ["c_difficile", "c_difficile"]
    assert frame["financial_year"].tolist() == ["2024-25", "2024-25"]
    assert frame["objective"].tolist() == ["28", "14"]
    assert frame["row_number"].tolist() == [4, 5]


def test_objectives_take_an_organism_column_before_the_title_and_an_unknown_one_is_blank():
    text = OBJECTIVES.replace("Threshold\n", "Threshold,Organism\n")
    text = text.replace(",28\n", ",28,E. coli\n").replace(",14\n", ",14,Norovirus\n")
    frame = parse("objectives.csv", text.encode(), layouts.HCAI_OBJECTIVES)
    assert frame["organism"].tolist()[0] == "e_coli"
    assert value(frame["organism"].tolist()[1]) is None  # quarantined by rule organism_known


def test_a_formula_with_no_saved_value_is_set_aside_never_read_as_a_figure(tmp_path: Path) -> None:
    """A workbook saved by a program that does not calculate keeps formulas without their
    values: the total is unknown, so the row's responses are set aside with the reason,
    and no percentage is worked out from a blank."""
    book = openpyxl.load_workbook(
        io.BytesIO(
            nhse_workbook("Parent & Self Trusts - Organisa", "Parent & Self Trusts - Site Lev")
        )
    )
    book["Parent & Self Trusts - Organisa"]["G5"] = "=SUM(K5:P5)"  # RA2's Total Responses
    buffer = io.BytesIO()
    book.save(buffer)
    home = Home(tmp_path)
    (home.landing / "fft").mkdir(parents=True)
    (home.landing / "fft" / "Maternity-Aug24.xlsx").write_bytes(buffer.getvalue())
    (entry,) = ingest_feed(home, "fft").files
    validate_feed(home, "fft")
    held = pd.read_parquet(run.quarantine_file(home, "fft_responses", entry.key))
    assert set(zip(held["row_number"], held["rule"], strict=True)) == {(5, "responses_complete")}
    raw = pd.read_parquet(run.raw_file(home, "fft_responses", entry.key)).set_index(
        "organisation_code"
    )
    assert raw.loc["RA2", ["total_responses", "very_good"]].isna().all()
    assert raw.loc["RB1", "total_responses"] == 40, "the other rows keep their figures"
