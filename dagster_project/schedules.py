"""When the pipeline runs by itself: a monthly refresh and the annual Quality Account run.

Both run the whole job over whatever is in landing, so a file dropped in during
the month is published at the next refresh; the annual run asks for the partition
of the financial year just ended, so its documents are the ones recorded as
built. They start stopped: a data engineer switches them on in the UI
(Automation) once landing is being fed, and the Dagster daemon (`dg dev` runs
one) launches them. Times are UK civil time, so they stay at 06:00 across the
change to and from British Summer Time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from dagster_project.ingest.layouts import financial_year_of
from dagster_project.partitions import FINANCIAL_YEARS

TIMEZONE = "Europe/London"

# The monthly publications the pipeline reads (UKHSA's infection counts, NHS England's
# monthly statistics, NHS Digital's SHMI) are out by the middle of the month.
MONTHLY_CRON = "0 6 15 * *"
# Quality Accounts are published by 30 June for the year to 31 March; a run on 1 June
# leaves the month for providers to check their pages.
ANNUAL_CRON = "0 6 1 6 *"


def build_schedules(job: dg.UnresolvedAssetJobDefinition) -> list[dg.ScheduleDefinition]:
    """The two schedules, both running `job` (the whole pipeline), both stopped at first."""
    return [
        dg.ScheduleDefinition(
            name="monthly_refresh",
            cron_schedule=MONTHLY_CRON,
            execution_timezone=TIMEZONE,
            job=job,
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description="Every asset on the 15th of each month at 06:00 UK time, after the "
            "month's publications: a new publication for observatories and fresh pages.",
            tags={"qa/schedule": "monthly"},
        ),
        dg.ScheduleDefinition(
            name="annual_quality_accounts",
            cron_schedule=ANNUAL_CRON,
            execution_timezone=TIMEZONE,
            job=job,
            execution_fn=_annual_run,
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description="Every asset on 1 June at 06:00 UK time, the Quality Accounts for the "
            "financial year just ended (its partition), a month before the 30 June deadline.",
            tags={"qa/schedule": "annual"},
        ),
    ]


def year_ended_before(moment: datetime) -> str:
    """The last financial year (April to March) wholly before `moment`."""
    return financial_year_of(moment.year - 1, moment.month)


def _annual_run(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    year = year_ended_before(context.scheduled_execution_time or datetime.now(UTC))
    known = context.instance.get_dynamic_partitions(FINANCIAL_YEARS.name)
    tags = {"qa/schedule": "annual", "qa/financial_year": year}
    if year in known:
        return dg.RunRequest(partition_key=year, tags=tags)
    # No publication has held that year yet: render every year; the publish step adds the
    # year as a partition if this run's data brings it.
    return dg.RunRequest(tags=tags)
