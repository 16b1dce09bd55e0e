"""Running every asset once, in process, against one home, with progress as it goes.

The run is recorded in the home's own Dagster instance, so `make dev` shows it
beside the runs started from the UI. Progress comes from the run's event log,
polled while the run works in a thread, so the command line sees the same
events the UI does.

A `qa run` killed part way (SIGKILL, a stopped container) cannot tell the
instance it has stopped, so its run would stay "started" for ever; and since the
instance runs one run at a time, the runs queued by the sensor, the schedules
and the UI would wait behind it for ever. So each `qa run` holds a lock file
named for its run while it works (the kernel lets go of it when the process
ends, however it ends), and the next `qa run` marks failed every run still
"started" whose lock it can take.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.dependency import NodeHandle
from dagster._core.events import DagsterEventType
from dagster._core.instance.ref import InstanceRef

from dagster_project.compute_logs import compute_logs_setting
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

# Where each `qa run` holds its run's lock, inside the home's Dagster folder.
RUN_LOCKS = "qa-runs"
# The statuses in which the instance counts a run against its one run at a time.
_IN_PROGRESS = {
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
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
    # Earlier runs whose `qa run` was killed, marked failed before this one started.
    abandoned: list[str] = field(default_factory=list)
    # Files in landing no feed reads (at its top, or in a folder that is no feed's), and why.
    ignored: list[str] = field(default_factory=list)


def _describe(event: dg.DagsterEvent) -> str:
    """What went wrong, in the words of whoever raised it: a dagster Failure's description,
    else the first error that is not Dagster's own wrapping ("Error occurred while executing
    op ..."), which says nothing of the file."""
    data = event.event_specific_data
    error = getattr(data, "error", None)
    if error is None:
        return event.message or event.event_type_value
    chain = []
    while error is not None:
        chain.append(error)
        error = error.cause
    chosen = next((e for e in chain if "Failure" in (e.cls_name or "")), None) or next(
        (e for e in chain if "Error occurred while" not in e.message), chain[0]
    )
    message = chosen.message.strip()
    return re.sub(rf"^(?:[\w.]+\.)?{re.escape(chosen.cls_name or '')}: ", "", message)


def _assets_of(job: dg.JobDefinition, step_key: str) -> str:
    """The assets a step materialises, as the UI names them (`ingest/fft`); the step's own
    name for one that makes many (dbt's models) or none (a check)."""
    try:
        keys = job.asset_layer.get_assets_def_for_node(NodeHandle.from_string(step_key)).keys
    except Exception:  # a step that is no asset's: its own name will do
        return step_key
    names = sorted(k.to_user_string() for k in keys)
    return ", ".join(names) if 0 < len(names) <= 3 else step_key


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


@contextlib.contextmanager
def _holding_run_lock(home: Home, run_id: str) -> Iterator[None]:
    """Hold `<run id>.lock` while the run works. The file is locked before it takes its name,
    so another `qa run` never finds it unlocked while this process lives."""
    folder = home.dagster / RUN_LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}.lock"
    unnamed = folder / f".{run_id}.lock.tmp"
    with unnamed.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        unnamed.rename(path)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)


def fail_abandoned_runs(instance: dg.DagsterInstance, home: Home) -> list[str]:
    """Mark failed the runs whose `qa run` process ended without finishing them; their ids.

    A lock that can be taken belongs to a process that is gone. Runs launched by the
    daemon hold no such lock and are never touched.
    """
    folder = home.dagster / RUN_LOCKS
    abandoned = []
    for path in sorted(folder.glob("*.lock")) if folder.is_dir() else []:
        try:
            handle = path.open("rb")  # never created here: it may have just been removed
        except FileNotFoundError:
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its run is still going
            run = instance.get_run_by_id(path.stem)
            if run is not None and run.status in _IN_PROGRESS:
                instance.report_run_failed(
                    run,
                    "The qa run process running this run ended without finishing it (it was "
                    "killed, or its machine stopped); marked failed by the next qa run.",
                )
                abandoned.append(run.run_id)
            path.unlink(missing_ok=True)
    return abandoned


def _instance(home: Home) -> dg.DagsterInstance:
    """The home's Dagster instance, with step output kept in its files and never mirrored
    to the terminal (dagster_project/compute_logs.py says why)."""
    ref = InstanceRef.from_dir(
        str(home.dagster),
        overrides={"compute_logs": compute_logs_setting(str(home.dagster / "storage"))},
    )
    return dg.DagsterInstance.from_ref(ref)


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
    with _instance(home) as instance:
        abandoned = fail_abandoned_runs(instance, home)
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
                            keep_publications=home.keep_publications,
                        )
                    },
                    run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                    partition_key=year,
                )
            except BaseException as exc:  # surfaced below, after the thread ends
                box["error"] = exc

        # dbt's own log lines go to the run's log file, not the terminal.
        with (
            _holding_run_lock(home, run_id),
            log_path.open("w", encoding="utf-8") as log_file,
            contextlib.redirect_stdout(log_file),
        ):
            thread = threading.Thread(target=work, name="qa-run")
            thread.start()
            _follow(instance, run_id, thread, on_event)
            thread.join()
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        result = box["result"]
        outcome = RunOutcome(result.success, run_id, str(log_path))  # type: ignore[attr-defined]
        outcome.abandoned = abandoned
        for event in result.all_events:  # type: ignore[attr-defined]
            if event.event_type == DagsterEventType.STEP_FAILURE:
                outcome.failures.append(f"{_assets_of(job, event.step_key)}: {_describe(event)}")
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
        if any(step.startswith("ingest__") for step in started):
            from dagster_project.ingest.run import read_ignored

            outcome.ignored = [f"{source} ({why})" for source, why in read_ignored(home)]
        return outcome
