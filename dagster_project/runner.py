"""Running every asset once, in process, against one home, with progress as it goes.

The run is recorded in the home's own Dagster instance, so `make dev` shows it
beside the runs started from the UI. Progress comes from the run's event log,
polled while the run works in a thread, so the command line sees the same
events the UI does.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.events import DagsterEventType

from dagster_project.home import Home
from dagster_project.partitions import add_years, is_financial_year

_WATCHED = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_UP_FOR_RETRY,
    DagsterEventType.STEP_RESTARTED,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    log_path: str = ""
    failures: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Steps that met a transient problem (a locked DuckDB file) and were run again.
    retried: list[str] = field(default_factory=list)


def _describe(event: dg.DagsterEvent) -> str:
    data = event.event_specific_data
    error = getattr(data, "error", None)
    if error is None:
        return event.message or event.event_type_value
    # A dagster Failure carries the user-facing description; other errors their message.
    message = error.message.strip()
    cause = error.cause
    while cause is not None and "Failure" not in (cause.cls_name or ""):
        cause = cause.cause
    if cause is not None:
        message = cause.message.strip()
    return re.sub(r"^[\w.]+(?:Error|Failure|Exception): ", "", message)


def _retry_reason(event: dg.DagsterEvent) -> str:
    """Why a step is being tried again: DuckDB's lock message, from wherever it sits in the
    chain of causes (a dbt failure carries it in its description), and the pause."""
    data = event.event_specific_data
    error = getattr(data, "error", None)
    lines: list[str] = []
    while error is not None:
        lines.extend(line.strip() for line in error.message.splitlines() if line.strip())
        error = error.cause
    reason = next((line for line in lines if "lock" in line.lower()), None)
    reason = reason or (lines[-1] if lines else event.message or event.event_type_value)
    wait = getattr(data, "seconds_to_wait", None)
    return f"{reason} (tried again after {wait:.0f} s)" if wait else reason


def _follow(
    instance: dg.DagsterInstance,
    run_id: str,
    thread: threading.Thread,
    on_event: Callable[[str, str], None] | None,
) -> None:
    """Report step events from the event log until the run's thread ends."""
    cursor = None
    while True:
        alive = thread.is_alive()
        if on_event is not None:
            batch = instance.get_records_for_run(run_id, cursor=cursor)
            for record in batch.records:
                event = record.event_log_entry.dagster_event
                if event is not None and event.event_type in _WATCHED:
                    on_event(event.event_type_value, event.step_key or "")
            cursor = batch.cursor
        if not alive:
            return
        time.sleep(0.3)


def run_pipeline(
    home: Home,
    on_event: Callable[[str, str], None] | None = None,
    job_name: str = "build_everything",
    year: str | None = None,
) -> RunOutcome:
    """Materialise the job's assets once; `on_event(kind, step)` hears each step start and end.

    With `year`, the Quality Accounts are rendered and printed for that financial year
    only (its partition, added if the instance lacks it); without, for every year.
    """
    home.ensure()
    from dagster_project.definitions import defs
    from dagster_project.resources import HomeResource
    from dagster_project.transform.project import prepare_dbt_project

    if year is not None and not is_financial_year(year):
        raise ValueError(f"{year!r} is not a financial year like 2024-25")
    prepare_dbt_project()
    job = defs().resolve_job_def(job_name)
    run_id = str(uuid.uuid4())
    box: dict[str, object] = {}
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        if year is not None:
            add_years(instance, [year])
        log_path = home.dagster / "logs" / f"{run_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)

        def work() -> None:
            try:
                box["result"] = job.execute_in_process(
                    instance=instance,
                    run_id=run_id,
                    raise_on_error=False,
                    resources={
                        "home": HomeResource(
                            root=str(home.root),
                            landing=str(home.landing_dir) if home.landing_dir else None,
                        )
                    },
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                    partition_key=year,
                )
            except BaseException as exc:  # surfaced below, after the thread ends
                box["error"] = exc

        # dbt's own log lines go to the run's log file, not the terminal.
        with log_path.open("w", encoding="utf-8") as log_file, contextlib.redirect_stdout(log_file):
            thread = threading.Thread(target=work, name="qa-run")
            thread.start()
            _follow(instance, run_id, thread, on_event)
            thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        result = box["result"]
        outcome = RunOutcome(result.success, run_id, str(log_path))  # type: ignore[attr-defined]
        for event in result.all_events:  # type: ignore[attr-defined]
            if event.event_type == DagsterEventType.STEP_FAILURE:
                outcome.failures.append(f"{event.step_key}: {_describe(event)}")
            elif event.event_type == DagsterEventType.STEP_UP_FOR_RETRY:
                outcome.retried.append(f"{event.step_key}: {_retry_reason(event)}")
            elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    outcome.failed_checks.append(
                        f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} "
                        f"({evaluation.severity.value}): {evaluation.description or ''}".rstrip(
                            ": "
                        )
                    )
        plan = instance.get_execution_plan_snapshot(
            result.dagster_run.execution_plan_snapshot_id  # type: ignore[attr-defined]
        )
        started = {
            e.step_key
            for e in result.all_events  # type: ignore[attr-defined]
            if e.event_type == DagsterEventType.STEP_START
        }
        outcome.skipped = sorted(step.key for step in plan.steps if step.key not in started)
        outcome.success = outcome.success and not outcome.failures
        return outcome
