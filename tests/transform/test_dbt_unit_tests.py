"""dbt's own unit tests: the SQL's formulas on hand-worked inputs, run by dbt itself.

They need the models' parents to exist, not their data: a home with every raw table empty
and `dbt build --empty` gives that in seconds, so these run in `make test-fast` too.
"""

from __future__ import annotations

import json
import subprocess

from dagster_project.feeds.catalogue import TABLES
from dagster_project.home import resolve_home
from dagster_project.transform.project import DBT_DIR, dbt_executable, dbt_vars
from dagster_project.validation.run import ensure_empty_tables


def _dbt(home, target, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
         "--target-path", str(target), "--log-path", str(target), *dbt_vars(home)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_dbt_unit_tests_pass(tmp_path):
    home = resolve_home(tmp_path / "home").ensure()
    ensure_empty_tables(home, list(TABLES))
    target = tmp_path / "target"
    built = _dbt(home, target, "build", "--empty", "--exclude-resource-type", "test",
                 "--exclude-resource-type", "unit_test")  # fmt: skip
    assert built.returncode == 0, built.stdout[-4000:]
    completed = _dbt(home, target, "test", "--select", "test_type:unit")
    assert completed.returncode == 0, completed.stdout[-4000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 14
    assert all(r["status"] == "pass" for r in unit), [(r["unique_id"], r["status"]) for r in unit]
