"""`qa validate` and `qa quarantine list` as a data engineer uses them.

`qa validate` runs real synthetic landing files through the real recognisers,
parsers and Great Expectations suites, and must leave the home exactly as it
was. `qa quarantine list` reads what real ingest and validation of a feed set
aside (no dbt, no publication needed).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.cli import main
from dagster_project.feeds.catalogue import FEEDS
from dagster_project.feeds.spec import Feed
from dagster_project.home import Home, resolve_home
from dagster_project.ingest.run import ingest_feed
from dagster_project.synth import write_synthetic_region
from dagster_project.validation.dry_run import EXAMPLES_PER_RULE
from dagster_project.validation.run import validate_feed

HIP = "Hip Replacement Provider 2425.csv"
BROKEN_LINES = [2, 5, 6, 9, 12, 20, 33]  # lines as a spreadsheet shows them (header = 1)


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic files as a publisher ships them, plus a hip file with broken provider codes."""
    root = tmp_path_factory.mktemp("delivery")
    write_synthetic_region(
        root / "landing", root / "truth.json", providers=12, years=["2024-25"], seed=11, feeds=[]
    )
    frame = pd.read_csv(root / "landing" / "proms" / HIP, dtype=str, keep_default_na=False)
    frame.loc[[line - 2 for line in BROKEN_LINES], "Provider Code"] = "not a code"
    broken = root / "broken" / HIP
    broken.parent.mkdir()
    frame.to_csv(broken, index=False, quoting=csv.QUOTE_MINIMAL)
    return root


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The home $QA_HOME names, already holding something, so any write to it would show."""
    home = resolve_home(tmp_path / "home").ensure()
    monkeypatch.setenv("QA_HOME", str(home.root))
    return home


def _validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_clean_files_would_load_whole_and_nothing_is_written(delivery, home, capsys):
    before = _tree(home.root)
    for path, feed in [
        (delivery / "landing" / "proms" / HIP, "proms"),
        (delivery / "landing" / "organisations" / "etr.csv", "organisations"),
        (next((delivery / "landing" / "shmi").glob("*.zip")), "shmi"),
    ]:
        code, out, _ = _validate(capsys, path)
        assert code == 0, out
        assert f"feed {feed}" in out
        assert "Nothing would be quarantined." in out
    assert _tree(home.root) == before


def test_every_feed_is_found_by_trying_every_recogniser(delivery, home, capsys):
    """One synthetic file per landing folder (and a workbook, which more than one feed
    accepts): each is read as the feed its folder names, as a run would read it."""
    folders = sorted(p for p in (delivery / "landing").iterdir() if p.is_dir())
    assert {f.name for f in folders} <= set(FEEDS)
    files = [sorted(f.iterdir())[0] for f in folders]
    files += sorted((delivery / "landing").glob("*/*.xlsx"))[:1]
    for path in files:
        code, out, err = _validate(capsys, path)
        assert code in (0, 1), f"{path.name}: {err}"
        feed = FEEDS[path.parent.name]
        assert path.name in out and f": feed {feed.name}, " in out
        assert any(f"table {table}," in out for table in feed.table_names) or "Not loaded" in out


def test_broken_rows_are_listed_by_rule_with_their_lines(delivery, home, capsys):
    before = _tree(home.root)
    code, out, _ = _validate(capsys, delivery / "broken" / HIP)
    assert code == 1
    rule = next(line for line in out.splitlines() if "provider_code_shape" in line)
    assert f"provider_code_shape: {len(BROKEN_LINES)} (record quarantined)" in rule
    assert "ODS code" in rule  # the suite's reason
    # file, line, column, value; the file's name has spaces in it
    examples = [line.split() for line in out.splitlines() if "'not a code'" in line]
    words = len(HIP.split())
    assert [int(cells[words]) for cells in examples] == BROKEN_LINES[:EXAMPLES_PER_RULE]
    assert all(cells[:words] == HIP.split() for cells in examples)
    assert all(cells[words + 1] == "provider_code" for cells in examples)
    assert f"... and {len(BROKEN_LINES) - EXAMPLES_PER_RULE} more" in out
    assert "Nothing was written" in out
    assert _tree(home.root) == before


def test_a_zipped_file_is_named_by_its_member(delivery, home, capsys, tmp_path):
    packed = tmp_path / "pack.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.write(delivery / "broken" / HIP, HIP)
    code, out, _ = _validate(capsys, packed)
    assert code == 1
    assert f"pack.zip!{HIP}" in out


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("Mystery Extract.csv", b"Colour,Shape\nred,square\n", "header not recognised"),
        ("pack.zip", b"PK\x03\x04 not really a zip", "zip"),
        ("notes.txt", b"hello\n", "is not a .csv, .zip, .xlsx, .xlsm or .ods file"),
    ],
)
def test_unreadable_files_exit_2_naming_the_file(home, capsys, tmp_path, name, data, problem):
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = _validate(capsys, path)
    assert code == 2
    assert name in err and problem in err, err
    assert out == ""


def test_a_missing_file_exits_2(home, capsys, tmp_path):
    code, _, err = _validate(capsys, tmp_path / "nowhere.csv")
    assert code == 2
    assert "nowhere.csv" in err and "no such file" in err


def test_a_feed_added_to_the_registry_is_tried_too(delivery, home, capsys, monkeypatch, tmp_path):
    """A second feed accepting SHMI files makes them ambiguous until --feed picks one."""
    shmi = FEEDS["shmi"]
    mirror = Feed("shmi_mirror", "A copy of SHMI.", shmi.tables, shmi.recognise, shmi.parse)
    monkeypatch.setitem(FEEDS, "shmi_mirror", mirror)
    source = next((delivery / "landing" / "shmi").glob("*.zip"))
    loose = tmp_path / source.name
    loose.write_bytes(source.read_bytes())
    code, _, err = _validate(capsys, loose)
    assert code == 2
    assert "several feeds (shmi, shmi_mirror)" in err and "--feed" in err
    code, out, _ = _validate(capsys, loose, "--feed", "shmi_mirror")
    assert code == 0
    assert "feed shmi_mirror" in out


def _quarantine(capsys: pytest.CaptureFixture[str], home: Home, *args: str):
    code = main(["quarantine", "list", "--home", str(home.root), *args])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def test_quarantine_list_says_what_is_held_and_why(delivery, home, capsys):
    code, out, _ = _quarantine(capsys, home)
    assert code == 0
    assert out.startswith("Nothing is held in quarantine")

    for folder in ("organisations", "proms"):
        source = delivery / "landing" / folder
        target = home.landing / folder
        target.mkdir(parents=True, exist_ok=True)
        for path in source.iterdir():
            (target / path.name).write_bytes(path.read_bytes())
    (home.landing / "proms" / HIP).write_bytes((delivery / "broken" / HIP).read_bytes())
    ingest_feed(home, "proms")
    validate_feed(home, "proms")

    code, out, _ = _quarantine(capsys, home, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "table_name": "proms_records",
            "source_file": HIP,
            "rule": "provider_code_shape",
            "rows_held": len(BROKEN_LINES),
            "reason": "Provider Code is not an ODS code (3 to 5 capital letters or digits)",
            "action": "record quarantined",
        }
    ]
    code, out, _ = _quarantine(capsys, home, "--feed", "proms", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["rows_held"] for r in rows] == [str(len(BROKEN_LINES))]
    code, out, _ = _quarantine(capsys, home)
    assert code == 0 and "provider_code_shape" in out and f"({1} row)" in out
    code, out, _ = _quarantine(capsys, home, "--table", "proms_participation")
    assert code == 0 and out.startswith("Nothing is held in quarantine for proms_participation")
    code, _, err = _quarantine(capsys, home, "--feed", "nonsense")
    assert code == 2 and "Unknown feed 'nonsense'" in err and "proms" in err
