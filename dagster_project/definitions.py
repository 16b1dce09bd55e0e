"""Everything Dagster loads: assets by stage, their checks, the job and the resources.

The home folder is read from QA_HOME (default ./qa_home) when the definitions
load and exported again, so dbt's subprocesses and the UI see the same one.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.home import export_home, resolve_home

HOME = resolve_home().ensure()
export_home(HOME)

from dagster_project.ingest.assets import INGEST_ASSETS  # noqa: E402
from dagster_project.publish.assets import published_warehouse, quality_account_site  # noqa: E402
from dagster_project.resources import HomeResource  # noqa: E402
from dagster_project.transform.assets import warehouse_models  # noqa: E402
from dagster_project.transform.project import DBT_PROJECT, dbt_executable  # noqa: E402
from dagster_project.validation.assets import VALIDATION_ASSETS  # noqa: E402

build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all(),
    description="Every stage once: ingest, validation, dbt build, publication and site.",
    executor_def=dg.in_process_executor,
)

build_warehouse = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.groups("ingest", "validation", "transform"),
    description="Ingest, validation and dbt build, without publishing: for checking figures.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[
        *INGEST_ASSETS,
        *VALIDATION_ASSETS,
        warehouse_models,
        published_warehouse,
        quality_account_site,
    ],
    jobs=[build_everything, build_warehouse],
    resources={
        "home": HomeResource(
            root=str(HOME.root), landing=str(HOME.landing_dir) if HOME.landing_dir else None
        ),
        "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()),
    },
)
