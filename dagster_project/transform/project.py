"""The dbt project, its manifest, and how every dbt command is told which home to use.

The manifest is built, never committed, by dagster-dbt's own preparer (`dbt parse`):
under `dg dev` whenever the definitions load (`prepare_if_dev`), and before every
command-line run (`prepare`), so a fresh clone and an edited model both just work. dbt's
partial parsing keeps a parse with nothing changed to a couple of seconds.

The home folder reaches dbt as the var `qa_home` (profiles.yml and the sources read it),
passed on each command from the `home` resource: nothing is read from the environment, so
a run launched from the UI with another home builds that home's warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject, DbtProjectPreparer
from dagster_dbt.dbt_project import run_with_concurrent_update_guard

from dagster_project.home import Home

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = REPO_ROOT / "dbt"
SEEDS_DIR = REPO_ROOT / "seeds"
# Parsing needs a value for every var, but reads no data: any path will do.
_PARSE_HOME = "qa_home"
# Where `dbt parse` writes, inside the project's target folder.
_PARSE_FOLDER = "parse"
# What runs read from the target folder: the manifest, and the partial-parse state every
# dbt command dagster-dbt starts copies to begin from.
_PARSE_OUTPUTS = ("partial_parse.msgpack", "manifest.json")


def dbt_vars(home: Home | str | Path) -> list[str]:
    """The arguments that point a dbt command at `home`."""
    root = home.root if isinstance(home, Home) else Path(home)
    return ["--vars", json.dumps({"qa_home": str(root)})]


DBT_PROJECT = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def dbt_executable() -> str:
    """The dbt installed beside this Python, so an unactivated virtualenv still finds it."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else shutil.which("dbt") or "dbt"


class _Preparer(DbtProjectPreparer):
    """dagster-dbt's preparation (`dbt parse`, one process at a time), run with the dbt
    beside this Python and with the var parsing needs: the default preparer looks for dbt on
    PATH, which an unactivated virtualenv does not set.

    dbt writes its manifest in place, and readers of the manifest take no lock, so a run
    loading the definitions while another run parses could read half a file. dbt parses into
    a folder of its own (which keeps its partial-parse state between runs) and the finished
    manifest (and the partial-parse state dbt commands start from) replaces the one readers
    open in a single rename."""

    def prepare(self, project: DbtProject) -> None:
        def parse(project: DbtProject) -> None:
            parsed = project.manifest_path.parent / _PARSE_FOLDER
            DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
                ["parse", "--quiet", *dbt_vars(_PARSE_HOME)], target_path=parsed
            ).wait()
            for name in _PARSE_OUTPUTS:
                partial = project.manifest_path.with_name(f".{name}.partial")
                shutil.copyfile(parsed / name, partial)
                os.replace(partial, project.manifest_path.with_name(name))

        run_with_concurrent_update_guard(project.manifest_path, parse, project=project)

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)


PREPARER = _Preparer()


def prepare_dbt_project() -> Path:
    """Parse the dbt project into its manifest; return its path."""
    PREPARER.prepare(DBT_PROJECT)
    return DBT_PROJECT.manifest_path


def manifest() -> Path:
    """The manifest the definitions load: prepared under `dg dev`, and whenever it is
    missing (a fresh clone loaded by something other than `qa`, which prepares it first)."""
    PREPARER.prepare_if_dev(DBT_PROJECT)
    if not DBT_PROJECT.manifest_path.exists():
        return prepare_dbt_project()
    return DBT_PROJECT.manifest_path
