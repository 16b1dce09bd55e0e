"""What a data engineer sees when something is wrong: clear failures, and nothing half-published."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_project.home import Home
from dagster_project.runner import run_pipeline

pytestmark = pytest.mark.slow


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published_home(small_region: Home) -> Home:
    return small_region


@pytest.fixture
def bad_file(published_home: Home):
    """Put one file into landing for the test, and take it away afterwards."""
    placed: list[Path] = []

    def place(name: str, data: bytes) -> Path:
        path = published_home.landing / "proms" / name
        path.write_bytes(data)
        placed.append(path)
        return path

    yield place
    for path in placed:
        path.unlink(missing_ok=True)


def _assert_fails_naming(home: Home, name: str, words: str) -> None:
    before = _digest(home.published_db)
    outcome = run_pipeline(home, job_name="build_without_pdfs")
    assert not outcome.success
    message = " ".join(outcome.failures)
    assert name in message, message
    assert words in message, message
    assert _digest(home.published_db) == before, "the previous publication must be untouched"


def test_unknown_header_fails_naming_the_file(published_home, bad_file):
    bad_file("Mystery Extract 2425.csv", b"Colour,Shape\nred,square\n")
    _assert_fails_naming(published_home, "Mystery Extract 2425.csv", "not recognised")


def test_truncated_zip_fails_naming_the_file(published_home, bad_file, tmp_path):
    source = next((published_home.landing / "proms").glob("Hip*.csv"))
    packed = tmp_path / "pack.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(source, "Hip Replacement Provider 2324.csv")
    data = packed.read_bytes()
    bad_file("Hip Replacement Provider 2324.csv.zip", data[: len(data) // 2])
    _assert_fails_naming(published_home, "Hip Replacement Provider 2324.csv.zip", "zip")


def test_file_that_is_not_a_csv_fails_naming_the_file(published_home, bad_file):
    bad_file("Knee Replacement Provider 2324.csv", bytes(range(256)) * 40)
    _assert_fails_naming(published_home, "Knee Replacement Provider 2324.csv", "not a text file")


def test_too_many_bad_records_block_everything_downstream(published_home, bad_file):
    source = next((published_home.landing / "proms").glob("Hip*.csv"))
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame["Year"] = "2023/24"
    broken = frame.index[: len(frame) // 5]
    frame.loc[broken, "Provider Code"] = "not a code"
    path = bad_file("Hip Replacement Provider 2324.csv", frame.to_csv(index=False).encode())
    before = _digest(published_home.published_db)
    outcome = run_pipeline(published_home, job_name="build_without_pdfs")
    assert not outcome.success
    assert any("quarantine_share_within_limit" in c for c in outcome.failed_checks), outcome
    assert any(path.name in c and "records quarantined" in c for c in outcome.failed_checks)
    assert "warehouse_models" in " ".join(outcome.skipped + outcome.failures)
    assert _digest(published_home.published_db) == before
    held = pd.concat(
        pd.read_parquet(p)
        for p in (published_home.quarantine / "proms_records").glob("*.parquet")
        if p.name != "_empty.parquet"
    )
    mine = held[held.source_file == path.name]
    # "not a code" is the wrong shape, and (the home holding a register) not a code it lists
    # either: each broken row is held once per rule it breaks, and only those rows are held.
    assert set(mine.rule) <= {"provider_code_shape", "organisation_in_register"}
    shape = mine[mine.rule == "provider_code_shape"]
    assert shape.row_number.min() == 2 and len(shape) == len(broken)
    assert mine.row_number.nunique() == len(broken)


def test_publication_recovers_once_the_bad_file_is_gone(published_home):
    """The bad files above have been taken away: the next run succeeds, and a run never
    moves, renames or rewrites what was delivered."""
    landing = published_home.landing
    before = {p: _digest(p) for p in landing.rglob("*") if p.is_file()}
    outcome = run_pipeline(published_home, job_name="build_publication")
    assert outcome.success, outcome.failures
    assert before and {p: _digest(p) for p in landing.rglob("*") if p.is_file()} == before


def test_definitions_load_with_the_architecture_groups():
    from dagster_project.definitions import defs as load

    defs = load()
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == {"ingest", "validation", "transform", "publish"}
    job = defs.resolve_job_def("build_everything")
    assert job.executor_def is dg.in_process_executor
    checks = defs.resolve_asset_graph().asset_check_keys
    names = {c.name for c in checks}
    assert {"rows_pass_suite", "quarantine_share_within_limit"} <= names
    assert any(name.startswith("not_null") or name.startswith("unique") for name in names), (
        "dbt tests should load as asset checks"
    )


def test_dagster_records_the_runs_for_the_ui(published_home):
    with dg.DagsterInstance.from_config(str(published_home.dagster)) as instance:
        runs = instance.get_runs()
        assert runs, "runs started from the command line must show in `make dev`"
        key = dg.AssetKey(["raw", "proms_records"])
        event = instance.get_latest_materialization_event(key)
        assert event is not None
        metadata = event.asset_materialization.metadata
        assert metadata["rows_in"].value > 0
        assert metadata["rows_superseded"].value == 0
        assert "| provider_code |" in metadata["preview"].value  # a glance at the rows
        published = instance.get_latest_materialization_event(
            dg.AssetKey(["published", "quality_duckdb"])
        ).asset_materialization.metadata
        assert published["rows_landing_history"].value > 0
        assert "| indicator_code |" in published["preview_core_indicators"].value
