"""The dbt project and its manifest.

The manifest is built, never committed: it is parsed again whenever a model,
macro, test, seed or project file is newer than it, so a fresh clone and an
edited model both just work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.home import resolve_home

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = REPO_ROOT / "dbt"
SEEDS_DIR = REPO_ROOT / "seeds"

DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this Python, so an unactivated virtualenv still finds it."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


def _newest_source() -> float:
    files = [DBT_DIR / "dbt_project.yml", DBT_DIR / "profiles.yml"]
    for folder in (DBT_DIR / "models", DBT_DIR / "macros", DBT_DIR / "tests", SEEDS_DIR):
        files.extend(p for p in folder.rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in files if p.exists())


def ensure_manifest() -> Path:
    """Parse the dbt project if its manifest is missing or older than its sources."""
    manifest = DBT_PROJECT.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source():
        return manifest
    env = {**os.environ}
    env.setdefault("QA_HOME", str(resolve_home().root))
    completed = subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not manifest.exists():
        raise RuntimeError(f"dbt parse failed:\n{completed.stdout}\n{completed.stderr}")
    return manifest
