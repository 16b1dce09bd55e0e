"""Publish assets: the observatories' DuckDB file and the providers' site."""

import dagster as dg

from dagster_project.publish.quality_account import render_site
from dagster_project.publish.snapshot import publish
from dagster_project.resources import HomeResource
from dagster_project.transform.assets import published_model_keys


@dg.asset(
    key=["published", "quality_duckdb"],
    group_name="publish",
    deps=published_model_keys(),
    description="published/quality.duckdb: the disclosure-controlled tables, swapped in "
    "atomically, with the same tables as Parquet under published/parquet/<publication>/.",
    kinds={"duckdb", "parquet"},
)
def published_warehouse(home: HomeResource) -> dg.MaterializeResult:
    publication = publish(home.home())
    return dg.MaterializeResult(
        metadata={
            "publication_id": publication.publication_id,
            "path": dg.MetadataValue.path(str(publication.path)),
            "parquet": dg.MetadataValue.path(str(publication.parquet_dir)),
            **{f"rows_{t}": dg.MetadataValue.int(n) for t, n in publication.row_counts.items()},
        }
    )


@dg.asset(
    key=["site", "quality_accounts"],
    group_name="publish",
    deps=[published_warehouse],
    description="site/: a Quality Account page per provider and year, and an index by region.",
    kinds={"html"},
)
def quality_account_site(home: HomeResource) -> dg.MaterializeResult:
    h = home.home()
    pages = render_site(h.published_db, h.site)
    return dg.MaterializeResult(
        metadata={
            "pages": dg.MetadataValue.int(len(pages)),
            "index": dg.MetadataValue.path(str(h.site / "index.html")),
        }
    )
