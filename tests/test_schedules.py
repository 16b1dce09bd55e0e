"""The schedules a data engineer finds in the UI: when they run, in which timezone, and what."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_HOME", str(tmp_path_factory.mktemp("home")))
        from dagster_project.definitions import defs

        return defs()


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


def _sensor_tick(defs: dg.Definitions, home, cursor: str | None):
    """One tick of the definitions' landing sensor on `home`, as the daemon would run it."""
    from dagster_project.resources import HomeResource

    sensor = defs.resolve_sensor_def("landing_sensor")
    resources = {"home": HomeResource(root=str(home.root))}
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, resources=resources)
    result = sensor.evaluate_tick(context)
    return result, context.cursor


@pytest.fixture
def landing_home(tmp_path):
    from dagster_project.home import Home

    return Home(tmp_path / "home").ensure()


def test_the_landing_sensor_is_in_the_definitions_and_starts_stopped(defs):
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "build_everything"


def test_a_new_file_requests_one_run_of_its_feed_and_what_it_feeds(defs, landing_home):
    home = landing_home
    folder = home.landing / "vte"
    folder.mkdir(parents=True)
    (folder / "vte-2024-25.csv").write_text(
        "Org code,Quarter,Admitted,Risk assessed\nRA1,2024-25 Q1,10,9\n"
    )

    result, cursor = _sensor_tick(defs, home, None)
    (request,) = result.run_requests
    selected = set(request.asset_selection)
    assert dg.AssetKey(["ingest", "vte"]) in selected
    assert dg.AssetKey(["raw", "vte_assessments"]) in selected
    assert dg.AssetKey(["published", "quality_duckdb"]) in selected
    assert dg.AssetKey(["ingest", "fft"]) not in selected  # other feeds are not re-read
    assert request.tags["qa/feeds"] == "vte"

    # Unchanged: nothing to do, and the reason says so.
    again, cursor = _sensor_tick(defs, home, cursor)
    assert again.run_requests == []
    assert "No new file contents" in again.skip_message

    # The same bytes under another name, or touched: still nothing.
    (folder / "copy-of-vte-2024-25.csv").write_bytes((folder / "vte-2024-25.csv").read_bytes())
    (folder / "vte-2024-25.csv").touch()
    again, cursor = _sensor_tick(defs, home, cursor)
    assert again.run_requests == []

    # A re-issue under the old name is new contents: a run, and a later arrival.
    (folder / "vte-2024-25.csv").write_text(
        "Org code,Quarter,Admitted,Risk assessed\nRA1,2024-25 Q1,10,10\n"
    )
    changed, cursor = _sensor_tick(defs, home, cursor)
    (request,) = changed.run_requests
    from dagster_project.ingest.arrivals import read_register

    assert sorted(a.order for a in read_register(home).values()) == [1, 2]


def test_feeds_published_monthly_carry_a_freshness_policy(defs):
    graph = defs.resolve_asset_graph()
    for feed in ("hcai", "fft"):
        policy = graph.get(dg.AssetKey(["ingest", feed])).freshness_policy
        assert isinstance(policy, dg.FreshnessPolicy), feed
        assert policy.deadline_cron == "0 9 20 * *" and policy.timezone == "Europe/London"
    # Annual and quarterly feeds are not expected monthly: no policy to go red every month.
    assert graph.get(dg.AssetKey(["ingest", "proms"])).freshness_policy is None


@pytest.mark.parametrize(
    ("moment", "year"),
    [
        (datetime(2026, 6, 1, 6, tzinfo=LONDON), "2025-26"),
        (datetime(2026, 3, 31, 23, tzinfo=LONDON), "2024-25"),
        (datetime(2026, 4, 1, 0, tzinfo=LONDON), "2025-26"),
    ],
)
def test_the_year_just_ended(moment, year):
    from dagster_project.schedules import year_ended_before

    assert year_ended_before(moment) == year


def test_the_annual_run_renders_the_year_just_ended_as_its_partition(defs):
    schedule = defs.resolve_schedule_def("annual_quality_accounts")
    june = datetime(2026, 6, 1, 6, tzinfo=LONDON)
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        (before,) = schedule.evaluate_tick(
            dg.build_schedule_context(
                instance=instance, scheduled_execution_time=june, repository_def=repository
            )
        ).run_requests
        assert before.partition_key is None  # no publication has held 2025-26 yet: every year
        instance.add_dynamic_partitions("financial_year", ["2024-25", "2025-26"])
        (request,) = schedule.evaluate_tick(
            dg.build_schedule_context(
                instance=instance, scheduled_execution_time=june, repository_def=repository
            )
        ).run_requests
    assert request.partition_key == "2025-26"
    assert request.tags["qa/financial_year"] == "2025-26"
