"""Disclosure at one gate: the dbt test that checks every published table against the
suppression log passes on the synthetic region and fails on a planted leak."""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import pytest

from dagster_project.home import resolve_home
from dagster_project.transform.project import DBT_DIR, dbt_executable, dbt_vars

pytestmark = pytest.mark.slow
TEST = "published_cells_respect_suppression"


def _dbt_test(home, scratch) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dbt_executable(), "test", "--select", TEST, "--project-dir", str(DBT_DIR),
         "--profiles-dir", str(DBT_DIR), "--target-path", str(scratch / "target"),
         "--log-path", str(scratch / "logs"), *dbt_vars(home)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def copied_home(synthetic_run, tmp_path):
    """A copy of the synthetic region's home whose warehouse the test may tamper with."""
    home = resolve_home(tmp_path / "home").ensure()
    shutil.copytree(synthetic_run.home.raw, home.raw, dirs_exist_ok=True)
    shutil.copytree(synthetic_run.home.quarantine, home.quarantine, dirs_exist_ok=True)
    shutil.copy(synthetic_run.home.warehouse_db, home.warehouse_db)
    return home


def test_the_synthetic_region_publishes_nothing_the_log_withholds(copied_home, tmp_path):
    with duckdb.connect(str(copied_home.warehouse_db), read_only=True) as con:
        logged = con.execute("select count(*) from published.suppression_log").fetchone()[0]
    assert logged > 0, "the region has suppressed cells for the test to check"
    done = _dbt_test(copied_home, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize(
    "leak",
    [
        # An FFT count the log withholds, published after all.
        "update published.fft_responses set very_good = 3 where suppression is not null",
        # A suppressed PROMs group's indicator counts, as a seed flag alone would let through.
        "update published.indicator_values set denominator = 3 "
        "where (financial_year, provider_code) in (select financial_year, provider_code "
        "from published.suppression_log where table_name = 'proms_provider_outcomes') "
        "and indicator_code like 'proms_%'",
    ],
    ids=["fft_count", "proms_indicator"],
)
def test_a_leaked_cell_fails_the_test(copied_home, tmp_path, leak):
    with duckdb.connect(str(copied_home.warehouse_db)) as con:
        changed = con.execute(leak).fetchone()[0]
    assert changed > 0
    done = _dbt_test(copied_home, tmp_path)
    assert done.returncode != 0
    assert TEST in done.stdout and "FAIL" in done.stdout
