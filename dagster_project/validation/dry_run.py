"""Dry-running one landing file: what validation would quarantine, with nothing written.

Before a file goes into landing, a data engineer wants to know whether it will
load and what its suite would set aside. This takes the file down exactly the
path a run takes (the landing reader, every feed's recogniser in `FEEDS`, that
feed's parser, the parsed rows through Parquet in the same batches, and
`validate_file` with the file kind's suite) but keeps the outcome in memory.
Nothing is written to the home: the scratch Parquet goes to a temporary folder
that is removed afterwards. A feed added to `FEEDS` (dagster_project/feeds) is
dry-run the same way with no change here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.feeds.spec import Feed, Recognised
from dagster_project.ingest.landing import LandingCsv, LandingFileError, iter_landing_csvs
from dagster_project.storage import iter_parquet_frames, write_parquet_batches_atomically
from dagster_project.validation.run import BATCH_ROWS, validate_file
from dagster_project.validation.suites import SuiteError, load_suite

EXAMPLES_PER_RULE = 5


class DryRunError(Exception):
    """The file cannot be read, recognised or validated; the message names the file."""


@dataclass
class Example:
    """One quarantine row as a person would look it up: file, line, column and value."""

    source_file: str
    row_number: int
    column_name: str | None
    value: str | None


@dataclass
class RuleFindings:
    rule: str
    reason: str
    action: str
    count: int = 0
    examples: list[Example] = field(default_factory=list)


@dataclass
class FileDryRun:
    """What a run would do with one file (one CSV, or one member of a zip)."""

    source: str
    feed: str
    kind: str
    table: str | None
    note: str = ""
    suite: str | None = None
    rows_in: int = 0
    rows_valid: int = 0
    records_quarantined: int = 0
    quarantine_entries: int = 0
    max_quarantine_share: float = 0.0
    rules: dict[str, RuleFindings] = field(default_factory=dict)

    @property
    def quarantined_share(self) -> float:
        return self.records_quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def blocking(self) -> bool:
        """More records quarantined than the suite allows: the run would stop downstream."""
        return self.quarantined_share > self.max_quarantine_share


def dry_run(path: Path, feed_name: str | None = None) -> list[FileDryRun]:
    """Recognise, parse and validate `path` (one per CSV in a zip); DryRunError if it cannot.

    `feed_name` skips recognition by the other feeds, for a file that several
    feeds' recognisers accept (a workbook, say).
    """
    path = Path(path)
    if not path.is_file():
        raise DryRunError(f"{path}: no such file")
    if feed_name is not None and feed_name not in FEEDS:
        raise DryRunError(f"unknown feed {feed_name!r}; the feeds are {', '.join(FEEDS)}")
    with tempfile.TemporaryDirectory(prefix="qa-validate-") as scratch:
        folder = Path(scratch)
        try:
            files = list(iter_landing_csvs(_as_landing(path, folder / "landing")))
            if not files:
                raise DryRunError(
                    f"{path.name}: not a file a run would read (hidden files are skipped)"
                )
            return [
                _dry_run_one(csv, feed_name, path.parent.name, folder / f"{n}.parquet")
                for n, csv in enumerate(files)
            ]
        except LandingFileError as exc:
            raise DryRunError(f"{exc.source}: {exc.problem}") from exc
        except SuiteError as exc:
            raise DryRunError(f"{path.name}: the suite could not be run ({exc})") from exc


def _as_landing(path: Path, landing: Path) -> Path:
    """A scratch landing folder holding only `path`, read by the same reader a run uses.

    A hard link, not a symbolic one (landing refuses those), else a copy across devices.
    """
    landing.mkdir()
    link = landing / path.name
    try:
        os.link(path.resolve(), link)
    except OSError:
        shutil.copyfile(path, link)
    return landing


def _dry_run_one(
    csv: LandingCsv, feed_name: str | None, folder_name: str, scratch: Path
) -> FileDryRun:
    feed, recognised = _recognise(csv, feed_name, folder_name)
    outcome = FileDryRun(csv.source, feed.name, recognised.kind, recognised.table)
    if recognised.table is None:
        outcome.note = recognised.note or "recognised, and skipped by a run"
        return outcome
    try:
        suite_name = feed.suite_for(recognised.kind)
    except KeyError as exc:
        raise DryRunError(
            f"{csv.source}: no validation suite for file kind {recognised.kind}"
        ) from exc
    suite = load_suite(suite_name)
    outcome.suite = suite_name
    outcome.max_quarantine_share = suite.max_quarantine_share
    parsed = feed.parse(csv, recognised)
    frames = [parsed] if isinstance(parsed, pd.DataFrame) else parsed
    # Through Parquet in the run's batches, so the suite sees the types a run gives it.
    write_parquet_batches_atomically(_nonempty(frames), scratch, empty=pd.DataFrame())
    for frame in iter_parquet_frames(scratch, BATCH_ROWS):
        typed, quarantine, result, _ = validate_file(frame, recognised.table, suite_name)
        outcome.rows_in += result.rows_in
        outcome.rows_valid += len(typed)
        outcome.records_quarantined += result.records_quarantined
        outcome.quarantine_entries += len(quarantine)
        _add_findings(outcome.rules, quarantine)
    outcome.rules = dict(sorted(outcome.rules.items()))
    return outcome


def _nonempty(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    return (frame for frame in frames if len(frame))


def _recognise(csv: LandingCsv, feed_name: str | None, folder_name: str) -> tuple[Feed, Recognised]:
    """The feed whose recogniser accepts the file, trying every feed a run knows."""
    candidates = [FEEDS[feed_name]] if feed_name else list(FEEDS.values())
    found: list[tuple[Feed, Recognised]] = []
    problems: list[LandingFileError] = []
    for feed in candidates:
        try:
            recognised = feed.recognise(csv)
        except LandingFileError as exc:
            problems.append(exc)
            continue
        if recognised is not None:
            found.append((feed, recognised))
    if len(found) > 1:
        # In landing/<feed>/ a run only asks that feed, so its folder settles it.
        in_folder = [pair for pair in found if pair[0].name == folder_name]
        if in_folder:
            return in_folder[0]
        names = ", ".join(feed.name for feed, _ in found)
        raise DryRunError(
            f"{csv.source}: recognised by several feeds ({names}); name one with --feed"
        )
    if found:
        return found[0]
    if problems:
        raise problems[0]
    which = f"the {feed_name} feed's" if feed_name else "any feed's"
    raise DryRunError(
        f"{csv.source}: header not recognised as {which} file kind "
        f"(first columns: {', '.join(csv.header()[:4])})"
    )


def _add_findings(rules: dict[str, RuleFindings], quarantine: pd.DataFrame) -> None:
    for row in quarantine.itertuples(index=False):
        findings = rules.setdefault(row.rule, RuleFindings(row.rule, row.reason, row.action))
        findings.count += 1
        if len(findings.examples) < EXAMPLES_PER_RULE:
            findings.examples.append(
                Example(
                    row.source_file,
                    int(row.row_number),
                    None if pd.isna(row.column_name) else str(row.column_name),
                    None if pd.isna(row.value) else str(row.value),
                )
            )
