"""Validation assets: a feed's parsed files through its suites into raw/ and quarantine/.

Each raw table gets two checks. Rows set aside warn (the data is still usable
and the quarantine says what was wrong); too large a share of records
quarantined is an error that blocks everything downstream, because figures
built from what is left would mislead.
"""

import dagster as dg

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.home import Home
from dagster_project.previews import parquet_preview
from dagster_project.resources import HomeResource
from dagster_project.validation.register import REGISTER_TABLE
from dagster_project.validation.run import FeedValidation, validate_feed


def _check_specs(table: str) -> list[dg.AssetCheckSpec]:
    key = dg.AssetKey(["raw", table])
    return [
        dg.AssetCheckSpec(
            "rows_pass_suite",
            asset=key,
            description="Every row and measure passed the feed's Great Expectations suite.",
        ),
        dg.AssetCheckSpec(
            "quarantine_share_within_limit",
            asset=key,
            blocking=True,
            description="No file has more of its records quarantined than the suite allows "
            "(meta.max_quarantine_share).",
        ),
    ]


def _results(report: FeedValidation, table: str, home: Home):
    totals = report.totals(table)
    files = [f for f in report.files if f.table == table]
    by_rule: dict[str, int] = {}
    for f in files:
        for rule, n in f.by_rule.items():
            by_rule[rule] = by_rule.get(rule, 0) + n
    key = dg.AssetKey(["raw", table])
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="rows_pass_suite",
        passed=totals["quarantine_entries"] == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "quarantine_entries": totals["quarantine_entries"],
            "records_quarantined": totals["records_quarantined"],
            "by_rule": dg.MetadataValue.json(dict(sorted(by_rule.items()))),
        },
        description=None
        if not by_rule
        else "Quarantined by rule: " + ", ".join(f"{r} ({n})" for r, n in sorted(by_rule.items())),
    )
    blocking = [f for f in files if f.blocking]
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="quarantine_share_within_limit",
        passed=not blocking,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "worst_share": max((f.quarantined_share for f in files), default=0.0),
        },
        description=None
        if not blocking
        else "; ".join(
            f"{f.source}: {f.records_quarantined} of {f.rows_in} records quarantined "
            f"({f.quarantined_share:.1%}, limit {f.max_quarantine_share:.0%})"
            for f in blocking
        ),
    )
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            "rows_in": totals["rows_in"],
            "rows_valid": totals["rows_valid"],
            "records_quarantined": totals["records_quarantined"],
            "quarantine_entries": totals["quarantine_entries"],
            "rows_superseded": totals["rows_superseded"],
            "organisation_codes_judged_against": (
                "(this is the register)"
                if report.feed == REGISTER_TABLE
                else "no ODS register delivered: codes checked for shape only"
                if report.register_codes is None
                else f"ODS register of {report.register_codes} codes"
            ),
            "preview": parquet_preview(
                sorted(
                    p for p in (home.raw / table).glob("*.parquet") if p.name != "_empty.parquet"
                ),
                drop=("sha256", "load_id", "file_kind"),
            ),
            "source_files": dg.MetadataValue.json(
                [{"file": f.source, "sha256": f.sha256, "rows": f.rows_in} for f in files]
            ),
        },
    )


def build_validation_asset(feed_name: str) -> dg.AssetsDefinition:
    feed = FEEDS[feed_name]
    specs = [
        dg.AssetSpec(
            ["raw", table],
            group_name="validation",
            # Codes are judged against the validated ODS register (validation.register).
            deps=[dg.AssetKey(["ingest", feed_name])]
            + ([dg.AssetKey(["raw", REGISTER_TABLE])] if feed_name != "organisations" else []),
            description=f"Validated, typed rows of {table} (raw/{table}/); rows and measures "
            f"that broke a rule are in quarantine/{table}/ with the rule and reason.",
            kinds={"great_expectations", "parquet"},
        )
        for table in feed.table_names
    ]

    @dg.multi_asset(
        name=f"validate_{feed_name}",
        specs=specs,
        check_specs=[spec for table in feed.table_names for spec in _check_specs(table)],
    )
    def _validate(context: dg.AssetExecutionContext, home: HomeResource):
        h = home.home()
        report = validate_feed(h, feed_name)
        if report.register_codes is None and feed_name != REGISTER_TABLE:
            context.log.warning(
                "No ODS register in this home: organisation codes were checked for shape "
                "only, so a mistyped code would be read as a provider. Deliver an ODS "
                "extract to landing/organisations/."
            )
        for f in report.files:
            context.log.info(
                f"{f.source}: {f.rows_valid} of {f.rows_in} rows valid, "
                f"{f.records_quarantined} quarantined, {f.quarantine_entries} quarantine entries"
                + (
                    f", {f.rows_superseded} superseded by a later delivery"
                    if f.rows_superseded
                    else ""
                )
            )
        for table in feed.table_names:
            yield from _results(report, table, h)

    return _validate


VALIDATION_ASSETS = [build_validation_asset(name) for name in FEEDS]
