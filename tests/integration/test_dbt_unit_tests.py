"""dbt's own unit tests: the SQL's formulas on hand-worked inputs, run by dbt itself."""

from __future__ import annotations

import json
import subprocess

import pytest

from dagster_project.transform.project import DBT_DIR, dbt_executable, dbt_vars

pytestmark = pytest.mark.slow


def test_dbt_unit_tests_pass(synthetic_run, tmp_path):
    completed = subprocess.run(
        [
            dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            *dbt_vars(synthetic_run.home),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 3
    assert all(r["status"] == "pass" for r in unit), [(r["unique_id"], r["status"]) for r in unit]
