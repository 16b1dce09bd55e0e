"""The one loop that turns a feed's landing folder into parsed files.

Each feed (dagster_project/feeds) says how to recognise its files from their
header and how to parse them; the loop around them is the same for every feed.
Parsed frames go to `raw/_incoming/<table>/`, one Parquet per source file named
by its checksum, with a manifest beside them that the validation stage reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from dagster_project.feeds.catalogue import FEEDS
from dagster_project.feeds.spec import Feed
from dagster_project.home import Home
from dagster_project.ingest import arrivals, reference, supersession
from dagster_project.ingest.landing import LandingCsv, LandingFileError, iter_landing_csvs
from dagster_project.storage import write_parquet_atomically, write_parquet_batches_atomically


@dataclass
class FileEntry:
    source: str
    sha256: str
    kind: str
    table: str | None
    rows: int = 0
    note: str = ""
    key: str = ""
    arrival: int = 0
    rows_superseded: int = 0
    superseded_by: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    feed: str
    files: list[FileEntry] = field(default_factory=list)

    @property
    def rows_by_table(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for entry in self.files:
            if entry.table:
                totals[entry.table] = totals.get(entry.table, 0) + entry.rows
        return totals

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


def manifest_path(home: Home, feed: str) -> Path:
    return home.incoming / f"{feed}.manifest.json"


def read_manifest(home: Home, feed: str) -> IngestReport:
    path = manifest_path(home, feed)
    if not path.exists():
        return IngestReport(feed)
    data = json.loads(path.read_text())
    return IngestReport(data["feed"], [FileEntry(**f) for f in data["files"]])


def incoming_file(home: Home, table: str, key: str) -> Path:
    return home.incoming / table / f"{key}.parquet"


@cache
def _parser_fingerprint() -> str:
    """Changes whenever an ingest module, a feed's declaration or a seed a parser reads does,
    so an edited parser re-parses every file."""
    digest = hashlib.sha256()
    declarations = Path(__file__).parents[1] / "feeds"
    seeds = [reference.SEEDS_DIR / name for name in reference.SEEDS_READ]
    for path in [
        *sorted([*Path(__file__).parent.glob("*.py"), *declarations.glob("*.py")]),
        *seeds,
    ]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def file_key(csv: LandingCsv) -> str:
    """What a parsed file depends on: its bytes, its name (years and publications are read
    from names) and the parser's code."""
    digest = hashlib.sha256(f"{csv.sha256}\0{csv.source}\0{_parser_fingerprint()}".encode())
    return digest.hexdigest()[:16]


def ingest_feed(home: Home, feed_name: str) -> IngestReport:
    """Parse every file in `landing/<feed>/`; fail on the first file that cannot be read.

    A file already parsed (same checksum) is not parsed again. Parsed files
    whose source has left the landing folder are removed, so the incoming
    folder always mirrors what is in landing. Files are then ranked by arrival
    and each file's rows that a later file replaces are noted (supersession.py).
    """
    feed = FEEDS[feed_name]
    report = IngestReport(feed_name)
    # What the parse of a file noted (lines skipped) goes with its parsed file, kept or not.
    noted = {e.key: e.note for e in read_manifest(home, feed_name).files if e.table}
    keep: set[Path] = set()
    seen: set[str] = set()
    for csv in iter_landing_csvs(home.landing / feed_name):
        recognised = feed.recognise(csv)
        if recognised is None:
            raise LandingFileError(
                csv.source,
                f"header not recognised as any {feed_name} file kind "
                f"(first columns: {', '.join(csv.header()[:4])})",
            )
        entry = FileEntry(
            csv.source,
            csv.sha256,
            recognised.kind,
            recognised.table,
            key=file_key(csv),
        )
        if recognised.table is None:
            entry.note = recognised.note
            report.files.append(entry)
            continue
        if csv.sha256 in seen:
            entry.table, entry.note = None, "same content as another file in landing: loaded once"
            report.files.append(entry)
            continue
        seen.add(csv.sha256)
        target = incoming_file(home, recognised.table, entry.key)
        if target.exists():
            entry.rows = _parquet_rows(target)
            entry.note = noted.get(entry.key, "")
        else:
            parsed = feed.parse(csv, recognised)
            if isinstance(parsed, pd.DataFrame):
                entry.rows = len(parsed)
                write_parquet_atomically(parsed, target)
            else:
                entry.rows = write_parquet_batches_atomically(parsed, target)
                entry.note = parsed.counts.describe()
        keep.add(target)
        report.files.append(entry)
    for table in feed.table_names:
        folder = home.incoming / table
        for stale in folder.glob("*.parquet") if folder.exists() else []:
            if stale not in keep:
                stale.unlink()
    _note_supersession(home, feed, report)
    path = manifest_path(home, feed_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.to_json())
    return report


def _note_supersession(home: Home, feed: Feed, report: IngestReport) -> None:
    # Files no sensor saw arrived with this run: numbered now, in name order.
    arrivals.record(home, (arrivals.Delivery(feed.name, f.source, f.sha256) for f in report.files))
    register = arrivals.read_register(home)
    for entry in report.files:
        entry.arrival = register[entry.sha256].order
    for table in feed.table_names:
        loaded = [e for e in report.files if e.table == table]
        versions = [
            supersession.Version(
                e.key, e.source, e.sha256, e.arrival, incoming_file(home, table, e.key)
            )
            for e in loaded
        ]
        decided = supersession.decide(home, table, versions)
        for entry in loaded:
            if entry.key in decided:
                entry.rows_superseded = decided[entry.key].rows
                entry.superseded_by = list(decided[entry.key].by)


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows
