"""The `qa` command line: synthetic data, one-shot runs, the demo and read-only queries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from dagster_project.home import Home, resolve_home

DEFAULT_YEARS = "2023-24,2024-25"


def _console(quiet: bool) -> Console:
    return Console(stderr=True, quiet=quiet, highlight=False)


def _synth(landing: Path, truth: Path, providers: int, years: str, seed: int) -> dict:
    from dagster_project.synth import write_synthetic_region

    return write_synthetic_region(
        landing, truth, providers=providers, years=[y.strip() for y in years.split(",")], seed=seed
    )


def cmd_synth(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    truth = Path(args.truth).resolve() if args.truth else out.parent / f"{out.name}-truth.json"
    summary = _synth(out, truth, args.providers, args.years, args.seed)
    console = _console(args.quiet)
    console.print(f"Wrote {len(summary['files'])} landing files to {out}")
    console.print(f"What was planted (never read by the pipeline): {truth}")
    return 0


def _run(home: Home, console: Console) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from dagster_project.runner import run_pipeline

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        tasks: dict[str, int] = {}

        def on_event(kind: str, step: str) -> None:
            if kind == "STEP_START":
                tasks[step] = progress.add_task(f"{step} …", total=None)
            elif step in tasks and kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                mark = "[green]done[/]" if kind == "STEP_SUCCESS" else "[red]failed[/]"
                progress.update(tasks[step], description=f"{step} {mark}", total=1, completed=1)

        outcome = run_pipeline(home, on_event=on_event)
    for check in outcome.failed_checks:
        console.print(f"[yellow]Check failed:[/] {check}")
    if not outcome.success:
        for failure in outcome.failures:
            console.print(f"[red]Failed:[/] {failure}")
        if outcome.skipped:
            console.print(f"Not run because of the failure: {', '.join(outcome.skipped)}")
        publish_ran = "published__quality_duckdb" not in outcome.skipped and not any(
            f.startswith("published__quality_duckdb") for f in outcome.failures
        )
        if not publish_ran:
            console.print(f"The previous publication (if any) is untouched: {home.published_db}")
        console.print(f"Run {outcome.run_id} is in the Dagster UI (make dev).")
        return 1
    console.print("[green]Published.[/]")
    console.print(f"  Warehouse for observatories: {home.published_db}")
    console.print(f"  Parquet: {home.published / 'parquet'}")
    console.print(f"  Quality Accounts: {home.site / 'index.html'}")
    console.print(f"  Quarantine: {home.quarantine}")
    print(home.site / "index.html")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    home = resolve_home(args.home, args.landing).ensure()
    return _run(home, _console(args.quiet))


def cmd_demo(args: argparse.Namespace) -> int:
    home = resolve_home(args.home).ensure()
    console = _console(args.quiet)
    truth = home.root / "synthetic-truth.json"
    summary = _synth(home.landing, truth, args.providers, args.years, args.seed)
    console.print(
        f"Synthetic region: {summary['providers']} providers, {summary['records']} PROMs records "
        f"in {home.landing}"
    )
    return _run(home, console)


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_project.publish.query import QueryRefused, format_result, run_query

    home = resolve_home(args.home)
    console = _console(False)
    try:
        result = run_query(home.published_db, args.sql, region=args.region)
    except QueryRefused as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    except FileNotFoundError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    except duckdb.Error as exc:
        console.print(f"[red]The query failed:[/] {exc}")
        return 2
    text = format_result(result, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="NHS Quality Accounts pipeline: ingest, validate, publish."
    )
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS,
        help="no progress: print only errors and the final path",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress: for scripts")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser(
        "synth", parents=[quiet], help="write synthetic landing files in the published layouts"
    )
    synth.add_argument("--out", required=True, help="landing folder to write into")
    synth.add_argument("--truth", help="where to write what was planted (default: beside --out)")
    synth.add_argument("--providers", type=int, default=24)
    synth.add_argument("--years", default=DEFAULT_YEARS, help="e.g. 2023-24,2024-25")
    synth.add_argument("--seed", type=int, default=1)
    synth.set_defaults(func=cmd_synth)

    run = sub.add_parser(
        "run", parents=[quiet], help="run every asset once over the landing folder"
    )
    run.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    run.add_argument("--landing", help="landing folder (default <home>/landing)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo", parents=[quiet], help="synthetic region into the home's landing folder, then run"
    )
    demo.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    demo.add_argument("--providers", type=int, default=24)
    demo.add_argument("--years", default=DEFAULT_YEARS)
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo)

    query = sub.add_parser(
        "query",
        help="read-only SQL against the published warehouse (writes and file access refused)",
    )
    query.add_argument("sql", help="one SELECT over the published tables")
    query.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    query.add_argument("--region", help="only rows of this region_code, e.g. Y60")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(func=cmd_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # --quiet may come before or after the subcommand
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
