"""Publish assets: the observatories' DuckDB file, their data dictionary and the providers' site.

Each step that opens a DuckDB file retries while another process holds its
lock (see dagster_project/retries.py); any other failure fails the step at once.
The publication and the data dictionary read every model of dbt's published schema,
so they are made assets by `publish_assets` when the definitions are built, with
those models as dependencies (reading dbt's manifest is not for import time).
"""

import warnings

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from dagster_project.partitions import FINANCIAL_YEARS, add_years
from dagster_project.previews import table_preview
from dagster_project.publish.document.narrative import NARRATIVE_FOLDER, read_narratives
from dagster_project.publish.document.pdf import print_site
from dagster_project.publish.document.published_tables import published_years
from dagster_project.publish.observatories.snapshot import publish
from dagster_project.publish.portal.data_dictionary import build_data_dictionary
from dagster_project.publish.portal.site import render_site
from dagster_project.resources import HomeResource
from dagster_project.retries import retry_when_locked

# Shown on the publication's page: the headline table and where every delivered file went.
PREVIEWED = ("core_indicators", "landing_history")


PUBLICATION = dg.AssetKey(["published", "quality_duckdb"])


def published_warehouse(
    context: dg.AssetExecutionContext, home: HomeResource
) -> dg.MaterializeResult:
    with retry_when_locked(context):
        publication = publish(home.home())
        with duckdb.connect(str(publication.path), read_only=True) as con:
            previews = {f"preview_{t}": table_preview(con, t) for t in PREVIEWED}
            years = published_years(con)
    added = add_years(context.instance, years)
    if added:
        context.log.info(f"New financial years, now partitions of the Quality Accounts: {added}")
    return dg.MaterializeResult(
        metadata={
            "publication_id": publication.publication_id,
            "financial_years": dg.MetadataValue.json(years),
            "path": dg.MetadataValue.path(str(publication.path)),
            "parquet": dg.MetadataValue.path(str(publication.parquet_dir)),
            **{f"rows_{t}": dg.MetadataValue.int(n) for t, n in publication.row_counts.items()},
            **previews,
        }
    )


def _years(context: dg.AssetExecutionContext) -> list[str] | None:
    """The run's financial years, or None (every year) for a run of the whole pipeline."""
    if context.has_partition_key or context.has_partition_key_range:
        return list(context.partition_keys)
    return None


# One run renders all the years a backfill asks for (the documents share one site index);
# Dagster 1.13 marks that policy beta, which is understood, so its warning is not shown to
# every user on every run.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


@dg.asset(
    key=["site", "quality_accounts"],
    group_name="publish",
    deps=[PUBLICATION],
    partitions_def=FINANCIAL_YEARS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="site/: each provider's Quality Account per year (HTML and CSV, with its "
    "narrative from landing/narratives/), a page per provider and per region, and the index. "
    "Partitioned by financial year: a year re-renders alone; a run of the whole pipeline "
    "renders every year.",
    kinds={"html"},
)
def quality_account_site(
    context: dg.AssetExecutionContext, home: HomeResource
) -> dg.MaterializeResult:
    h = home.home()
    years = _years(context)
    with retry_when_locked(context):
        pages = render_site(
            h.published_db,
            h.site,
            narrative_dir=h.landing / NARRATIVE_FOLDER,
            pdf=False,
            years=years,
        )
    # A provider's unusable narrative is listed in its own document; these are logged too,
    # and those no document can list (no provider to be told) only here.
    narratives = read_narratives(h.landing / NARRATIVE_FOLDER)
    problems = [m for ms in narratives.problems.values() for m in ms] + narratives.unplaced
    for message in problems:
        context.log.warning(message)
    return dg.MaterializeResult(
        metadata={
            "narrative_problems": dg.MetadataValue.json(problems),
            "pages": dg.MetadataValue.int(len(pages)),
            "financial_years": dg.MetadataValue.text(", ".join(years) if years else "every year"),
            "index": dg.MetadataValue.path(str(h.site / "index.html")),
        }
    )


@dg.asset(
    key=["site", "quality_account_pdfs"],
    group_name="publish",
    deps=[quality_account_site],
    description="The paginated PDF of every Quality Account page whose HTML changed, printed "
    "by WeasyPrint a process per core (the slow part of publishing, so a step of its own). "
    "Not partitioned: after one year's pages are rendered, only that year's PDFs have "
    "changed HTML to print.",
    kinds={"pdf"},
)
def quality_account_pdfs(home: HomeResource) -> dg.MaterializeResult:
    printed, unchanged = print_site(home.home().site)
    return dg.MaterializeResult(
        metadata={
            "printed": dg.MetadataValue.int(len(printed)),
            "unchanged": dg.MetadataValue.int(unchanged),
        }
    )


def data_dictionary(
    context: dg.AssetExecutionContext, home: HomeResource, dbt: DbtCliResource
) -> dg.MaterializeResult:
    with retry_when_locked(context):
        index = build_data_dictionary(dbt, home.home())
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(index)),
            "bytes": dg.MetadataValue.int(index.stat().st_size),
        }
    )


def publish_assets(published: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """Every publish asset; the publication and the data dictionary downstream of `published`,
    the models of dbt's published schema."""
    publication = dg.asset(
        key=PUBLICATION,
        group_name="publish",
        deps=published,
        description="published/quality.duckdb: the disclosure-controlled tables, swapped in "
        "atomically, with the same tables as Parquet under published/parquet/<publication>/.",
        kinds={"duckdb", "parquet"},
    )(published_warehouse)
    dictionary = dg.asset(
        key=["site", "data_dictionary"],
        group_name="publish",
        deps=published,
        description="site/docs/index.html: dbt's documentation of every model and column, as "
        "one static page that opens from disk (the observatories' data dictionary).",
        kinds={"dbt", "html"},
    )(data_dictionary)
    return [publication, dictionary, quality_account_site, quality_account_pdfs]
