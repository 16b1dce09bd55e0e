"""Parsing landing files: which PROMs file is which, columns under stable names, years,
zips as published, line numbers, checksums, encodings, and ODS extracts.

Test data are built here, in the published layouts; the real headers are read from the
zips in ../shared/data/proms where that adds something (skipped when absent).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_or_fail

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.feeds.spec import Recognised
from dagster_project.home import resolve_home
from dagster_project.ingest import organisations, proms
from dagster_project.ingest.landing import LandingCsv, LandingFileError, iter_landing_csvs
from dagster_project.ingest.row_shape import ROW_PROBLEM
from dagster_project.ingest.run import incoming_file, ingest_feed

# --------------------------------------------------------------------------- layouts

_COMORBIDITIES = [
    "Heart Disease",
    "High Bp",
    "Stroke",
    "Circulation",
    "Lung Disease",
    "Diabetes",
    "Kidney Disease",
    "Nervous System",
    "Liver Disease",
    "Cancer",
    "Depression",
    "Arthritis",
]
_DIMENSIONS = ["Mobility", "Self-Care", "Activity", "Discomfort", "Anxiety"]
COMMON = [
    "Provider Code",
    "Procedure",
    "Revision Flag",
    "Year",
    "Age Band",
    "Gender",
    "Pre-Op Q Assisted",
    "Pre-Op Q Assisted By",
    "Pre-Op Q Symptom Period",
    "Pre-Op Q Previous Surgery",
    "Pre-Op Q Living Arrangements",
    "Pre-Op Q Disability",
    *_COMORBIDITIES,
    *[f"Pre-Op Q {d}" for d in _DIMENSIONS],
    "Pre-Op Q EQ5D Index Profile",
    "Pre-Op Q EQ5D Index",
    "Post-Op Q Assisted",
    "Post-Op Q Assisted By",
    "Post-Op Q Living Arrangements",
    "Post-Op Q Disability",
    *[f"Post-Op Q {d}" for d in _DIMENSIONS],
    "Post-Op Q Satisfaction",
    "Post-Op Q Sucess",
    "Post-Op Q Allergy",
    "Post-Op Q Bleeding",
    "Post-Op Q Wound",
    "Post-Op Q Urine",
    "Post-Op Q Further Surgery",
    "Post-Op Q Readmitted",
    "Post-Op Q EQ5D Index Profile",
    "Post-Op Q EQ5D Index",
]
HIP_ITEMS = [
    "Pain",
    "Sudden Pain",
    "Night Pain",
    "Washing",
    "Transport",
    "Dressing",
    "Shopping",
    "Walking",
    "Limping",
    "Stairs",
    "Standing",
    "Work",
]
KNEE_ITEMS = [
    "Pain",
    "Night Pain",
    "Washing",
    "Transport",
    "Walking",
    "Standing",
    "Limping",
    "Kneeling",
    "Work",
    "Confidence",
    "Shopping",
    "Stairs",
]


def _record_header(label: str, eq5d: str, vas: str, oxford: str, items: list[str]) -> list[str]:
    return [
        *COMMON,
        f"{label} {eq5d} Post-Op Q Predicted",
        "Pre-Op Q EQ VAS",
        "Post-Op Q EQ VAS",
        f"{label} {vas} Q Predicted",
        *[f"{label} Pre-Op Q {i}" for i in items],
        f"{label} Pre-Op Q Score",
        *[f"{label} Post-Op Q {i}" for i in items],
        f"{label} Post-Op Q Score",
        f"{label} {oxford} Post-Op Q Predicted",
    ]


HIP_HEADER = _record_header("Hip Replacement", "EQ5D Index", "EQ VAS Post-Op", "OHS", HIP_ITEMS)
# The knee file spells two columns differently: `EQ 5D Index`, `EQ VAS_Post-Op`.
KNEE_HEADER = _record_header("Knee Replacement", "EQ 5D Index", "EQ VAS_Post-Op", "OKS", KNEE_ITEMS)
_PARTLINK_FIELDS = [
    "Total HES Procedures",
    "Total Pre-Op Qs",
    "Participation Rate",
    "Total Linked",
    "Linkage rate",
    "Total Q2s sent to date",
    "Issue rate",
    "Total Q2s returned to date",
    "Response rate",
]
PARTLINK_HEADER = [
    "Organisation Code",
    "Organisation Name",
    *[f"{p} - {f}" for p in proms.PARTLINK_PROCEDURES for f in _PARTLINK_FIELDS],
]
PROVCOMM_HEADER = [
    "Procedure",
    "Organisation Type",
    "Organisation Code",
    "Organsation Name",
    "Measure",
    "Modelled Records",
    "Average Pre-Op Q Score",
    "Average Post-Op Q Score",
    "Health Gain",
    "Improved",
    "Same",
    "Worse",
    "Adjusted Post-Op Q Score",
    "Adjusted Average Health Gain",
    "Standard Deviation",
]
TIME_SERIES_HEADER = [
    "OrgCode",
    "OrgName",
    "Procedure",
    "Measure",
    *[f"Modelled_Records_{y}" for y in range(2011, 2018)],
    *[f"Adjusted_Health_Gain_{y}" for y in range(2011, 2018)],
    *[f"Outlier_{y}" for y in range(2011, 2018)],
]
KEY_FACTS_HEADER = [
    "Lookup",
    "Procedure",
    "Organisation Type",
    "Organisation Code",
    "Organsation Name",
    "Measure",
    "Improved",
    "Unchanged",
    "Worsened",
    "Total",
    "% Improved",
    "% Unchanged",
    "% Worsened",
]


def _csv_bytes(header: list[str], rows: list[list[str]], newline: str = "\r\n") -> bytes:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return (newline.join(lines) + newline).encode("utf-8")


def _numbered_row(header: list[str], tag: str = "") -> list[str]:
    """A row whose every cell says which column it is in (`c0`, `c1`, ...)."""
    return [f"{tag}c{i}" for i in range(len(header))]


def _record_row(header: list[str], procedure: str, **cells: str) -> list[str]:
    row = _numbered_row(header)
    values = {"Provider Code": "RXX", "Procedure": procedure, "Year": "2018/19", **cells}
    for column, value in values.items():
        row[header.index(column)] = value
    return row


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _csv(data: bytes, name: str = "file.csv") -> LandingCsv:
    return LandingCsv(Path(name), None, data)


@pytest.fixture
def home(tmp_path: Path):
    return resolve_home(tmp_path / "home").ensure()


def _proms_landing(home) -> Path:
    folder = home.landing / "proms"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- real headers


def _real_year(proms_data_dir: Path, year: str) -> Path:
    folder = proms_data_dir / year
    if not folder.is_dir():
        skip_or_fail(f"real PROMs data pack for {year} not found at {folder}")
    return folder


REAL_KINDS = {
    "Hip": "hip_records",
    "Knee": "knee_records",
    "PartLink": "partlink",
    "ProvComm": "provcomm",
    "Time Series": "time_series",
    "Key Facts": "key_facts",
}


@pytest.mark.realdata
@pytest.mark.parametrize("year", ["2016-17", "2017-18"])
def test_real_pack_files_are_classified_by_header(proms_data_dir: Path, year: str) -> None:
    folder = _real_year(proms_data_dir, year)
    csvs = list(iter_landing_csvs(folder))
    # Every published zip carries a `__MACOSX/._*.csv` shadow entry; none may come through.
    assert all("__MACOSX" not in c.source and not c.csv_name.startswith("._") for c in csvs)
    assert len(csvs) == len(list(folder.glob("*.zip"))), [c.source for c in csvs]
    found = {}
    for csv in csvs:
        expected = next(k for prefix, k in REAL_KINDS.items() if csv.csv_name.startswith(prefix))
        kind = proms.classify(csv.header())
        assert kind is not None, f"{csv.source}: header not recognised: {csv.header()[:5]}"
        assert kind.kind == expected, f"{csv.source}: classified {kind.kind}, not {expected}"
        found[kind.kind] = csv
    assert set(found) == set(REAL_KINDS.values())
    assert found["hip_records"].header() == HIP_HEADER
    assert found["knee_records"].header() == KNEE_HEADER
    assert found["partlink"].header() == PARTLINK_HEADER
    assert found["provcomm"].header() == PROVCOMM_HEADER
    assert found["key_facts"].header() == KEY_FACTS_HEADER


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("header", "kind", "table"),
    [
        (HIP_HEADER, "hip_records", proms.RECORDS),
        (KNEE_HEADER, "knee_records", proms.RECORDS),
        (PARTLINK_HEADER, "partlink", proms.PARTICIPATION),
        (PROVCOMM_HEADER, "provcomm", None),
        (TIME_SERIES_HEADER, "time_series", None),
        (KEY_FACTS_HEADER, "key_facts", None),
        (["CCG Code", *HIP_HEADER[1:]], "ccg_records", None),
        (["CCG of GP Practice Code", *KNEE_HEADER[1:]], "ccg_records", None),
    ],
    ids=["hip", "knee", "partlink", "provcomm", "time_series", "key_facts", "ccg", "ccg_knee"],
)
def test_classify_recognises_each_pack_file(header, kind, table) -> None:
    found = proms.classify(header)
    assert found is not None, f"{kind} header not recognised"
    assert (found.kind, found.table) == (kind, table)
    if table is None:
        assert found.note, f"a {kind} file skipped without saying why"


@pytest.mark.parametrize(
    "header",
    [
        ["Name", "Value"],
        [""],
        ["Provider Code", "Procedure", "Year"],  # no Revision Flag
        HIP_HEADER[:-1] + ["Knee Replacement OKS Post-Op Q Predicted"],  # hip and knee mixed
        ["Provider Code", *COMMON[1:]],  # no procedure-specific columns at all
        ["Organisation Code", "Organisation Name", "Total"],
    ],
    ids=["unrelated", "empty", "no_revision_flag", "hip_and_knee", "no_procedure", "org_list"],
)
def test_classify_unknown_header_is_none(header) -> None:
    assert proms.classify(header) is None


def test_classify_tolerates_spacing_and_case() -> None:
    header = [f"  {h.upper()} " for h in HIP_HEADER]
    found = proms.classify(header)
    assert found is not None and found.kind == "hip_records"


# --------------------------------------------------------------------------- column names


def test_knee_spellings_map_to_the_same_canonical_columns_as_hip() -> None:
    hip = proms.record_column_map(HIP_HEADER)
    knee = proms.record_column_map(KNEE_HEADER)
    assert sorted(hip.values()) == sorted(proms.RECORD_COLUMNS)
    assert sorted(knee.values()) == sorted(proms.RECORD_COLUMNS)
    assert knee["Knee Replacement EQ 5D Index Post-Op Q Predicted"] == "eq5d_index_predicted"
    assert hip["Hip Replacement EQ5D Index Post-Op Q Predicted"] == "eq5d_index_predicted"
    assert knee["Knee Replacement EQ VAS_Post-Op Q Predicted"] == "eq_vas_predicted"
    assert hip["Hip Replacement EQ VAS Post-Op Q Predicted"] == "eq_vas_predicted"
    assert knee["Knee Replacement OKS Post-Op Q Predicted"] == "oxford_predicted"
    assert hip["Hip Replacement OHS Post-Op Q Predicted"] == "oxford_predicted"
    # The published misspelling `Sucess` is a column like any other.
    assert hip["Post-Op Q Sucess"] == knee["Post-Op Q Sucess"] == "post_success"


@pytest.mark.parametrize(
    ("header", "label", "items"),
    [(HIP_HEADER, "Hip Replacement", HIP_ITEMS), (KNEE_HEADER, "Knee Replacement", KNEE_ITEMS)],
    ids=["hip", "knee"],
)
def test_parse_records_puts_every_value_under_its_canonical_column(header, label, items) -> None:
    row = _record_row(header, label, **{"Revision Flag": "1"})
    csv = _csv(_csv_bytes(header, [row]), f"{label} Provider 1819.csv")
    kind = proms.classify(header)
    frame = proms.parse_records(csv, kind)
    assert len(frame) == 1
    got = frame.iloc[0]
    for column, canonical in proms.record_column_map(header).items():
        assert got[canonical] == row[header.index(column)], f"{column} -> {canonical}"
    # Oxford items keep the published order: q01 is the first item, q12 the last.
    for stage in ("Pre", "Post"):
        for number, item in enumerate(items, start=1):
            canonical = f"{stage.lower()}_oxford_q{number:02d}"
            assert got[canonical] == row[header.index(f"{label} {stage}-Op Q {item}")]
    assert got["procedure"] == label
    assert got["revision_flag"] == "1"
    assert got["financial_year"] == "2018-19"
    assert got["row_number"] == 2
    assert got["file_kind"] == kind.kind
    assert got["source_file"] == csv.source
    assert got["sha256"] == hashlib.sha256(csv.data).hexdigest()
    assert list(frame.columns) == [*proms.META_COLUMNS, *proms.RECORD_COLUMNS, ROW_PROBLEM]


def test_parse_records_refuses_a_header_missing_columns() -> None:
    header = [h for h in HIP_HEADER if h != "Hip Replacement OHS Post-Op Q Predicted"]
    csv = _csv(_csv_bytes(header, [_numbered_row(header)]), "Hip Replacement Provider 1819.csv")
    with pytest.raises(LandingFileError, match="oxford_predicted") as caught:
        proms.parse_records(csv, Recognised("hip_records", proms.RECORDS))
    assert caught.value.source == "Hip Replacement Provider 1819.csv"


# --------------------------------------------------------------------------- years


@pytest.mark.parametrize(
    ("label", "year"),
    [
        ("2018/19", "2018-19"),
        ("2016/17", "2016-17"),
        (" 2017/18 ", "2017-18"),
        ("1999/00", "1999-00"),
        ("2018/20", None),
        ("2018-19", None),
        ("18/19", None),
        ("2018/1", None),
        ("201819", None),
        ("", None),
        ("*", None),
        (None, None),
    ],
)
def test_year_from_label(label, year) -> None:
    assert proms.year_from_label(label) == year


@pytest.mark.parametrize(
    ("name", "year"),
    [
        ("PartLink Hip and Knee Replacement 1819.csv", "2018-19"),
        ("Hip Replacement Provider 1819.csv", "2018-19"),
        ("Hip Replacements Provider 1718.csv", "2017-18"),
        ("Knee Replacements Provider 1718.csv", "2017-18"),
        ("PartLink Hip and Knee Replacement 1617.CSV", "2016-17"),
        ("Time Series 1718", "2017-18"),
        ("PartLink Hip and Knee Replacement 1820.csv", None),
        ("PartLink Hip and Knee Replacement.csv", None),
        ("PartLink 1819 final.csv", None),
        ("Hip Replacement Provider 819.csv", None),
        ("etr.csv", None),
    ],
)
def test_year_from_file_name(name, year) -> None:
    assert proms.year_from_file_name(name) == year


def test_record_with_a_broken_year_gets_no_financial_year() -> None:
    rows = [
        _record_row(HIP_HEADER, "Hip Replacement", Year="2018/19"),
        _record_row(HIP_HEADER, "Hip Replacement", Year="2018/20"),
        _record_row(HIP_HEADER, "Hip Replacement", Year=""),
    ]
    csv = _csv(_csv_bytes(HIP_HEADER, rows), "Hip Replacement Provider 1819.csv")
    frame = proms.parse_records(csv, proms.classify(HIP_HEADER))
    assert frame["financial_year"].tolist()[0] == "2018-19"
    assert frame["financial_year"].isna().tolist() == [False, True, True]


# --------------------------------------------------------------------------- zips


def test_macosx_entries_are_ignored(tmp_path: Path) -> None:
    data = _csv_bytes(HIP_HEADER, [_record_row(HIP_HEADER, "Hip Replacement")])
    folder = tmp_path / "landing"
    _zip(
        folder / "Hip Replacement Provider 1819.csv.zip",
        {
            "Hip Replacement Provider 1819.csv": data,
            "__MACOSX/._Hip Replacement Provider 1819.csv": b"\x00\x05\x16\x07\x00\x02\x00\x00",
            "__MACOSX/": b"",
        },
    )
    shadow = folder / "__MACOSX"
    shadow.mkdir()
    (shadow / "._stray.csv").write_bytes(b"\x00\x05\x16\x07")
    found = list(iter_landing_csvs(folder))
    assert [c.source for c in found] == [
        "Hip Replacement Provider 1819.csv.zip!Hip Replacement Provider 1819.csv"
    ]
    assert found[0].data == data


def test_checksum_is_of_the_extracted_csv_bytes(tmp_path: Path) -> None:
    data = _csv_bytes(HIP_HEADER, [_record_row(HIP_HEADER, "Hip Replacement")])
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "Hip Replacement Provider 1819.csv").write_bytes(data)
    zipped = tmp_path / "zipped"
    _zip(zipped / "pack.zip", {"Hip Replacement Provider 1819.csv": data})
    stored = tmp_path / "stored"
    stored.mkdir()
    with zipfile.ZipFile(stored / "other.zip", "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("renamed.csv", data)
    digests = {
        folder.name: [c.sha256 for c in iter_landing_csvs(folder)]
        for folder in (plain, zipped, stored)
    }
    expected = hashlib.sha256(data).hexdigest()
    assert digests == {"plain": [expected], "zipped": [expected], "stored": [expected]}


def _zip_bytes(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Hip Replacement Provider 1819.csv", data)
    return buffer.getvalue()


def _big_csv() -> bytes:
    rows = [
        _record_row(HIP_HEADER, "Hip Replacement", **{"Provider Code": f"R{i:04d}"})
        for i in range(400)
    ]
    return _csv_bytes(HIP_HEADER, rows)


def _damage(kind: str) -> bytes:
    whole = _zip_bytes(_big_csv())
    if kind == "truncated":
        return whole[: len(whole) // 2]
    if kind == "tail_cut":
        return whole[:-40]
    if kind == "not_a_zip":
        return _big_csv()
    if kind == "empty":
        return b""
    # Member data damaged, directory intact, as a disk or transfer error leaves it: zeros
    # fail the CRC check, 0xFF bytes break the deflate stream itself.
    fill = 0 if kind == "damaged_member_crc" else 0xFF
    start = len(whole) // 4
    return whole[:start] + bytes([fill]) * 200 + whole[start + 200 :]


@pytest.mark.parametrize(
    "kind",
    ["truncated", "tail_cut", "not_a_zip", "empty", "damaged_member_crc", "damaged_member_stream"],
)
def test_unreadable_zip_raises_naming_the_file(tmp_path: Path, kind: str) -> None:
    name = f"Hip Replacement Provider 1819 {kind}.csv.zip"
    (tmp_path / name).write_bytes(_damage(kind))
    with pytest.raises(LandingFileError) as caught:
        list(iter_landing_csvs(tmp_path))
    assert caught.value.source == name
    assert name in str(caught.value)


def test_zip_without_a_csv_raises_naming_the_file(tmp_path: Path) -> None:
    _zip(tmp_path / "pack.zip", {"readme.txt": b"nothing here", "__MACOSX/._x.csv": b"\x00"})
    with pytest.raises(LandingFileError, match=r"pack\.zip: holds no CSV"):
        list(iter_landing_csvs(tmp_path))


def test_a_file_of_no_delivery_format_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "Hip Replacement Provider 1819.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")  # hidden files are not deliveries
    with pytest.raises(LandingFileError, match=r"Provider 1819\.pdf"):
        list(iter_landing_csvs(tmp_path))


def test_a_workbook_in_the_proms_folder_fails_ingest_by_name(tmp_path: Path) -> None:
    home = resolve_home(tmp_path).ensure()
    (home.landing / "proms").mkdir(parents=True)
    (home.landing / "proms" / "Hip Replacement Provider 1819.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(LandingFileError, match=r"Provider 1819\.xlsx"):
        ingest_feed(home, "proms")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        # No NUL byte, and not text in UTF-8 or Windows-1252 (0x81, 0x8d are undefined).
        bytes(range(0x80, 0x100)) * 8,
    ],
    ids=["with_nul_bytes", "without_nul_bytes"],
)
def test_binary_file_named_csv_is_refused_naming_it(home, data: bytes) -> None:
    landing = _proms_landing(home)
    (landing / "Hip Replacement Provider 1819.csv").write_bytes(data)
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(home, "proms")
    assert caught.value.source == "Hip Replacement Provider 1819.csv"
    assert "Hip Replacement Provider 1819.csv" in str(caught.value)


# --------------------------------------------------------------------------- lines and text


def test_row_numbers_are_line_numbers_with_blank_lines_inside() -> None:
    data = b"A,B\r\n1,2\r\n\r\n3,4\r\n,\r\n\r\n5,6\r\n\r\n"
    frame = _csv(data).read_frame()
    assert frame["row_number"].tolist() == [2, 4, 7]
    assert frame["A"].tolist() == ["1", "3", "5"]


def test_record_row_numbers_survive_blank_lines() -> None:
    rows = [
        _record_row(HIP_HEADER, "Hip Replacement", **{"Provider Code": code})
        for code in ("RAA", "RBB", "RCC")
    ]
    lines = [
        ",".join(HIP_HEADER),
        ",".join(rows[0]),
        "",
        "",
        ",".join(rows[1]),
        "",
        ",".join(rows[2]),
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    frame = proms.parse_records(
        _csv(data, "Hip Replacement Provider 1819.csv"), proms.classify(HIP_HEADER)
    )
    assert dict(zip(frame["provider_code"], frame["row_number"], strict=True)) == {
        "RAA": 2,
        "RBB": 5,
        "RCC": 7,
    }


def test_blank_cells_become_missing_and_text_stays_text() -> None:
    frame = _csv(b"A,B,C\r\n007,,1.50\r\n").read_frame()
    row = frame.iloc[0]
    assert (row["A"], row["C"]) == ("007", "1.50")
    assert row["B"] is None or pd.isna(row["B"])


def test_windows_1252_text_decodes() -> None:
    name = "ST JOHN\u2019S HOSPITAL \u2013 CAF\u00c9"
    text = f"Organisation Code,Organisation Name\r\nRXX,{name}\r\n"
    csv = _csv(text.encode("cp1252"))
    with pytest.raises(UnicodeDecodeError):
        csv.data.decode("utf-8")
    assert csv.text() == text
    assert csv.read_frame()["Organisation Name"].tolist() == [
        "ST JOHN\u2019S HOSPITAL \u2013 CAF\u00c9"
    ]


def test_utf8_with_byte_order_mark_decodes() -> None:
    csv = _csv("\ufeffProvider Code,Name\r\nRXX,Caf\u00e9\r\n".encode())
    assert csv.header() == ["Provider Code", "Name"]


# --------------------------------------------------------------------------- PartLink


def _partlink_rows() -> list[list[str]]:
    def block(hes: str, pre: str, rate: str) -> list[str]:
        return [hes, pre, rate, pre, "1", pre, "1", pre, "1"]

    england = ["England", "ENGLAND", *sum((block("100", "90", "0.9") for _ in range(7)), [])]
    named = ["RXX", '"HOSPITAL, WITH A COMMA"']
    suppressed = ["*"] * 9
    provider = [
        *named,
        *block("12", "9", "0.75"),
        *block("5", "3", "0.6"),
        *block("3", "3", "1"),
        *suppressed,
        *block("7", "6", "0.8571429"),
        *block("7", "6", "0.8571429"),
        *block("0", "0", "0"),
    ]
    return [england, provider]


def test_parse_partlink_turns_the_wide_layout_long() -> None:
    csv = _csv(
        _csv_bytes(PARTLINK_HEADER, _partlink_rows()), "PartLink Hip and Knee Replacement 1819.csv"
    )
    kind = proms.classify(PARTLINK_HEADER)
    frame = proms.parse_partlink(csv, kind)
    assert len(frame) == 2 * len(proms.PARTLINK_PROCEDURES)
    assert set(frame["financial_year"]) == {"2018-19"}
    assert set(frame["procedure"]) == set(proms.PARTLINK_PROCEDURES)
    rxx = frame[frame["provider_code"] == "RXX"].set_index("procedure")
    assert rxx.loc["All Procedures", "provider_name"] == "HOSPITAL, WITH A COMMA"
    assert rxx.loc["All Procedures", "hes_procedures"] == "12"
    assert rxx.loc["All Procedures", "participation_rate"] == "0.75"
    assert rxx.loc["Revision Hip Replacement", "hes_procedures"] == "*"
    assert bool(rxx.loc["Revision Hip Replacement", "hes_procedures_suppressed"])
    assert not rxx["hes_procedures_suppressed"].drop("Revision Hip Replacement").any()
    assert set(rxx["row_number"]) == {3}
    england = frame[frame["provider_code"] == "England"]
    assert set(england["row_number"]) == {2} and len(england) == 7


def test_partlink_without_a_year_in_its_name_is_refused_by_name() -> None:
    csv = _csv(_csv_bytes(PARTLINK_HEADER, _partlink_rows()), "PartLink Hip and Knee.csv")
    with pytest.raises(LandingFileError) as caught:
        proms.parse_partlink(csv, proms.classify(PARTLINK_HEADER))
    assert caught.value.source == "PartLink Hip and Knee.csv"


# --------------------------------------------------------------------------- ingest_feed


def test_ingest_feed_names_an_unknown_csv(home) -> None:
    landing = _proms_landing(home)
    hip = _csv_bytes(HIP_HEADER, [_record_row(HIP_HEADER, "Hip Replacement")])
    (landing / "Hip Replacement Provider 1819.csv").write_bytes(hip)
    (landing / "notes from the trust.csv").write_bytes(b"Name,Value\r\nsomething,1\r\n")
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(home, "proms")
    assert caught.value.source == "notes from the trust.csv"
    assert "notes from the trust.csv" in str(caught.value)


def test_ingest_feed_names_an_unknown_csv_inside_a_zip(home) -> None:
    landing = _proms_landing(home)
    _zip(landing / "pack.zip", {"inside/mystery.csv": b"Name,Value\r\nx,1\r\n"})
    with pytest.raises(LandingFileError, match=r"pack\.zip!inside/mystery\.csv"):
        ingest_feed(home, "proms")


def test_same_content_delivered_twice_is_loaded_once(home) -> None:
    landing = _proms_landing(home)
    rows = [
        _record_row(HIP_HEADER, "Hip Replacement", **{"Provider Code": code})
        for code in ("RAA", "RBB", "RCC")
    ]
    data = _csv_bytes(HIP_HEADER, rows)
    (landing / "Hip Replacement Provider 1819.csv").write_bytes(data)
    _zip(landing / "resent" / "Hip Replacement Provider 1819 (1).csv.zip", {"copy.csv": data})
    report = ingest_feed(home, "proms")
    assert len(report.files) == 2
    loaded = [f for f in report.files if f.table == proms.RECORDS]
    assert len(loaded) == 1 and loaded[0].rows == 3
    duplicate = next(f for f in report.files if f.table is None)
    assert duplicate.sha256 == loaded[0].sha256
    assert "loaded once" in duplicate.note
    assert report.rows_by_table == {proms.RECORDS: 3}
    parsed = list((home.incoming / proms.RECORDS).glob("*.parquet"))
    assert parsed == [incoming_file(home, proms.RECORDS, loaded[0].key)]
    assert len(pd.read_parquet(parsed[0])) == 3


def test_ingest_feed_skips_reference_tables_and_keeps_the_manifest(home) -> None:
    landing = _proms_landing(home)
    (landing / "Hip Replacement Provider 1819.csv").write_bytes(
        _csv_bytes(HIP_HEADER, [_record_row(HIP_HEADER, "Hip Replacement")])
    )
    _zip(
        landing / "ProvComm Hip and Knee Replacement 1819.csv.zip",
        {"ProvComm Hip and Knee Replacement 1819.csv": _csv_bytes(PROVCOMM_HEADER, [])},
    )
    report = ingest_feed(home, "proms")
    kinds = {f.kind: f for f in report.files}
    assert set(kinds) == {"hip_records", "provcomm"}
    assert kinds["provcomm"].table is None and kinds["provcomm"].note
    assert report.rows_by_table == {proms.RECORDS: 1}


# --------------------------------------------------------------------------- ODS


def _etr_line(code: str, name: str, region: str, postcode: str, opened: str, closed: str) -> str:
    fields = [
        code,
        name,
        region,
        "QZZ",
        "1 HOSPITAL ROAD",
        "",
        "",
        "TOWN",
        "COUNTY",
        postcode,
        opened,
        closed,
        "",
        "",
        "",
        "",
        "",
        "01632 960000",
        "",
        "",
        "",
        "0",
        "",
        "",
        "",
        "",
        "",
    ]
    assert len(fields) == 27
    return ",".join(f'"{f}"' for f in fields)


def test_ods_etr_extract_parses_by_position() -> None:
    lines = [
        _etr_line("RXX", "EXAMPLE HOSPITALS NHS TRUST", "Y56", "ZZ1 0AA", "19910401", ""),
        "",
        _etr_line("RYY", "OTHER, NHS FOUNDATION TRUST", "Y62", "ZZ2 1BB", "19920401", "20200331"),
    ]
    csv = _csv(("\r\n".join(lines) + "\r\n").encode(), "etr.csv")
    assert organisations.looks_like_ods(csv)
    assert FEEDS["organisations"].recognise(csv) is not None
    assert FEEDS["proms"].recognise(csv) is None
    frame = organisations.parse_ods(csv)
    assert list(frame.columns[-12:]) == organisations.ODS_COLUMNS
    assert frame["organisation_code"].tolist() == ["RXX", "RYY"]
    assert frame["organisation_name"].tolist()[1] == "OTHER, NHS FOUNDATION TRUST"
    assert frame["national_grouping"].tolist() == ["Y56", "Y62"]
    assert frame["postcode"].tolist() == ["ZZ1 0AA", "ZZ2 1BB"]
    assert frame["open_date"].tolist() == ["19910401", "19920401"]
    assert pd.isna(frame["close_date"].iloc[0]) and frame["close_date"].iloc[1] == "20200331"
    assert pd.isna(frame["address_line_2"].iloc[0])
    assert frame["row_number"].tolist() == [1, 3]  # headerless: the first line is data
    assert set(frame["file_kind"]) == {"ods_extract"}


@pytest.mark.parametrize(
    "data",
    [
        _csv_bytes(HIP_HEADER, [_record_row(HIP_HEADER, "Hip Replacement")]),
        b"Code,Name,a,b,c,d,e,f,g,h,Opened,Closed\r\nRXX,X,,,,,,,,,19910401,\r\n",
        b'"RXX","SHORT LINE","Y56"\r\n',
    ],
    ids=["proms_header", "headed_csv", "too_few_fields"],
)
def test_not_an_ods_extract(data: bytes) -> None:
    assert not organisations.looks_like_ods(_csv(data))


def test_ingest_feed_loads_an_ods_extract(home) -> None:
    folder = home.landing / "organisations"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        _etr_line("RXX", "EXAMPLE HOSPITALS NHS TRUST", "Y56", "ZZ1 0AA", "19910401", ""),
        _etr_line("RYY", "OTHER NHS TRUST", "Y62", "ZZ2 1BB", "19920401", ""),
    ]
    (folder / "etr.csv").write_text("\r\n".join(lines) + "\r\n")
    report = ingest_feed(home, "organisations")
    assert [(f.kind, f.rows) for f in report.files] == [("ods_extract", 2)]
    assert report.rows_by_table == {organisations.ORGANISATIONS: 2}
