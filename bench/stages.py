"""One benchmark stage in a process of its own, so its peak memory is its own.

`bench/run.py` starts this file with the same Python as itself:

    python bench/stages.py <stage> '<json parameters>' <result.json>

The stage runs once. Its result (seconds inside the stage call, peak resident set
size of this process and of its largest child such as dbt, a row count and
details) is written as JSON to `<result.json>`. Anything the stage prints goes to
the caller's log file, never into the result.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

Params = dict[str, Any]
Outcome = tuple[int, str, dict[str, Any]]  # rows, what the rows are, details

SYNTHETIC_MEMBER = re.compile(r"(hip|knee) replacements? provider|partlink", re.IGNORECASE)


def _home(params: Params) -> Any:
    from dagster_project.home import resolve_home

    return resolve_home(params["home"], params.get("landing")).ensure()


class Timers:
    """Seconds spent in named functions, accumulated over every call."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

        return timed


# --- stages -------------------------------------------------------------------------------


def stage_synth(params: Params) -> Outcome:
    """Synthetic landing files; records per provider chosen to give the records wanted a year."""
    from dagster_project.synth import write_synthetic_region
    from dagster_project.synth.organisations import make_providers

    per_provider = params.get("records_per_provider")
    if per_provider is None:
        # A provider's records a year (hip and knee) are records_per_provider x its size.
        sizes = sum(p.size for p in make_providers(params["providers"], params["seed"]))
        per_provider = max(1, round(params["records_per_year"] / sizes))
    summary = write_synthetic_region(
        Path(params["landing"]),
        Path(params["truth"]),
        providers=params["providers"],
        years=params["years"],
        seed=params["seed"],
        records_per_provider=per_provider,
        feeds=[],  # PROMs, ODS and SHMI only: this benchmark is the PROMs pipeline's
    )
    return (
        summary["records"],
        "records",
        {"records_per_provider": per_provider, "files": summary["files"]},
    )


def stage_ingest(params: Params) -> Outcome:
    from dagster_project.ingest.run import ingest_feed

    report = ingest_feed(_home(params), params["feed"])
    by_table = report.rows_by_table
    skipped = [f.source for f in report.files if f.table is None]
    return (
        sum(by_table.values()),
        "rows parsed",
        {"files": len(report.files), "rows_by_table": by_table, "not_ingested": skipped},
    )


def stage_validate(params: Params) -> Outcome:
    """Validation, with the time inside Great Expectations and the steps around it split out.

    The split wraps the module-level functions validation calls (a benchmark-only
    measurement, nothing in the pipeline changes); a name that has gone is skipped.
    """
    from dagster_project.validation import run as validation
    from dagster_project.validation import suites

    timers = Timers()
    if hasattr(suites, "_context"):
        suites._context = timers.wrap("gx_start_up", suites._context)
    for name, label in (("run_suite", "gx_suites"), ("split", "split"), ("cast", "cast")):
        if hasattr(validation, name):
            setattr(validation, name, timers.wrap(label, getattr(validation, name)))
    from dataclasses import replace

    from dagster_project.feeds.catalogue import TABLES

    for name, table in list(TABLES.items()):
        if table.derive is not None:
            TABLES[name] = replace(table, derive=timers.wrap("derived_checks", table.derive))

    report = validation.validate_feed(_home(params), params["feed"])
    totals = report.totals()
    seconds = dict(timers.seconds)
    if "gx_start_up" in seconds and "gx_suites" in seconds:
        seconds["gx_suites"] -= seconds["gx_start_up"]  # start-up happens inside the first suite
    return (
        totals["rows_valid"],
        "rows valid",
        {**totals, "files": len(report.files), "seconds": seconds, "by_rule": report.by_rule()},
    )


def stage_dbt(params: Params) -> Outcome:
    """`dbt build` as the Dagster asset runs it (unit tests excluded), as its own process.

    Target and logs go outside the repository. The caller passes the dbt binary
    and project folder, so this process does not import dagster_dbt (seconds)
    just to find them: the time is dbt's.
    """
    import duckdb

    home = _home(params)
    project = params["project_dir"]
    command = [
        params["dbt"],
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        params["target_path"],
        "--log-path",
        params["log_path"],
        "--vars",
        json.dumps({"qa_home": str(home.root)}),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    process_s = time.perf_counter() - start
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"dbt build failed with exit status {done.returncode}")
    finished = re.search(r"Finished running .* \(([\d.]+)s\)", done.stdout)
    counts = {}
    with duckdb.connect(str(home.warehouse_db), read_only=True) as con:
        for (table,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'published' order by table_name"
        ).fetchall():
            counts[table] = con.execute(f'select count(*) from published."{table}"').fetchone()[0]
    return (
        counts.get("proms_provider_outcomes", 0),
        "provider outcome rows",
        {
            "dbt_process_s": round(process_s, 3),
            "dbt_reported_seconds": float(finished.group(1)) if finished else None,
            "published_rows": counts,
        },
    )


def stage_publish(params: Params) -> Outcome:
    from dagster_project.publish.observatories.snapshot import publish

    publication = publish(_home(params))
    return sum(publication.row_counts.values()), "rows published", dict(publication.row_counts)


def stage_render(params: Params) -> Outcome:
    from dagster_project.publish.portal.site import render_site

    home = _home(params)
    pages = render_site(home.published_db, home.site)
    return len(pages), "pages", {}


def stage_dagster(params: Params) -> Outcome:
    """The whole pipeline as users run it, with each step's time from Dagster's event log."""
    home = _home(params)
    start = time.perf_counter()
    # What run_pipeline imports first: Dagster, every asset, and the dbt manifest (parsed
    # again if a dbt file is newer than it). Timed apart from the run itself.
    import dagster_project.definitions  # noqa: F401
    from dagster_project.runner import run_pipeline

    loading = time.perf_counter() - start
    outcome = run_pipeline(home)
    steps = _step_seconds(home, outcome.run_id)
    if not outcome.success:
        raise RuntimeError("Dagster run failed: " + "; ".join(outcome.failures))
    return (
        len(steps),
        "steps",
        {
            "load_definitions_s": round(loading, 3),
            "steps": steps,
            "failed_checks": outcome.failed_checks,
            "run_id": outcome.run_id,
        },
    )


def _step_seconds(home: Any, run_id: str) -> dict[str, float]:
    import dagster as dg
    from dagster._core.events import DagsterEventType

    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                started[event.step_key] = record.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                seconds[event.step_key] = round(record.timestamp - started[event.step_key], 3)
    return seconds


def stage_unzip(params: Params) -> Outcome:
    """Extract the CSV members the reference reads; macOS resource forks are left behind."""
    into = Path(params["into"])
    size = 0
    files = []
    for number, zipped in enumerate(params["zips"]):
        folder = into / f"{number:03d}"
        with zipfile.ZipFile(zipped) as archive:
            for member in archive.infolist():
                name = Path(member.filename).name
                if (
                    member.is_dir()
                    or member.filename.startswith("__MACOSX/")
                    or name.startswith("._")
                    or not name.lower().endswith(".csv")
                ):
                    continue
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
                size += member.file_size
                files.append(str(target))
    return len(files), "files", {"files": files, "bytes": size}


def stage_reference(params: Params) -> Outcome:
    """`bench/proms_reference.sql` as one script in a fresh in-memory DuckDB."""
    import duckdb

    script = Path(params["sql"]).read_text(encoding="utf-8")
    con = duckdb.connect()
    try:
        for variable in ("hip_files", "knee_files", "partlink_files"):
            con.execute(f"set variable {variable} = ?", [params[variable]])
        con.execute(script)
        outcomes = con.execute("select count(*) from reference_provider_outcomes").fetchone()[0]
        participation = con.execute("select count(*) from reference_participation").fetchone()[0]
    finally:
        con.close()
    return outcomes, "provider outcome rows", {"participation_rows": participation}


KEYS = ("financial_year", "provider_code", "procedure", "measure")
TOLERANCE = 1e-6


def stage_agreement(params: Params) -> Outcome:
    """The reference's provider figures against the pipeline's publication, figure by figure.

    Not timed as part of anything: it runs the reference script again so that the
    reference's own timing stays clean. Numbers agree within TOLERANCE; text exactly.
    """
    import duckdb

    con = duckdb.connect()
    try:
        for variable in ("hip_files", "knee_files", "partlink_files"):
            con.execute(f"set variable {variable} = ?", [params[variable]])
        con.execute(Path(params["sql"]).read_text(encoding="utf-8"))
        con.execute("attach ? as pub (read_only)", [params["published_db"]])
        reference = con.execute("describe reference_provider_outcomes").fetchall()
        published = {r[0] for r in con.execute("describe pub.proms_provider_outcomes").fetchall()}
        figures = [(name, kind) for name, kind, *_ in reference if name in published]
        figures = [(n, k) for n, k in figures if n not in KEYS]
        joined = (
            "from reference_provider_outcomes r "
            f"join pub.proms_provider_outcomes p using ({', '.join(KEYS)})"
        )
        compared = con.execute(f"select count(*) {joined}").fetchone()[0]
        unmatched = con.execute(
            "select count(*) from reference_provider_outcomes r "
            f"full join pub.proms_provider_outcomes p using ({', '.join(KEYS)}) "
            "where r.provider_code is null or p.provider_code is null"
        ).fetchone()[0]
        differ = {}
        for name, kind in figures:
            same = f"r.{name} is not distinct from p.{name}"
            if kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
                same += f" or abs(r.{name} - p.{name}) <= {TOLERANCE}"
            differ[name] = con.execute(f"select count(*) {joined} where not ({same})").fetchone()[0]
    finally:
        con.close()
    return (
        compared,
        "rows compared",
        {"unmatched_rows": unmatched, "differ": differ, "tolerance": TOLERANCE},
    )


def stage_locate_dbt(params: Params) -> Outcome:
    """The pipeline's dbt binary and project folder (for the caller, which stays light)."""
    from dagster_project.transform.project import DBT_DIR, dbt_executable

    return 0, "", {"dbt": dbt_executable(), "project_dir": str(DBT_DIR)}


STAGES: dict[str, Callable[[Params], Outcome]] = {
    "synth": stage_synth,
    "ingest": stage_ingest,
    "validate": stage_validate,
    "dbt": stage_dbt,
    "publish": stage_publish,
    "render": stage_render,
    "dagster": stage_dagster,
    "unzip": stage_unzip,
    "reference": stage_reference,
    "agreement": stage_agreement,
    "locate_dbt": stage_locate_dbt,
}


def own_peak_rss_kib() -> int:
    """This process's peak resident set size in KiB.

    VmHWM (Linux) starts afresh at exec. ru_maxrss does not: it keeps the high-water
    mark of the parent's memory the child was forked from, so it is only the fallback.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in STAGES:
        print(f"usage: stages.py {{{','.join(STAGES)}}} '<json>' <result.json>", file=sys.stderr)
        return 2
    stage, params, result_path = argv[0], json.loads(argv[1]), Path(argv[2])
    start = time.perf_counter()
    rows, unit, detail = STAGES[stage](params)
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux. RUSAGE_CHILDREN is the largest child waited for (dbt);
    # such a child is forked from this small process, so its figure is its own.
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "stage": stage,
        "in_process_s": round(seconds, 3),
        "cpu_s": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 3),
        "self_max_rss_kib": own_peak_rss_kib(),
        "self_ru_maxrss_kib": own.ru_maxrss,
        "children_max_rss_kib": children.ru_maxrss,
        "rows": rows,
        "unit": unit,
        "detail": detail,
    }
    result_path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
