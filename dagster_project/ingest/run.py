"""The one loop that turns a feed's landing folder into parsed files.

Each feed (dagster_project/feeds) says how to recognise its files from their
header and how to parse them; the loop around them is the same for every feed.
Parsed frames go to `raw/_incoming/<table>/`, one Parquet per source file named
by its checksum, with a manifest beside them that the validation stage reads.

Files no feed reads (at the top of landing, or in a folder that is no feed's) are
listed in `raw/_landing/_ignored.parquet`, beside the rows validation writes there
for each feed's files, so the publication's `landing_history` shows them too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.feeds.catalogue import FEEDS, TABLES
from dagster_project.feeds.spec import Feed
from dagster_project.home import Home
from dagster_project.ingest import arrivals, reference, supersession
from dagster_project.ingest.landing import (
    LandingCsv,
    LandingFileError,
    Stated,
    ZipLimits,
    csvs_in,
    ignored_in,
    iter_landing_csvs,
    link_or_file_sha256,
    stated_issue,
)
from dagster_project.storage import write_parquet_atomically, write_parquet_batches_atomically

# Landing folders read by a stage other than ingest: the providers' own text (publish).
OTHER_FOLDERS = ("narratives",)


class ArrivalOrderError(Exception):
    """Two new files carry the same rows and nothing says which of them is the correction."""


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
    origins: dict[str, tuple[Path, str | None]] = {}
    limits = ZipLimits.of(home)
    for csv in iter_landing_csvs(home.landing / feed_name, limits):
        recognised = feed.recognise(csv)
        if recognised is None:
            raise LandingFileError(
                csv.source,
                f"header (line 1) not recognised as any {feed_name} file kind "
                f"(first columns: {', '.join(csv.header()[:4])})",
            )
        origins.setdefault(csv.sha256, (csv.path, csv.member))
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
    _number_new_files(home, feed, report, origins, limits)
    _note_supersession(home, feed, report)
    path = manifest_path(home, feed_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.to_json())
    note_ignored(home)
    return report


def _number_new_files(
    home: Home,
    feed: Feed,
    report: IngestReport,
    origins: dict[str, tuple[Path, str | None]],
    limits: ZipLimits,
) -> None:
    """Give the files no sensor numbered (several arrived at once) their arrival numbers.

    Where two of them carry rows for the same period they compete, and the later must be
    the correction: that is read from the files themselves (the publication or revision
    date above the data, a revision mark), then from their modification times, never from
    their names. Where nothing tells two competing files apart the run stops, naming both.
    The order of files that share no period decides nothing; they are numbered first.
    """
    register = arrivals.read_register(home)
    new: dict[str, FileEntry] = {}
    for entry in report.files:
        if entry.sha256 not in register:
            new.setdefault(entry.sha256, entry)  # the loaded one of identical files
    ranked: list[FileEntry] = []
    for table in feed.table_names:
        loaded = [e for e in new.values() if e.table == table]
        for cluster, overlaps in _competing(home, table, loaded):
            ranked += _rank(feed, table, cluster, overlaps, origins, limits)
    alone = [e for sha, e in new.items() if sha not in {r.sha256 for r in ranked}]
    arrivals.record(home, (arrivals.Delivery(feed.name, e.source, e.sha256) for e in alone))
    for entry in ranked:  # one at a time: the register numbers a batch in name order
        arrivals.record(home, [arrivals.Delivery(feed.name, entry.source, entry.sha256)])


def _competing(
    home: Home, table: str, loaded: list[FileEntry]
) -> list[tuple[list[FileEntry], dict[tuple[str, str], str]]]:
    """Groups of new files that carry rows for a period in common, each with the pairs that
    do and one such period per pair."""
    columns = TABLES[table].supersede_by
    if columns is None or len(loaded) < 2:
        return []
    by_path = {str(incoming_file(home, table, e.key)): e for e in loaded}
    con = duckdb.connect(":memory:")
    try:
        shared = con.execute(
            f"""
            select any_value(period), files from (
                select period, list(distinct filename order by filename) as files
                from (
                    select filename, {supersession._period_sql(columns)} as period
                    from read_parquet(?, filename = true, union_by_name = true)
                )
                group by period having count(distinct filename) > 1
            ) group by files
            """,
            [list(by_path)],
        ).fetchall()
    finally:
        con.close()
    overlaps: dict[tuple[str, str], str] = {}
    group = {e.sha256: e.sha256 for e in loaded}

    def root(sha: str) -> str:
        while group[sha] != sha:
            sha = group[sha]
        return sha

    for period, files in shared:
        shas = [by_path[f].sha256 for f in files]
        for i, a in enumerate(shas):
            for b in shas[i + 1 :]:
                overlaps.setdefault((a, b), period)
                overlaps.setdefault((b, a), period)
                group[root(b)] = root(a)
    clusters: dict[str, list[FileEntry]] = {}
    for entry in loaded:
        clusters.setdefault(root(entry.sha256), []).append(entry)
    return [(c, overlaps) for c in clusters.values() if len(c) > 1]


def _rank(
    feed: Feed,
    table: str,
    cluster: list[FileEntry],
    overlaps: dict[tuple[str, str], str],
    origins: dict[str, tuple[Path, str | None]],
    limits: ZipLimits,
) -> list[FileEntry]:
    """Competing files, earliest first: by the date they state if every one states one, then
    by a revision mark, then by modification time."""
    stated = {e.sha256: stated_issue(_landing_csv(*origins[e.sha256], limits)) for e in cluster}
    dated = all(s.date is not None for s in stated.values())
    modified = {e.sha256: origins[e.sha256][0].lstat().st_mtime_ns for e in cluster}

    def key(entry: FileEntry) -> tuple:
        said = stated[entry.sha256]
        return ((said.date,) if dated else ()) + (said.revised, modified[entry.sha256])

    ranked = sorted(cluster, key=lambda e: (key(e), e.sha256))
    for i, a in enumerate(ranked):
        for b in ranked[i + 1 :]:
            if key(a) == key(b) and (a.sha256, b.sha256) in overlaps:
                raise ArrivalOrderError(_cannot_tell(feed, table, a, b, overlaps, stated))
    return ranked


def _cannot_tell(
    feed: Feed,
    table: str,
    a: FileEntry,
    b: FileEntry,
    overlaps: dict[tuple[str, str], str],
    stated: dict[str, Stated],
) -> str:
    said = stated[a.sha256]
    columns = " and ".join(TABLES[table].supersede_by or ()) or "the whole register"
    period = overlaps[(a.sha256, b.sha256)].replace("|", " / ")
    first, second = sorted((a.source, b.source))
    return (
        f"{first} and {second} (landing/{feed.name}/) both carry {table} rows for "
        f"{columns} {period}".rstrip()
        + ", and nothing tells which is the correction: they state the same issue date "
        f"({said.date or 'none'}) and revision mark ({'revised' if said.revised else 'none'}) "
        "and were last modified at the same moment. Take out the one that is not current, "
        "or give the correction a later modification time (touch it), and run again."
    )


def _landing_csv(path: Path, member: str | None, limits: ZipLimits) -> LandingCsv:
    if member is None:
        return LandingCsv(path, None)
    return next(csv for csv in csvs_in(path, limits) if csv.member == member)


def _note_supersession(home: Home, feed: Feed, report: IngestReport) -> None:
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


# The columns of validation's row per landing file (`raw/_landing/`), and two more that let
# a file's checksum be kept while its size and modification time are unchanged.
_IGNORED_COLUMNS = {
    "feed": "string",
    "table_name": "string",
    "source_file": "string",
    "sha256": "string",
    "file_kind": "string",
    "arrival_order": "Int64",
    "status": "string",
    "rows_in": "Int64",
    "rows_loaded": "Int64",
    "records_quarantined": "Int64",
    "rows_superseded": "Int64",
    "superseded_by": "string",
    "note": "string",
    "size_bytes": "Int64",
    "modified_ns": "Int64",
}
NO_FEED = "(none)"


def ignored_file(home: Home) -> Path:
    return home.raw / "_landing" / "_ignored.parquet"


def note_ignored(home: Home) -> list[tuple[str, str]]:
    """List what no feed reads in landing, with why; return (file, why) for each."""
    path = ignored_file(home)
    cached: dict[tuple[str, int, int], str] = {}
    if path.exists():
        before = pd.read_parquet(path)
        cached = {
            (r.source_file, int(r.size_bytes), int(r.modified_ns)): r.sha256
            for r in before.itertuples()
        }
    rows = []
    for found in ignored_in(home.landing, [*FEEDS, *OTHER_FOLDERS]):
        stat = found.path.lstat()
        known = cached.get((found.source, stat.st_size, stat.st_mtime_ns))
        rows.append(
            {
                "feed": NO_FEED,
                "source_file": found.source,
                "sha256": known or link_or_file_sha256(found.path),
                "status": "ignored",
                "rows_in": 0,
                "rows_loaded": 0,
                "records_quarantined": 0,
                "rows_superseded": 0,
                "note": found.note,
                "size_bytes": stat.st_size,
                "modified_ns": stat.st_mtime_ns,
            }
        )
    frame = pd.DataFrame(rows, columns=list(_IGNORED_COLUMNS)).astype(_IGNORED_COLUMNS)
    write_parquet_atomically(frame, path)
    return [(r["source_file"], r["note"]) for r in rows]


def read_ignored(home: Home) -> list[tuple[str, str]]:
    """(file, why) for each file the last ingest found that no feed reads."""
    path = ignored_file(home)
    if not path.exists():
        return []
    frame = pd.read_parquet(path, columns=["source_file", "note"])
    return list(frame.itertuples(index=False, name=None))
