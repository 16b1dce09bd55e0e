"""Benchmark: the pipeline stage by stage and through Dagster, beside one plain DuckDB script.

Two datasets: national-scale synthetic PROMs (by default 250 providers, about
100,000 records a year, three years) and the real data packs in
`../shared/data/proms/` when they are there. Every stage runs in a process of its
own (`bench/stages.py`), so each one's peak resident memory is its own; wall time
is taken around that process, so it includes starting Python and importing what
the stage needs, while "in stage" is the stage call alone. The same provider-level
figures are computed by `bench/proms_reference.sql`, and the ratio of the
pipeline's time to that script's is the figure to watch.

This measures; it asserts nothing about time. Results are printed and written as
JSON and Markdown under `bench/results/` (git-ignored).

    python bench/run.py                       # the full default run (`make bench`)
    python bench/run.py --skip-real --providers 40 --records-per-year 10000 --years 2024-25
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from dagster_project.feeds.catalogue import FEEDS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STAGES_SCRIPT = HERE / "stages.py"
REFERENCE_SQL = HERE / "proms_reference.sql"
RESULTS_DIR = HERE / "results"
REAL_DATA = REPO.parent / "shared" / "data" / "proms"
DEFAULT_YEARS = "2022-23,2023-24,2024-25"
PACKAGES = ("dagster", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pandas")

MIB = 1024  # stages report memory in KiB (VmHWM, ru_maxrss)
BUSY_SHARE = 0.10  # flag a stage when other processes took more of the machine than this
BUSY_MIN_S = 0.5  # and more CPU seconds than this (a short stage is flagged by a blip)

# Wide enough for the tables when the output goes to a file or a pipe (make, CI).
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


class StageFailed(Exception):
    """A stage's process ended with an error; the message carries the end of its log."""


@dataclass
class StageRun:
    label: str
    group: str  # setup | pipeline | dagster | reference | check
    wall_s: float
    in_process_s: float
    cpu_s: float
    others_cpu_s: float | None  # CPU other processes used meanwhile (/proc/stat), if known
    self_rss_mib: float
    children_rss_mib: float
    rows: int
    unit: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def disturbed(self) -> bool:
        """Other processes took more than BUSY_SHARE of the machine while this stage ran."""
        if self.others_cpu_s is None or self.wall_s <= 0:
            return False
        share = self.others_cpu_s > BUSY_SHARE * self.wall_s * (os.cpu_count() or 1)
        return share and self.others_cpu_s > BUSY_MIN_S

    @property
    def peak_rss_mib(self) -> float:
        """The largest single process of the stage: itself or a child such as dbt."""
        return max(self.self_rss_mib, self.children_rss_mib)


@dataclass
class Dataset:
    name: str
    description: str
    inputs: dict[str, Any] = field(default_factory=dict)
    stages: list[StageRun] = field(default_factory=list)
    note: str = ""
    error: str = ""

    def group(self, name: str) -> list[StageRun]:
        return [s for s in self.stages if s.group == name]

    def find(self, label: str) -> StageRun | None:
        return next((s for s in self.stages if s.label == label), None)

    def summary(self) -> dict[str, Any]:
        pipeline = self.group("pipeline")
        dagster = self.find("dagster run")
        sql = self.find("reference SQL")
        unzip = self.find("unzip for reference")
        dbt = self.find("dbt build")
        out: dict[str, Any] = {}
        if pipeline:
            out["pipeline_stages_wall_s"] = round(sum(s.wall_s for s in pipeline), 2)
            out["pipeline_stages_in_process_s"] = round(sum(s.in_process_s for s in pipeline), 2)
            out["pipeline_stages_cpu_s"] = round(sum(s.cpu_s for s in pipeline), 2)
            out["pipeline_stages_peak_rss_mib"] = round(max(s.peak_rss_mib for s in pipeline), 1)
        if dbt:
            out["pipeline_outcome_rows"] = dbt.rows
        if dagster:
            out["dagster_wall_s"] = round(dagster.wall_s, 2)
            out["dagster_cpu_s"] = round(dagster.cpu_s, 2)
            out["dagster_peak_rss_mib"] = round(dagster.peak_rss_mib, 1)
        if sql:
            reference = sql.wall_s + (unzip.wall_s if unzip else 0.0)
            out["reference_sql_wall_s"] = round(sql.wall_s, 2)
            out["reference_sql_in_process_s"] = round(sql.in_process_s, 2)
            out["unzip_wall_s"] = round(unzip.wall_s, 2) if unzip else 0.0
            out["reference_wall_s"] = round(reference, 2)
            out["reference_cpu_s"] = round(sum(s.cpu_s for s in self.group("reference")), 2)
            out["reference_peak_rss_mib"] = round(
                max(s.peak_rss_mib for s in self.group("reference")), 1
            )
            out["reference_outcome_rows"] = sql.rows
            if pipeline:
                out["ratio_stages_to_reference"] = round(
                    out["pipeline_stages_wall_s"] / reference, 1
                )
            if dagster:
                out["ratio_dagster_to_reference"] = round(dagster.wall_s / reference, 1)
                out["ratio_dagster_cpu_to_reference_cpu"] = round(
                    dagster.cpu_s / out["reference_cpu_s"], 1
                )
        timed = [s for s in self.stages if s.group != "check"]
        known = [s.others_cpu_s for s in timed if s.others_cpu_s is not None]
        if known:
            out["others_cpu_s"] = round(sum(known), 1)
            out["timed_wall_s"] = round(sum(s.wall_s for s in timed), 1)
        check = self.find("figures agree?")
        if check:
            differ = check.detail["differ"]
            out["agreement"] = {
                "rows": check.rows,
                "figures": len(differ),
                "differing_values": sum(differ.values()),
                "unmatched_rows": check.detail["unmatched_rows"],
                "tolerance": check.detail["tolerance"],
                "differ": differ,
            }
        return out


class Bench:
    """Runs stages as child processes under one work folder and keeps what they report."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.count = 0
        for folder in ("results", "logs"):
            (work / folder).mkdir(parents=True, exist_ok=True)

    def run(
        self,
        dataset: Dataset,
        label: str,
        group: str,
        stage: str,
        params: dict[str, Any],
        record: bool = True,
    ) -> StageRun:
        self.count += 1
        slug = f"{self.count:02d}-{dataset.name}-{label.replace(' ', '-')}"
        result_path = self.work / "results" / f"{slug}.json"
        log_path = self.work / "logs" / f"{slug}.log"
        command = [sys.executable, str(STAGES_SCRIPT), stage, json.dumps(params), str(result_path)]
        with console.status(f"{dataset.name}: {label}"), log_path.open("w") as log:
            busy_before = busy_cpu_s()
            start = time.perf_counter()
            done = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, check=False
            )
            wall = time.perf_counter() - start
            busy_after = busy_cpu_s()
        if done.returncode != 0 or not result_path.exists():
            tail = log_path.read_text(errors="replace").strip().splitlines()[-25:]
            raise StageFailed(
                f"{label} failed (exit status {done.returncode}):\n" + "\n".join(tail)
            )
        data = json.loads(result_path.read_text())
        run = StageRun(
            label=label,
            group=group,
            wall_s=round(wall, 3),
            in_process_s=data["in_process_s"],
            cpu_s=data["cpu_s"],
            others_cpu_s=None
            if busy_before is None or busy_after is None
            else round(max(0.0, busy_after - busy_before - data["cpu_s"]), 1),
            self_rss_mib=round(data["self_max_rss_kib"] / MIB, 1),
            children_rss_mib=round(data["children_max_rss_kib"] / MIB, 1),
            rows=data["rows"],
            unit=data["unit"],
            detail=data["detail"],
        )
        if record:
            dataset.stages.append(run)
        console.print(
            f"  {dataset.name}: {label:<24} {run.wall_s:8.1f} s  {run.peak_rss_mib:7.0f} MiB  "
            f"{run.rows:>9,} {run.unit}"
        )
        return run


def busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


# --- the pipeline and the reference on one landing folder ----------------------------------

# Every feed the pipeline knows, as a Dagster run would: dbt reads all their raw tables.
PIPELINE_STAGES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    *((f"ingest {feed}", "ingest", {"feed": feed}) for feed in FEEDS),
    *((f"validate {feed}", "validate", {"feed": feed}) for feed in FEEDS),
    ("dbt build", "dbt", {}),
    ("publish", "publish", {}),
    ("render site", "render", {}),
)


def run_pipeline_and_reference(
    bench: Bench,
    dataset: Dataset,
    landing: Path,
    reference: dict[str, list[str]] | None,
    zips: list[str] | None,
    dagster: bool,
    repeats: int,
) -> None:
    """Stage by stage on one fresh home, then through Dagster on another, then the reference.

    Either `reference` (plain CSV paths by DuckDB variable) or `zips` (to extract first).
    """
    root = bench.work / dataset.name
    home = {"home": str(root / "home-stages"), "landing": str(landing)}
    for label, stage, extra in PIPELINE_STAGES:
        params = {**home, **extra}
        if stage == "dbt":
            params |= {
                **dbt_command(),
                "target_path": str(root / "dbt-target"),
                "log_path": str(root / "dbt-logs"),
            }
        bench.run(dataset, label, "pipeline", stage, params)
    if dagster:
        fresh = {"home": str(root / "home-dagster"), "landing": str(landing)}
        bench.run(dataset, "dagster run", "dagster", "dagster", fresh)
    if zips is not None:
        unzipped = bench.run(
            dataset,
            "unzip for reference",
            "reference",
            "unzip",
            {"zips": zips, "into": str(root / "unzipped")},
        )
        reference = reference_files(unzipped.detail["files"])
    if reference is None:
        raise StageFailed("no reference inputs: neither CSV files nor zips")
    inputs = {"sql": str(REFERENCE_SQL), **reference}
    # The script takes seconds, so one run is easily thrown by anything else on the
    # machine: run it a few times and keep the median run.
    runs = [
        bench.run(dataset, "reference SQL", "reference", "reference", inputs, record=False)
        for _ in range(max(1, repeats))
    ]
    median = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
    median.detail["repeats_wall_s"] = [r.wall_s for r in runs]
    dataset.stages.append(median)
    published = {"published_db": str(root / "home-stages" / "published" / "quality.duckdb")}
    bench.run(dataset, "figures agree?", "check", "agreement", {**inputs, **published})


@cache
def dbt_command() -> dict[str, str]:
    """The pipeline's dbt binary and project, asked of a helper process (untimed).

    Importing them here would take seconds and, worse, grow this process: a child's
    memory figures must not start from a large parent.
    """
    with tempfile.TemporaryDirectory(prefix="qa-bench-dbt-") as folder:
        result = Path(folder) / "dbt.json"
        command = [sys.executable, str(STAGES_SCRIPT), "locate_dbt", "{}", str(result)]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StageFailed(f"cannot locate dbt:\n{done.stderr.strip()[-2000:]}")
        return json.loads(result.read_text())["detail"]


def reference_role(name: str) -> str | None:
    """Which of the reference script's file lists a data-pack file belongs to, by its name."""
    lower = Path(name).name.lower()
    if "partlink" in lower:
        return "partlink_files"
    if " provider " in f" {lower} " and "hip replacement" in lower:
        return "hip_files"
    if " provider " in f" {lower} " and "knee replacement" in lower:
        return "knee_files"
    return None


def reference_files(paths: list[str]) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {"hip_files": [], "knee_files": [], "partlink_files": []}
    for path in sorted(paths):
        role = reference_role(path)
        if role:
            files[role].append(path)
    empty = [role for role, found in files.items() if not found]
    if empty:
        raise StageFailed(f"no files for the reference's {', '.join(empty)}")
    return files


def synthetic_years(args: argparse.Namespace) -> list[str]:
    return [y.strip() for y in args.years.split(",") if y.strip()]


def synthetic(bench: Bench, dataset: Dataset, args: argparse.Namespace) -> None:
    years = synthetic_years(args)
    landing = bench.work / dataset.name / "landing"
    made = bench.run(
        dataset,
        "generate synthetic data",
        "setup",
        "synth",
        {
            "landing": str(landing),
            "truth": str(bench.work / dataset.name / "truth.json"),
            "providers": args.providers,
            "years": years,
            "seed": args.seed,
            "records_per_year": args.records_per_year,
        },
    )
    dataset.inputs = {
        "providers": args.providers,
        "years": years,
        "records": made.rows,
        "records_per_provider": made.detail["records_per_provider"],
        "files": made.detail["files"],
        "landing_bytes": folder_bytes(landing),
    }
    csvs = [str(landing / name) for name in made.detail["files"] if name.startswith("proms/")]
    run_pipeline_and_reference(
        bench, dataset, landing, reference_files(csvs), None, args.dagster, args.reference_repeats
    )


def real(bench: Bench, dataset: Dataset, folder: Path, dagster: bool, repeats: int) -> None:
    years = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not years:
        dataset.note = f"skipped: no real PROMs data at {folder}"
        return
    landing = bench.work / dataset.name / "landing"
    copied: list[str] = []
    for year in years:
        for path in sorted(year.iterdir()):
            if path.is_file() and path.suffix.lower() in (".zip", ".csv"):
                target = landing / "proms" / year.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                copied.append(str(target))
    zips = [
        p for p in copied if p.lower().endswith(".zip") and reference_role(p.removesuffix(".zip"))
    ]
    plain = [p for p in copied if p.lower().endswith(".csv")]
    if plain:
        raise StageFailed("real data packs are expected zipped; found plain CSV: " + plain[0])
    dataset.inputs = {
        "years": [y.name for y in years],
        "files": [str(Path(p).relative_to(landing)) for p in copied],
        "landing_bytes": folder_bytes(landing),
    }
    run_pipeline_and_reference(bench, dataset, landing, None, zips, dagster, repeats)
    ingest = dataset.find("ingest proms")
    if ingest:
        dataset.inputs["records"] = ingest.detail["rows_by_table"].get("proms_records", 0)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- reporting -----------------------------------------------------------------------------


def breakdown(stage: StageRun) -> list[tuple[str, float]]:
    """Where a stage's own time went, where the stage reports it."""
    if stage.label.startswith("validate") and stage.detail.get("seconds"):
        parts = stage.detail["seconds"]
        named = [
            ("GX start-up", parts.get("gx_start_up", 0.0)),
            ("GX suites", parts.get("gx_suites", 0.0)),
            ("derived check columns", parts.get("derived_checks", 0.0)),
            ("split valid / quarantine", parts.get("split", 0.0)),
            ("cast to schema", parts.get("cast", 0.0)),
        ]
        rest = stage.in_process_s - sum(s for _, s in named)
        return [(n, s) for n, s in named if s] + [("Parquet read/write, other", rest)]
    if stage.label == "dbt build" and stage.detail.get("dbt_reported_seconds") is not None:
        own = stage.detail["dbt_reported_seconds"]
        process = stage.detail.get("dbt_process_s", stage.in_process_s)
        return [
            ("models and tests (dbt's timing)", own),
            ("dbt start-up, parse, artefacts", process - own),
            ("count published rows (bench)", stage.in_process_s - process),
        ]
    if stage.label == "dagster run":
        loading = stage.detail.get("load_definitions_s", 0.0)
        steps = list(stage.detail.get("steps", {}).items())
        rest = stage.in_process_s - loading - sum(s for _, s in steps)
        return [("load definitions", loading), *steps, ("run set-up, events, other", rest)]
    return []


COLUMNS = ("stage", "wall s", "in stage s", "CPU s", "others' CPU s", "peak RSS MiB", "rows")
Row = tuple[str, ...]


def render_rows(dataset: Dataset) -> list[Row]:
    """Table rows; a heading row's first cell is in [brackets], breakdown rows start `  · `."""
    rows: list[Row] = []
    headings = {
        "setup": "setup (not part of the pipeline)",
        "pipeline": "pipeline, stage by stage",
        "dagster": "pipeline through Dagster, fresh home",
        "reference": "reference: proms_reference.sql",
        "check": "check (not timed)",
    }
    blank = ("",) * (len(COLUMNS) - 1)
    for group, heading in headings.items():
        stages = dataset.group(group)
        if not stages:
            continue
        rows.append((f"[{heading}]", *blank))
        for s in stages:
            label = s.label + (" *" if s.disturbed else "")
            if len(s.detail.get("repeats_wall_s", [])) > 1:
                label += f" (median of {len(s.detail['repeats_wall_s'])})"
            rows.append(
                (
                    label,
                    f"{s.wall_s:.1f}",
                    f"{s.in_process_s:.1f}",
                    f"{s.cpu_s:.1f}",
                    "" if s.others_cpu_s is None else f"{s.others_cpu_s:.1f}",
                    f"{s.peak_rss_mib:.0f}",
                    f"{s.rows:,} {s.unit}",
                )
            )
            for name, seconds in breakdown(s):
                rows.append((f"  · {name}", "", f"{seconds:.1f}", *blank[2:]))
    return rows


def summary_rows(dataset: Dataset) -> list[tuple[str, str]]:
    s = dataset.summary()
    rows: list[tuple[str, str]] = []
    if "pipeline_stages_wall_s" in s:
        rows.append(
            (
                "pipeline, sum of stages",
                f"{s['pipeline_stages_wall_s']:.1f} s wall "
                f"({s['pipeline_stages_in_process_s']:.1f} s in stage, "
                f"{s['pipeline_stages_cpu_s']:.1f} CPU s), "
                f"peak {s['pipeline_stages_peak_rss_mib']:.0f} MiB",
            )
        )
    if "dagster_wall_s" in s:
        rows.append(
            (
                "pipeline through Dagster",
                f"{s['dagster_wall_s']:.1f} s ({s['dagster_cpu_s']:.1f} CPU s), "
                f"peak {s['dagster_peak_rss_mib']:.0f} MiB",
            )
        )
    if "reference_wall_s" in s:
        total = f"{s['reference_sql_wall_s']:.1f} s"
        if s["unzip_wall_s"]:
            total += f" + unzip {s['unzip_wall_s']:.1f} s = {s['reference_wall_s']:.1f} s"
        rows.append(
            (
                "reference SQL",
                f"{total} ({s['reference_cpu_s']:.1f} CPU s), "
                f"peak {s['reference_peak_rss_mib']:.0f} MiB",
            )
        )
    if "ratio_stages_to_reference" in s:
        rows.append(("ratio, stages ÷ reference", f"{s['ratio_stages_to_reference']:.1f}×"))
    if "ratio_dagster_to_reference" in s:
        rows.append(
            (
                "ratio, Dagster run ÷ reference",
                f"{s['ratio_dagster_to_reference']:.1f}× wall, "
                f"{s['ratio_dagster_cpu_to_reference_cpu']:.1f}× CPU",
            )
        )
    if "others_cpu_s" in s:
        share = s["others_cpu_s"] / (s["timed_wall_s"] * (os.cpu_count() or 1))
        rows.append(
            (
                "other processes meanwhile",
                f"{s['others_cpu_s']:.1f} CPU s over {s['timed_wall_s']:.1f} s "
                f"({share:.0%} of the machine)",
            )
        )
    disturbed = [x.label for x in dataset.stages if x.disturbed]
    if disturbed:
        rows.append(
            (
                "* disturbed",
                f"other processes took over {BUSY_SHARE:.0%} of the machine during: "
                f"{', '.join(disturbed)}; those times are inflated",
            )
        )
    dagster = dataset.find("dagster run")
    if dagster:
        failed = dagster.detail.get("failed_checks") or []
        rows.append(("Dagster checks not passed", "; ".join(failed) if failed else "none"))
    if "agreement" in s:
        a = s["agreement"]
        verdict = (
            "all agree"
            if not a["differing_values"] and not a["unmatched_rows"]
            else (
                f"{a['differing_values']:,} values differ, {a['unmatched_rows']:,} rows unmatched"
            )
        )
        rows.append(
            (
                "pipeline and reference figures",
                f"{a['rows']:,} rows x {a['figures']} figures compared: {verdict} "
                f"(numbers within {a['tolerance']:g})",
            )
        )
    if "pipeline_outcome_rows" in s and "reference_outcome_rows" in s:
        rows.append(
            (
                "provider outcome rows",
                f"pipeline {s['pipeline_outcome_rows']:,}, "
                f"reference {s['reference_outcome_rows']:,}",
            )
        )
    return rows


def print_dataset(dataset: Dataset) -> None:
    console.rule(f"[bold]{dataset.name}[/bold]: {dataset.description}")
    if dataset.note:
        console.print(f"[yellow]{dataset.note}[/yellow]")
    if dataset.stages:
        table = Table(show_edge=False, header_style="bold")
        for number, column in enumerate(COLUMNS):
            table.add_column(column, justify="right" if number else "left")
        for row in render_rows(dataset):
            style = "bold cyan" if row[0].startswith("[") else None
            cells = (row[0].strip("[]"), *row[1:]) if style else row
            table.add_row(*cells, style=style)
        console.print(table)
        summary = Table(show_header=False, show_edge=False)
        summary.add_column(style="bold")
        summary.add_column()
        for name, value in summary_rows(dataset):
            summary.add_row(name, value)
        console.print(summary)
    if dataset.error:
        console.print(f"[red]{dataset.error}[/red]")


def markdown(datasets: list[Dataset], meta: dict[str, Any]) -> str:
    lines = [
        f"# Benchmark {meta['started']}",
        "",
        f"Machine: {meta['machine']}",
        "",
        f"Source: {meta['source']}",
        "",
    ]
    for dataset in datasets:
        lines += [f"## {dataset.name}", "", dataset.description, ""]
        if dataset.note:
            lines += [dataset.note, ""]
        if dataset.stages:
            lines += [
                "| " + " | ".join(COLUMNS) + " |",
                "|---" + "|--:" * (len(COLUMNS) - 1) + "|",
            ]
            for row in render_rows(dataset):
                name = f"**{row[0].strip('[]')}**" if row[0].startswith("[") else row[0]
                lines.append("| " + " | ".join((name, *row[1:])) + " |")
            lines += ["", "| | |", "|---|---|"]
            lines += [f"| {a} | {b} |" for a, b in summary_rows(dataset)]
            lines.append("")
        if dataset.error:
            lines += ["```", dataset.error, "```", ""]
    return "\n".join(lines)


def source_state() -> dict[str, Any]:
    """The commit measured and any uncommitted changes to what the pipeline runs."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "dagster_project", "dbt", "expectations", "seeds")
    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "uncommitted": [line[3:] for line in changed.splitlines()],
    }


def machine() -> dict[str, Any]:
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-synthetic", action="store_true", help="do not run synthetic data")
    parser.add_argument("--skip-real", action="store_true", help="do not run the real data packs")
    parser.add_argument("--providers", type=int, default=250, help="synthetic providers")
    parser.add_argument(
        "--records-per-year",
        type=int,
        default=100_000,
        help="synthetic records a year, hip and knee together (approximate)",
    )
    parser.add_argument("--years", default=DEFAULT_YEARS, help="synthetic years, comma-separated")
    parser.add_argument("--seed", type=int, default=1, help="synthetic seed")
    parser.add_argument(
        "--real-data", type=Path, default=REAL_DATA, help="folder of real year folders"
    )
    parser.add_argument(
        "--no-dagster",
        dest="dagster",
        action="store_false",
        help="skip the whole-pipeline run through Dagster",
    )
    parser.add_argument(
        "--reference-repeats",
        type=int,
        default=3,
        help="runs of the reference SQL; the median one is reported",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now().astimezone()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    bench = Bench(work)
    info = machine()
    source = source_state()
    dirty = f", uncommitted: {', '.join(source['uncommitted'])}" if source["uncommitted"] else ""
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "machine": f"{info['cpus']} CPUs, {info['memory']}, {info['platform']}, "
        f"Python {info['python']}",
        "source": f"commit {source['commit']}{dirty}",
    }
    console.print(f"Benchmark work folder: {work}; measuring {meta['source']}")
    plans: list[tuple[Dataset, Callable[[Dataset], None]]] = []
    if not args.skip_synthetic:
        years = synthetic_years(args)
        described = (
            f"synthetic PROMs: {args.providers} providers, about {args.records_per_year:,} "
            f"records a year (hip and knee), {len(years)} year(s) {', '.join(years)}, "
            f"seed {args.seed}"
        )
        plans.append((Dataset("synthetic", described), lambda d: synthetic(bench, d, args)))
    if not args.skip_real:
        described = f"NHS Digital PROMs data packs in {args.real_data}"
        plans.append(
            (
                Dataset("real", described),
                lambda d: real(bench, d, args.real_data, args.dagster, args.reference_repeats),
            )
        )
    datasets = [dataset for dataset, _ in plans]
    try:
        for dataset, plan in plans:
            try:
                plan(dataset)
            except StageFailed as exc:
                dataset.error = str(exc)
            print_dataset(dataset)
    finally:
        if args.keep:
            console.print(f"Work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    finished = datetime.now().astimezone()
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%S")
    document = {
        **meta,
        "finished": finished.isoformat(timespec="seconds"),
        "machine": info,
        "source": source,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "datasets": [{**asdict(d), "summary": d.summary()} for d in datasets],
    }
    json_path = RESULTS_DIR / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    md_path = json_path.with_suffix(".md")
    md_path.write_text(markdown(datasets, meta) + "\n", encoding="utf-8")
    console.print(f"Results: {json_path.relative_to(REPO)} and {md_path.name}")
    console.print(f"Total benchmark time: {(finished - started).total_seconds() / 60:.1f} min")
    return 1 if any(d.error for d in datasets) else 0


if __name__ == "__main__":
    sys.exit(main())
