"""The `qa` command line: synthetic data, runs, the demo, dry-run validation, the quarantine
and read-only queries."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from dagster_project import __version__
from dagster_project.home import Home, resolve_home

if TYPE_CHECKING:
    from dagster_project.runner import RunOutcome
    from dagster_project.validation.dry_run import FileDryRun

DEFAULT_YEARS = "2023-24,2024-25"


def _console(quiet: bool) -> Console:
    # Never wrapped: a path or a file's name broken across lines cannot be copied.
    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


def _synth(
    landing: Path, truth: Path, providers: int | None, years: str, seed: int, national: bool = False
) -> dict:
    from dagster_project.synth import write_synthetic_region

    return write_synthetic_region(
        landing,
        truth,
        providers=providers,
        years=[y.strip() for y in years.split(",")],
        seed=seed,
        national=national,
    )


def cmd_synth(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    truth = Path(args.truth).resolve() if args.truth else out.parent / f"{out.name}-truth.json"
    summary = _synth(out, truth, args.providers, args.years, args.seed, args.national)
    console = _console(args.quiet)
    files = len(summary["files"]) + sum(f["files"] for f in summary.get("feeds", {}).values())
    console.print(f"Wrote {files} landing files for {summary['providers']} providers to {out}")
    console.print(f"What was planted (never read by the pipeline): {truth}")
    return 0


def _run(
    home: Home, console: Console, job: str = "build_everything", year: str | None = None
) -> int:
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
            elif step in tasks and kind == "STEP_UP_FOR_RETRY":
                progress.update(
                    tasks[step],
                    description=f"{step} [yellow]waiting: a DuckDB file is locked by another "
                    "process[/]",
                )
            elif step in tasks and kind == "STEP_RESTARTED":
                progress.update(tasks[step], description=f"{step} … (trying again)")

        outcome = run_pipeline(home, on_event=on_event, job_name=job, year=year)
    return _report(console, outcome, home)


def _say(console: Console, *parts: str | tuple[str, str]) -> None:
    """Print text as it is, with (text, style) parts coloured: messages quote file names and
    headers, where `[/]` or `:x:` would otherwise be read as rich markup or an emoji."""
    console.print(Text.assemble(*parts), soft_wrap=True)


def _report(console: Console, outcome: RunOutcome, home: Home) -> int:
    """The run summary: what was retried, checks that failed, files no feed reads, and the
    failures (each naming its asset, file and problem) or where the outputs are."""
    for retried in outcome.retried:
        _say(console, ("Retried: ", "yellow"), retried)
    for check in outcome.failed_checks:
        _say(console, ("Check failed: ", "yellow"), check)
    for ignored in outcome.ignored:
        _say(console, ("Ignored in landing: ", "yellow"), ignored)
    if not outcome.success:
        for failure in outcome.failures:
            _say(console, ("Failed: ", "red"), failure)
        if outcome.skipped:
            console.print(f"Not run because of the failure: {', '.join(outcome.skipped)}")
        publish_ran = "published__quality_duckdb" not in outcome.skipped and not any(
            f.startswith(("published__quality_duckdb", "published/quality_duckdb"))
            for f in outcome.failures
        )
        if not publish_ran:
            console.print(f"The previous publication (if any) is untouched: {home.published_db}")
        console.print(f"Run {outcome.run_id} is in the Dagster UI (make dev).")
        return 1
    console.print("[green]Published.[/]")
    console.print(f"  Warehouse for observatories: {home.published_db}")
    console.print(f"  Parquet: {home.published / 'parquet'}")
    console.print(f"  Quality Accounts: {home.site / 'index.html'}")
    console.print(f"  Data dictionary: {home.site / 'docs' / 'index.html'}")
    console.print(f"  Quarantine: {home.quarantine}")
    print(home.site / "index.html")
    return 0


def _financial_year(text: str) -> str:
    from dagster_project.partitions import is_financial_year

    if not is_financial_year(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a financial year like 2024-25")
    return text


def cmd_run(args: argparse.Namespace) -> int:
    home = resolve_home(args.home, args.landing).ensure()
    return _run(home, _console(args.quiet), args.job, args.year)


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


def _non_negative(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a finite number of 0 or more (0 turning a limit off)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = -1
        if not (value >= 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of 0 or more")
        return value

    return parse


QUERY_TIMED_OUT = 3  # exit status of a query stopped at its time limit
QUERY_FAILED = 4  # exit status of a query DuckDB ran and could not answer (2: refused)
# The defaults of `qa query`, as in dagster_project.publish.observatories.query (not
# imported here, so that `qa --help` does not load DuckDB).
DEFAULT_QUERY_ROWS = 1000
DEFAULT_QUERY_SECONDS = 30.0


def _query_format(fmt: str | None, output: str | None) -> tuple[str, str | None]:
    """The format to use, or a reason the options do not go together."""
    if output is None:
        if fmt == "parquet":
            return fmt, "--format parquet writes a file: give it with --output FILE"
        return fmt or "table", None
    if fmt is None:
        fmt = {".csv": "csv", ".parquet": "parquet"}.get(Path(output).suffix.lower())
        if fmt is None:
            return "", "--output needs --format csv or --format parquet"
    if fmt not in ("csv", "parquet"):
        return fmt, f"--output writes csv or parquet, not {fmt}"
    return fmt, None


def cmd_query(args: argparse.Namespace) -> int:
    """0: done; 2: refused (not one SELECT of the publication, an unknown region) or nothing
    to query; 3: stopped at the time limit; 4: the query ran and failed (an unknown column)."""
    import duckdb
    from rich.markup import escape

    from dagster_project.publish.observatories.query import (
        QueryOutputError,
        QueryRefused,
        QueryTimedOut,
        export_query,
        format_result,
        run_query,
    )

    home = resolve_home(args.home)
    console = _console(False)
    fmt, problem = _query_format(args.format, args.output)
    if problem:
        console.print(f"[red]{escape(problem)}[/]")
        return 2
    timeout = args.timeout or None
    try:
        if args.output:
            written = export_query(
                home.published_db,
                args.sql,
                Path(args.output),
                fmt,
                region=args.region,
                timeout=timeout,
            )
        else:
            result = run_query(
                home.published_db,
                args.sql,
                region=args.region,
                timeout=timeout,
                max_rows=args.max_rows or None,
            )
    except QueryTimedOut as exc:
        console.print(
            f"[red]{escape(str(exc))}.[/] Narrow the query, or allow it longer with "
            "--timeout SECONDS (0 for no limit).",
            soft_wrap=True,
        )
        return QUERY_TIMED_OUT
    except (QueryRefused, QueryOutputError, FileNotFoundError) as exc:
        console.print(f"[red]{escape(str(exc))}[/]", soft_wrap=True)
        return 2
    except duckdb.Error as exc:
        console.print(f"[red]The query failed:[/] {escape(str(exc))}", soft_wrap=True)
        return QUERY_FAILED
    if args.output:
        console.print(f"Wrote {written} row{'' if written == 1 else 's'} to {escape(args.output)}")
        return 0
    text = format_result(result, fmt)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    if result.more_rows:
        console.print(
            f"Showing the first {len(result.rows)} rows; {result.more_rows} more were not "
            "shown. --max-rows N shows more (0 for all); --output FILE writes every row.",
            soft_wrap=True,
        )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """0: nothing would be quarantined; 1: rows would be; 2: the file cannot be read."""
    from dagster_project.validation.dry_run import DryRunError, dry_run

    try:
        outcomes = dry_run(Path(args.file), args.feed)
    except DryRunError as exc:
        _say(_console(False), ("Cannot validate ", "red"), str(exc))
        return 2
    lines = [line for outcome in outcomes for line in _dry_run_lines(outcome)]
    lines.append("Nothing was written: this was a dry run.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if any(o.quarantine_entries for o in outcomes) else 0


def _dry_run_lines(outcome: FileDryRun) -> list[str]:
    """Per rule: how many, why, what would happen, and the first rows to look at."""
    kind = f"feed {outcome.feed}, file kind {outcome.kind}"
    if outcome.table is None:
        return [f"{outcome.source}: {kind}", f"  Not loaded by a run: {outcome.note}"]
    lines = [
        f"{outcome.source}: {kind}, table {outcome.table}, suite {outcome.suite}",
        f"  {outcome.rows_in} rows read, {outcome.rows_valid} would load; "
        f"{outcome.records_quarantined} records would be quarantined whole "
        f"({outcome.quarantined_share:.1%}, limit {outcome.max_quarantine_share:.0%}); "
        f"{outcome.quarantine_entries} quarantine entries in all.",
    ]
    if outcome.blocking:
        lines.append("  Over the limit: the run would stop before the warehouse is built.")
    if not outcome.rules:
        lines.append("  Nothing would be quarantined.")
    for findings in outcome.rules.values():
        lines.append(
            f"  Rule {findings.rule}: {findings.count} ({findings.action}). {findings.reason}"
        )
        rows = [("file", "line", "column", "value")] + [
            (
                e.source_file,
                str(e.row_number),
                e.column_name or "",
                "(blank)" if e.value is None else repr(e.value),
            )
            for e in findings.examples
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [cell.rjust(w) if i == 1 else cell.ljust(w) for i, (cell, w) in
                     enumerate(zip(row, widths, strict=True))]  # fmt: skip
            lines.append(("    " + "  ".join(cells)).rstrip())
        if findings.count > len(findings.examples):
            lines.append(f"    ... and {findings.count - len(findings.examples)} more")
    return lines


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from dagster_project.feeds.catalogue import FEEDS
    from dagster_project.publish.observatories.query import format_result
    from dagster_project.validation.held import held_summary

    home = resolve_home(args.home)
    console = _console(False)
    tables: set[str] | None = None
    if args.feed:
        if args.feed not in FEEDS:
            console.print(f"[red]Unknown feed {args.feed!r}[/]; the feeds are {', '.join(FEEDS)}")
            return 2
        tables = set(FEEDS[args.feed].table_names)
    elif args.table:
        known = sorted({t for feed in FEEDS.values() for t in feed.table_names})
        if args.table not in known:
            console.print(
                f"[red]Unknown table {args.table!r}[/]; the tables are {', '.join(known)}"
            )
            return 2
        tables = {args.table}
    result = held_summary(home, tables)
    if not result.rows and args.format == "table":
        which = f" for {args.feed or args.table}" if tables else ""
        print(f"Nothing is held in quarantine{which} ({home.quarantine}).")
        return 0
    text = format_result(result, args.format)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_narrative_template(args: argparse.Namespace) -> int:
    """Write a pre-filled narrative file for a provider and year into landing/narratives/."""
    from dagster_project.publish.document.narrative_template import (
        NarrativeTemplateError,
        write_return_template,
        write_template,
    )

    home = resolve_home(args.home)
    console = _console(False)
    try:
        path = write_template(home, args.provider, args.year, force=args.force)
    except NarrativeTemplateError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    returned = write_return_template(home, args.provider, args.year, force=args.force)
    console.print(f"Wrote {path}: fill in each section, then run `qa run` again.")
    if returned is None:
        console.print("The provider's return for the year is already in landing; kept as it is.")
    else:
        console.print(f"Wrote {returned}: give each item's value, then run `qa run` again.")
    print(path)
    if returned is not None:
        print(returned)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the home's site/ folder, and nothing else, on this machine until interrupted."""
    from dagster_project.publish.portal.serve import make_server

    home = resolve_home(args.home)
    console = _console(False)
    try:
        server = make_server(home.site, args.port)
    except (FileNotFoundError, OSError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    host, port = server.server_address[:2]
    console.print(f"Serving {home.site} at http://{host}:{port}/ (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _add_document_commands(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the site folder locally, for browsing")
    serve.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    serve.set_defaults(func=cmd_serve)

    template = sub.add_parser(
        "narrative-template",
        help="write a pre-filled narrative file (landing/narratives/) for a provider and year",
    )
    template.add_argument("provider", help="ODS code, e.g. RCF")
    template.add_argument("year", help="financial year, e.g. 2024-25")
    template.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    template.add_argument("--force", action="store_true", help="replace an existing file")
    template.set_defaults(func=cmd_narrative_template)


_EXAMPLES = """\
examples:
  qa demo                                   the synthetic region, end to end
  qa run --home ./qa_home                   everything new in ./qa_home/landing
  qa validate "Hip Replacement Provider 2324.csv"   what its suite would quarantine
  qa query "select * from core_indicators limit 5"
  qa narrative-template RXX 2024-25         the narrative and return to fill in
  qa serve                                  browse the site at http://localhost:8000

Each command has its own help: qa COMMAND --help.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="NHS Quality Accounts pipeline: ingest, validate, publish.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXAMPLES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    synth.add_argument("--providers", type=int, help="default 24, or 250 with --national")
    synth.add_argument("--years", default=DEFAULT_YEARS, help="e.g. 2023-24,2024-25")
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument(
        "--national",
        action="store_true",
        help="national scale: about 250 providers and millions of incidents a year",
    )
    synth.set_defaults(func=cmd_synth)

    run = sub.add_parser(
        "run", parents=[quiet], help="run every asset once over the landing folder"
    )
    run.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    run.add_argument("--landing", help="landing folder (default <home>/landing)")
    run.add_argument(
        "--job",
        default="build_everything",
        choices=[
            "build_everything",
            "build_without_pdfs",
            "build_publication",
            "build_warehouse",
            "quality_accounts",
            "republish",
        ],
        help="which job (default every stage; build_without_pdfs skips printing the PDFs; "
        "quality_accounts renders and prints the documents from the current publication; "
        "republish publishes the warehouse as it stands)",
    )
    run.add_argument(
        "--year",
        type=_financial_year,
        help="render and print the Quality Accounts of this financial year only (e.g. "
        "2024-25); the stages before them run whole",
    )
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
        description="Run one SELECT against the publication and show the first rows, or write "
        "every row to a file with --output. Exit status: 0 done, 2 refused (not one SELECT, "
        f"an unknown region), {QUERY_TIMED_OUT} stopped at the time limit, {QUERY_FAILED} "
        "the query ran and failed.",
    )
    query.add_argument("sql", help="one SELECT over the published tables")
    query.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    query.add_argument(
        "--region",
        help="see every table through this region's rows, e.g. Y60 (so ranks and totals are the "
        "region's own); the result must include region_code",
    )
    query.add_argument(
        "--format",
        choices=("table", "csv", "json", "parquet"),
        help="table (the default on screen), csv or json; with --output, csv or parquet "
        "(default from the file's extension)",
    )
    query.add_argument(
        "--output",
        metavar="FILE",
        help="write every row to FILE as csv or parquet, streamed, with no row limit",
    )
    query.add_argument(
        "--max-rows",
        type=_non_negative(int),
        default=DEFAULT_QUERY_ROWS,
        metavar="N",
        help=f"rows shown on screen, the rest counted (default {DEFAULT_QUERY_ROWS}; 0 shows all)",
    )
    query.add_argument(
        "--timeout",
        type=_non_negative(float),
        default=DEFAULT_QUERY_SECONDS,
        metavar="SECONDS",
        help=f"stop the query after this long (default {DEFAULT_QUERY_SECONDS:g}; 0 for no "
        f"limit); exit status {QUERY_TIMED_OUT}",
    )
    query.set_defaults(func=cmd_query)

    validate = sub.add_parser(
        "validate",
        help="dry-run one landing file through its feed's parser and suite; writes nothing",
        description="Recognise FILE by trying every feed, parse it and run its Great "
        "Expectations suite, then print what would be quarantined (per rule: count, reason "
        "and the first rows). Nothing is written to the home. Exit status: 0 nothing would "
        "be quarantined, 1 rows would be, 2 the file cannot be read or recognised.",
    )
    validate.add_argument(
        "file", help="a .csv, .zip, .xlsx, .xlsm or .ods file as the publisher ships it"
    )
    validate.add_argument("--feed", help="the feed to read it as, when several feeds recognise it")
    validate.set_defaults(func=cmd_validate)

    quarantine = sub.add_parser("quarantine", help="what the home's quarantine holds, and why")
    quarantine_sub = quarantine.add_subparsers(dest="quarantine_command", required=True)
    held = quarantine_sub.add_parser(
        "list",
        help="rows held per table, source file and rule, with the reason and action",
    )
    held.add_argument("--home", help="home folder (default $QA_HOME or ./qa_home)")
    which = held.add_mutually_exclusive_group()
    which.add_argument("--feed", help="only this feed's tables, e.g. proms")
    which.add_argument("--table", help="only this table, e.g. proms_records")
    held.add_argument("--format", choices=("table", "csv", "json"), default="table")
    held.set_defaults(func=cmd_quarantine_list)
    _add_document_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # --quiet may come before or after the subcommand
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
