"""The command line as a data engineer uses it: exit codes, messages, and `dg` loading it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _qa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "qa"), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=REPO_ROOT,
    )


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_synth_is_deterministic_and_keeps_the_truth_outside_landing(tmp_path):
    for name in ("a", "b"):
        done = _qa("synth", "--out", str(tmp_path / name / "landing"), "--providers", "12",
                   "--years", "2024-25", "--seed", "5", "--quiet")  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert _tree_digest(tmp_path / "a" / "landing") == _tree_digest(tmp_path / "b" / "landing")
    assert (tmp_path / "a" / "landing-truth.json").exists()
    assert not list((tmp_path / "a" / "landing").rglob("*truth*"))
    codes = (tmp_path / "a" / "landing" / "organisations" / "etr.csv").read_text().splitlines()
    assert all(line.startswith('"Z') for line in codes)


@pytest.mark.slow
def test_run_exits_non_zero_naming_the_unreadable_file(tmp_path):
    landing = tmp_path / "drop"
    (landing / "proms").mkdir(parents=True)
    (landing / "proms" / "Hip Replacement Provider 2425.zip").write_bytes(b"PK\x03\x04 not really")
    done = _qa("run", "--home", str(tmp_path / "home"), "--landing", str(landing), "--quiet")
    assert done.returncode == 1
    assert "Hip Replacement Provider 2425.zip" in done.stderr
    assert "zip" in done.stderr
    assert not (tmp_path / "home" / "published" / "quality.duckdb").exists()


@pytest.mark.slow
def test_dg_loads_the_definitions(tmp_path):
    done = subprocess.run(
        [str(BIN / "dg"), "check", "defs"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**os.environ, "QA_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully" in done.stdout + done.stderr


@pytest.mark.slow
def test_query_reads_the_publication_and_refuses_writes(synthetic_run):
    home = str(synthetic_run.home.root)
    done = _qa("query", "select provider_code, banding from shmi order by 1", "--home", home,
               "--format", "csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "provider_code,banding" and len(lines) > 10
    before = (synthetic_run.home.published_db).read_bytes()
    refused = _qa("query", "delete from providers", "--home", home)
    assert refused.returncode == 2
    assert "refused" in refused.stderr
    assert synthetic_run.home.published_db.read_bytes() == before
    regional = _qa("query", "select * from providers", "--home", home, "--region", "Y56",
                   "--format", "json")  # fmt: skip
    assert regional.returncode == 0, regional.stderr
    assert {row["region_code"] for row in json.loads(regional.stdout)} == {"Y56"}


def test_run_refuses_a_year_that_is_not_a_financial_year(tmp_path):
    done = _qa("run", "--home", str(tmp_path / "home"), "--year", "2024/25")
    assert done.returncode == 2
    assert "'2024/25' is not a financial year like 2024-25" in done.stderr
    assert not (tmp_path / "home" / "published").exists()


def test_version_and_examples_in_the_help():
    from dagster_project import __version__
    from dagster_project.cli import build_parser

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    help_text = build_parser().format_help()
    assert "examples:" in help_text and "qa demo" in help_text and "qa query" in help_text
    assert _qa("--version").stdout.strip() == f"qa {__version__}"
