"""Everything Dagster loads: assets by stage, their checks, the jobs, schedules and resources.

The home folder is read from QA_HOME (default ./qa_home) when the definitions
load and exported again, so dbt's subprocesses and the UI see the same one.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.home import export_home, resolve_home

HOME = resolve_home().ensure()
export_home(HOME)

from dagster_project.ingest.assets import INGEST_ASSETS  # noqa: E402
from dagster_project.partitions import FINANCIAL_YEARS  # noqa: E402
from dagster_project.publish.assets import (  # noqa: E402
    data_dictionary,
    published_warehouse,
    quality_account_pdfs,
    quality_account_site,
)
from dagster_project.resources import HomeResource  # noqa: E402
from dagster_project.retries import LockRetryingDbtCliResource  # noqa: E402
from dagster_project.schedules import build_schedules  # noqa: E402
from dagster_project.sensors import build_landing_sensor  # noqa: E402
from dagster_project.transform.assets import warehouse_models  # noqa: E402
from dagster_project.transform.project import DBT_PROJECT, dbt_executable  # noqa: E402
from dagster_project.validation.assets import VALIDATION_ASSETS  # noqa: E402

build_everything = dg.define_asset_job(
    "build_everything",
    selection=dg.AssetSelection.all(),
    description="Every stage once: ingest, validation, dbt build, publication, data "
    "dictionary and site.",
    executor_def=dg.in_process_executor,
)

build_without_pdfs = dg.define_asset_job(
    "build_without_pdfs",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(["site", "quality_account_pdfs"]),
    description="Every stage but the printing of PDFs: the quick way to check figures and pages.",
    executor_def=dg.in_process_executor,
)

build_publication = dg.define_asset_job(
    "build_publication",
    selection=dg.AssetSelection.groups("ingest", "validation", "transform")
    | dg.AssetSelection.assets(["published", "quality_duckdb"]),
    description="Up to the observatories' publication, without the site: for a warehouse-only "
    "refresh.",
    executor_def=dg.in_process_executor,
)

quality_accounts = dg.define_asset_job(
    "quality_accounts",
    selection=dg.AssetSelection.assets(
        ["site", "quality_accounts"], ["site", "quality_account_pdfs"]
    ),
    partitions_def=FINANCIAL_YEARS,
    description="The Quality Accounts from the current publication: the pages of one financial "
    "year (a partition, or a backfill of several as one run) or of every year, then the PDFs "
    "of every page whose HTML changed.",
    executor_def=dg.in_process_executor,
)

republish = dg.define_asset_job(
    "republish",
    selection=dg.AssetSelection.assets(["published", "quality_duckdb"]),
    description="A new publication from the warehouse as it stands, without ingest or dbt: for "
    "when only the publication step failed (a full disk, a killed process).",
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
        data_dictionary,
        quality_account_site,
        quality_account_pdfs,
    ],
    jobs=[
        build_everything,
        build_without_pdfs,
        build_publication,
        build_warehouse,
        quality_accounts,
        republish,
    ],
    schedules=build_schedules(build_everything),
    sensors=[build_landing_sensor(build_everything, HOME)],
    resources={
        "home": HomeResource(
            root=str(HOME.root), landing=str(HOME.landing_dir) if HOME.landing_dir else None
        ),
        # A warehouse locked by another process is retried; nothing else is (retries.py).
        "dbt": LockRetryingDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()),
    },
)
