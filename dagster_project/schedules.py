"""When the pipeline runs by itself: a monthly refresh and the annual Quality Account run.

Both run the whole job over whatever is in landing, so a file dropped in during
the month is published at the next refresh. They start stopped: a data engineer
switches them on in the UI (Automation) once landing is being fed, and the
Dagster daemon (`dg dev` runs one) launches them. Times are UK civil time, so
they stay at 06:00 across the change to and from British Summer Time.
"""

from __future__ import annotations

import dagster as dg

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
            default_status=dg.DefaultScheduleStatus.STOPPED,
            description="Every asset on 1 June at 06:00 UK time: the year's Quality Account "
            "pages, a month before the 30 June publication deadline.",
            tags={"qa/schedule": "annual"},
        ),
    ]
