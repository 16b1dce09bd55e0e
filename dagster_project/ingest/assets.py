"""Ingest assets: one per feed, landing files to parsed Parquet."""

from datetime import timedelta

import dagster as dg

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.ingest.landing import LandingFileError
from dagster_project.ingest.run import IngestReport, ingest_feed
from dagster_project.previews import markdown_table
from dagster_project.resources import HomeResource


def _metadata(report: IngestReport) -> dict[str, dg.MetadataValue]:
    table = markdown_table(
        ["file", "kind", "table", "rows", "sha256", "note"],
        [
            (f.source, f.kind, f.table or "skipped", f.rows, f.sha256[:12], _note(f))
            for f in report.files
        ],
    )
    return {
        "files": dg.MetadataValue.int(len(report.files)),
        "rows_superseded": dg.MetadataValue.int(sum(f.rows_superseded for f in report.files)),
        "rows_in": dg.MetadataValue.int(sum(report.rows_by_table.values())),
        **{f"rows_{t}": dg.MetadataValue.int(n) for t, n in sorted(report.rows_by_table.items())},
        "source_files": dg.MetadataValue.md(table if report.files else "No files in landing."),
    }


# Feeds published every month (UKHSA's counts, NHS England's FFT: `monthly` in their
# declaration) are out by mid-month, so by 09:00 on the 20th their ingest should have run
# since the 10th (the monthly refresh runs on the 15th). A feed that fails this in the UI
# has missed a month.
MONTHLY_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron="0 9 20 * *", lower_bound_delta=timedelta(days=10), timezone="Europe/London"
)


def _note(entry) -> str:
    if not entry.rows_superseded:
        return entry.note
    replaced = f"{entry.rows_superseded} rows superseded by {', '.join(entry.superseded_by)}"
    return f"{entry.note}; {replaced}" if entry.note else replaced


def build_ingest_asset(feed_name: str) -> dg.AssetsDefinition:
    feed = FEEDS[feed_name]

    @dg.asset(
        key=["ingest", feed_name],
        group_name="ingest",
        description=f"{feed.description} Landing files parsed as text, stamped with "
        "file, checksum and line number.",
        kinds={"python", "parquet"},
        freshness_policy=MONTHLY_FRESHNESS if feed.monthly else None,
    )
    def _ingest(context: dg.AssetExecutionContext, home: HomeResource) -> dg.MaterializeResult:
        try:
            report = ingest_feed(home.home(), feed_name)
        except LandingFileError as exc:
            raise dg.Failure(
                description=f"Cannot read landing file {exc.source}: {exc.problem}",
                metadata={"file": exc.source, "problem": exc.problem},
                allow_retries=False,
            ) from exc
        for entry in report.files:
            if entry.table is None:
                context.log.info(f"{entry.source}: {entry.note}")
        return dg.MaterializeResult(metadata=_metadata(report))

    _ingest.__name__ = f"ingest_{feed_name}"
    return _ingest


INGEST_ASSETS = [build_ingest_asset(name) for name in FEEDS]
