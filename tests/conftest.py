"""Shared fixtures: the synthetic runs shared across modules, and the real NHS data when present."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The real publications: beside the checkout by default, anywhere with QA_REAL_DATA.
SHARED_DATA = Path(os.environ.get("QA_REAL_DATA") or REPO_ROOT.parent / "shared" / "data")
STRICT = os.environ.get("QA_STRICT") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip for a newcomer without the optional tool or data; fail in CI (QA_STRICT=1)."""
    if STRICT:
        pytest.fail(f"required in CI (QA_STRICT=1): {reason}")
    pytest.skip(reason)


def document_fixtures():
    """The unit tests' builders of a small publication and narrative files
    (tests/publish/test_document.py), for the tests that render from them."""
    import importlib.util

    path = REPO_ROOT / "tests" / "publish" / "test_document.py"
    spec = importlib.util.spec_from_file_location("document_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real_data(name: str) -> Path:
    """A folder of real publications, or a skip (a failure in CI) saying where it was sought."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        skip_or_fail(f"real {name} publications not found at {folder}")
    return folder


@pytest.fixture(scope="session")
def proms_data_dir() -> Path:
    return real_data("proms")


@dataclass
class SyntheticRun:
    home: object
    truth: dict
    outcome: object


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> SyntheticRun:
    """The whole pipeline through Dagster, once per session on a small synthetic region.

    PDFs are printed by their own step, left out here: the PDF tests print their own.
    """
    from dagster_project.home import resolve_home
    from dagster_project.runner import run_pipeline
    from dagster_project.synth import write_synthetic_region

    root = tmp_path_factory.mktemp("synthetic_home")
    home = resolve_home(root).ensure()
    truth_path = root / "synthetic-truth.json"
    write_synthetic_region(home.landing, truth_path, providers=24, seed=7)
    outcome = run_pipeline(home, job_name="build_without_pdfs")
    return SyntheticRun(home, json.loads(truth_path.read_text()), outcome)


@pytest.fixture(scope="module")
def published_connection(synthetic_run):
    """A read-only connection to the synthetic run's publication, as an observatory opens it."""
    import duckdb

    assert synthetic_run.outcome.success, synthetic_run.outcome.failures
    con = duckdb.connect(str(synthetic_run.home.published_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def small_region(tmp_path_factory: pytest.TempPathFactory):
    """A small region (12 providers, one year, PROMs, organisations and SHMI), run once
    without the PDFs, for the modules that break, kill, lock and re-run the pipeline.

    They share it to keep the suite quick, so each test must leave landing as it found it
    (the publication and warehouse are theirs to rebuild).
    """
    from dagster_project.home import resolve_home
    from dagster_project.runner import run_pipeline
    from dagster_project.synth import write_synthetic_region

    root = tmp_path_factory.mktemp("small_region")
    home = resolve_home(root).ensure()
    write_synthetic_region(
        home.landing, root / "truth.json", providers=12, years=["2024-25"], seed=3, feeds=[]
    )
    outcome = run_pipeline(home, job_name="build_without_pdfs")
    assert outcome.success, outcome.failures
    return home
