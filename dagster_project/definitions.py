"""Everything Dagster loads: assets by stage, their checks, the jobs, schedules and resources.

Importing this module creates nothing and changes no environment variable: Dagster calls
`defs()` when it loads the code location. The home folder comes from $QA_HOME (default
./qa_home) through the `home` resource, which every asset reads, dbt included; a run
launched with another `home` config sends every stage there.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.ingest.assets import INGEST_ASSETS
from dagster_project.ingest.checks import REISSUE_CHECKS
from dagster_project.ingest.reconciliation import NATIONAL_CHECKS
from dagster_project.partitions import FINANCIAL_YEARS
from dagster_project.publish.assets import publish_assets
from dagster_project.resources import HomeResource
from dagster_project.retries import LockRetryingDbtCliResource
from dagster_project.schedules import build_schedules
from dagster_project.sensors import build_landing_sensor
from dagster_project.transform.assets import build_warehouse_models, published_model_keys
from dagster_project.transform.project import DBT_PROJECT, dbt_executable
from dagster_project.validation.assets import VALIDATION_ASSETS

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

JOBS = [
    build_everything,
    build_without_pdfs,
    build_publication,
    build_warehouse,
    quality_accounts,
    republish,
]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *INGEST_ASSETS,
            *VALIDATION_ASSETS,
            build_warehouse_models(),
            *publish_assets(published_model_keys()),
        ],
        # A re-issue that leaves out organisations its predecessor had (ingest/checks.py);
        # a national figure its organisations do not add up to (ingest/reconciliation.py).
        asset_checks=[*REISSUE_CHECKS, *NATIONAL_CHECKS],
        jobs=JOBS,
        schedules=build_schedules(build_everything),
        sensors=[build_landing_sensor(build_everything)],
        resources={
            "home": HomeResource.from_environment(),
            # A warehouse locked by another process is retried; nothing else is (retries.py).
            "dbt": LockRetryingDbtCliResource(
                project_dir=DBT_PROJECT, dbt_executable=dbt_executable()
            ),
        },
    )
