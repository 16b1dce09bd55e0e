"""The schedules a data engineer finds in the UI: when they run, in which timezone, and what."""

from __future__ import annotations

import dagster as dg
import pytest


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_HOME", str(tmp_path_factory.mktemp("home")))
        from dagster_project.definitions import defs

        return defs


@pytest.mark.parametrize(
    ("name", "cron"),
    [
        ("monthly_refresh", "0 6 15 * *"),  # 06:00 on the 15th of each month
        ("annual_quality_accounts", "0 6 1 6 *"),  # 06:00 on 1 June
    ],
)
def test_schedules_run_the_whole_pipeline_in_uk_time(defs, name, cron):
    schedule = defs.resolve_schedule_def(name)
    assert schedule.cron_schedule == cron
    assert schedule.execution_timezone == "Europe/London"
    assert schedule.job_name == "build_everything"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    job = defs.resolve_job_def(schedule.job_name)
    assert dg.AssetKey(["site", "data_dictionary"]) in job.asset_layer.executable_asset_keys
