"""What landing refuses and what it lists as ignored: zip bombs, zips past their size, encrypted
and damaged members, symbolic links, files outside every feed's folder; and error text from a
file printed as it is.

Real files in a temporary home, through the functions a run uses.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from rich.console import Console

from dagster_project import cli
from dagster_project.home import Home, resolve_home
from dagster_project.ingest.assets import build_ingest_asset
from dagster_project.ingest.landing import LandingFileError, ZipLimits, csvs_in
from dagster_project.ingest.run import ignored_file, ingest_feed, read_ignored
from dagster_project.resources import HomeResource
from dagster_project.runner import RunOutcome, _assets_of, _describe
from dagster_project.sensors import scan
from dagster_project.validation.run import ensure_empty_tables

VTE = "Org code,Quarter,Admitted,Risk assessed\n"


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _varied_rows(count: int) -> bytes:
    """VTE rows that pack only a few times over, as publishers' files do."""
    return (
        VTE + "".join(f"R{i % 997:03d},2024-25 Q1,{i * 7919 % 100003},{i}\n" for i in range(count))
    ).encode()


def _sha(path: Path) -> str:
    (csv,) = csvs_in(path, ZipLimits())
    return csv.sha256


def _refusal(path: Path, limits: ZipLimits | None = None) -> LandingFileError:
    with pytest.raises(LandingFileError) as caught:
        list(csvs_in(path, limits or ZipLimits()))
    return caught.value


def test_a_zip_bomb_is_refused_by_the_default_ratio_before_it_is_unpacked(tmp_path):
    # 4 MB of one repeated row packs about a thousand times over.
    bomb = _zip(
        tmp_path / "vte.zip", {"vte.csv": (VTE + "RA1,2024-25 Q1,10,9\n" * 200_000).encode()}
    )
    error = _refusal(bomb)
    assert error.source == "vte.zip"
    assert error.problem.startswith("member vte.csv would unpack")
    assert "times its packed size" in error.problem and "$QA_ZIP_MAX_RATIO" in error.problem
    assert "zip bomb" in error.problem


def test_a_zip_past_the_size_limit_is_refused_and_the_limit_comes_from_the_home(home, monkeypatch):
    _zip(home.landing / "vte" / "big.zip", {"big.csv": _varied_rows(80_000)})  # about 2 MB
    monkeypatch.setenv("QA_ZIP_MAX_MB", "1")
    configured = resolve_home(home.root)
    assert (configured.zip_max_mb, configured.zip_max_ratio) == (1, 100)
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(configured, "vte")
    assert caught.value.source == "big.zip"
    assert "more than the 1 MB a zip may ($QA_ZIP_MAX_MB)" in caught.value.problem
    monkeypatch.setenv("QA_ZIP_MAX_MB", "8")
    assert ingest_feed(resolve_home(home.root), "vte").rows_by_table == {"vte_assessments": 80_000}


def test_an_encrypted_member_is_refused_naming_the_zip_and_the_member(tmp_path):
    packed = tmp_path / "pack.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("open.csv", VTE + "RA1,2024-25 Q1,10,9\n")
        archive.writestr("secret.csv", VTE + "RA2,2024-25 Q1,10,9\n")
        archive.getinfo("secret.csv").flag_bits |= 0x1  # as `zip -e` marks a member
    error = _refusal(packed)
    assert str(error).startswith("pack.zip: member secret.csv is encrypted (password-protected)")


def test_a_damaged_member_is_refused_naming_the_zip_and_the_member(tmp_path):
    packed = _zip(tmp_path / "pack.zip", {"vte.csv": _varied_rows(2_000)})
    with zipfile.ZipFile(packed) as archive:
        info = archive.getinfo("vte.csv")
    data = bytearray(packed.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = b"\xff" * 64
    packed.write_bytes(bytes(data))
    error = _refusal(packed)
    assert str(error).startswith("pack.zip: member vte.csv is damaged and cannot be unpacked")


def test_symbolic_links_in_landing_are_refused_and_never_followed(home, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "vte.csv").write_text(VTE + "RA1,2024-25 Q1,10,9\n")
    folder = home.landing / "vte"
    folder.mkdir(parents=True)
    (folder / "vte.csv").symlink_to(elsewhere / "vte.csv")
    with pytest.raises(LandingFileError) as caught:
        ingest_feed(home, "vte")
    assert caught.value.source == "vte.csv"
    assert "symbolic link" in caught.value.problem and "never followed" in caught.value.problem
    # The sensor counts the link as a delivery (so a run says the above) without reading it.
    ((delivery, relative, _),) = list(scan(home, {}))
    assert (delivery.source, relative) == ("vte.csv", "vte/vte.csv")
    assert delivery.sha256 != _sha(elsewhere / "vte.csv")
    # A feed's folder that is itself a link is refused the same way.
    (folder / "vte.csv").unlink()
    folder.rmdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LandingFileError, match="symbolic link"):
        ingest_feed(home, "vte")


def test_files_outside_every_feeds_folder_are_listed_as_ignored(home, tmp_path):
    landing = home.landing
    (landing / "vte").mkdir(parents=True)
    (landing / "vte" / "vte.csv").write_text(VTE + "RA1,2024-25 Q1,10,9\n")
    (landing / "stray.csv").write_text(VTE + "RA1,2024-25 Q1,10,9\n")
    (landing / "prom").mkdir()
    (landing / "prom" / "Hip Replacement Provider 2425.csv").write_text("Provider Code\n")
    (landing / "link.csv").symlink_to(tmp_path / "nowhere.csv")
    (landing / "narratives").mkdir()
    (landing / "narratives" / "RA1-2024-25.md").write_text("# Statement\n")
    (landing / ".DS_Store").write_bytes(b"\0")
    ingest_feed(home, "vte")
    assert read_ignored(home) == [
        (
            "link.csv",
            "at the top of landing, not in a feed's folder; a symbolic link, not followed",
        ),
        (
            "prom/Hip Replacement Provider 2425.csv",
            "in prom/, which is not a feed's folder (did you mean proms/?)",
        ),
        ("stray.csv", "at the top of landing, not in a feed's folder"),
    ]
    # landing_history reads every file validation and ingest leave in raw/_landing.
    ensure_empty_tables(home, [])
    rows = duckdb.sql(
        "select feed, source_file, status, arrival_order, rows_in, sha256 "
        f"from read_parquet('{ignored_file(home).parent}/*.parquet', union_by_name = true) "
        "order by source_file"
    ).fetchall()
    stray = rows[-1]
    assert [r[:5] for r in rows] == [
        ("(none)", "link.csv", "ignored", None, 0),
        ("(none)", "prom/Hip Replacement Provider 2425.csv", "ignored", None, 0),
        ("(none)", "stray.csv", "ignored", None, 0),
    ]
    assert stray[5] == _sha(landing / "stray.csv")
    # Once the files are put where they belong, they are no longer listed.
    for name in ("stray.csv", "link.csv"):
        (landing / name).unlink()
    (landing / "prom" / "Hip Replacement Provider 2425.csv").unlink()
    ingest_feed(home, "vte")
    assert read_ignored(home) == []


def test_an_error_quoting_a_header_prints_it_as_it_is(home):
    """A header with rich's markup (`[/]`, `[bold]`) and an emoji code (`:x:`) is quoted in
    the failure exactly, with the asset and the file, as `qa run` prints it."""
    folder = home.landing / "vte"
    folder.mkdir(parents=True)
    (folder / "mystery.csv").write_text("[/]Colour,:x: Shape,[bold]Size\nred,square,big\n")
    result = dg.materialize(
        [build_ingest_asset("vte")],
        resources={"home": HomeResource(root=str(home.root))},
        raise_on_error=False,
    )
    (event,) = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    failure = f"{_assets_of(result.job_def, event.step_key)}: {_describe(event)}"
    buffer = io.StringIO()
    console = Console(file=buffer, width=400, highlight=False)
    assert cli._report(console, RunOutcome(False, "run-1", failures=[failure]), home) == 1
    printed = buffer.getvalue()
    assert (
        "Failed: ingest/vte: Cannot read landing file mystery.csv: header (line 1) not "
        "recognised as any vte file kind (first columns: [/]Colour, :x: Shape, [bold]Size)"
    ) in printed
    assert "Error occurred while executing" not in printed


@pytest.mark.slow
def test_a_run_stops_only_what_needs_a_refused_feed_and_publishes_what_it_ignored(small_region):
    """On the shared small region: a SHMI file nobody can read stops SHMI's validation and
    what needs every feed, not PROMs'; once it is gone, the run publishes, listing the files
    no feed reads in its summary and in landing_history."""
    from dagster_project.ingest.run import note_ignored
    from dagster_project.runner import run_pipeline

    home = small_region
    landing = home.landing
    placed = [
        landing / "stray.csv",
        landing / "prom" / "Hip Replacement Provider 2425.csv",
        landing / "shmi" / "mystery.csv",
    ]
    for path in placed:
        path.parent.mkdir(exist_ok=True)
        path.write_text("[/]Colour,:x: Shape\nred,square\n")
    try:
        failed = run_pipeline(home, job_name="build_publication")
        assert not failed.success
        (failure,) = failed.failures
        assert failure.startswith("ingest/shmi: Cannot read landing file mystery.csv: header")
        assert "validate_shmi" in failed.skipped and "warehouse_models" in failed.skipped
        assert "validate_proms" not in failed.skipped  # PROMs does not need SHMI
        buffer = io.StringIO()
        cli._report(Console(file=buffer, width=400, highlight=False), failed, home)
        assert "(first columns: [/]Colour, :x: Shape)" in buffer.getvalue()

        placed.pop().unlink()
        published = run_pipeline(home, job_name="build_publication")
        assert published.success, published.failures
        assert published.ignored == [
            "prom/Hip Replacement Provider 2425.csv (in prom/, which is not a feed's folder "
            "(did you mean proms/?))",
            "stray.csv (at the top of landing, not in a feed's folder)",
        ]
        with duckdb.connect(str(home.published_db), read_only=True) as con:
            rows = con.execute(
                "select feed, source_file, status, note from landing_history "
                "where status = 'ignored' order by source_file"
            ).fetchall()
        assert [r[:3] for r in rows] == [
            ("(none)", "prom/Hip Replacement Provider 2425.csv", "ignored"),
            ("(none)", "stray.csv", "ignored"),
        ]
    finally:
        for path in placed:
            path.unlink(missing_ok=True)
        (landing / "prom").rmdir()
        note_ignored(home)  # the shared region's list is empty again
