"""Publishing the warehouse's `published` schema as a file observatories can read at any time.

DuckDB allows one writer or many readers, never both. So the publication is a
separate file, built under a temporary name beside the live one and renamed
into place: a reader holding the old file keeps reading it, a new reader gets
the new one whole, and nothing waits on a lock. The same tables go to Parquet
in a folder per publication, with a pointer file switched the same way.

A run killed at any moment leaves the previous publication as it was: the new
file and Parquet folder carry temporary names until they are complete, and the
next publish clears what a killed one left behind. Publishers take turns (a
lock file beside the publication), so that clearing never touches a publish in
progress. Readers never take that lock.

Parquet folders would otherwise pile up, one a publication, so once the pointer
has moved only the newest `Home.keep_publications` are kept (5 unless set, and
never fewer than 2, so the one a reader found through CURRENT just before it
moved is still there), and never the one CURRENT names. An old folder is first
renamed to a temporary name and then deleted, so a killed prune leaves no
half-deleted publication under its own name, only debris the next publish clears.

Crash tests need to stop a run at an exact moment of publishing, too brief to
catch by watching the folder: set QA_FAULT_PAUSE_PUBLISH to `writing` (the new
file is half-written) or `renaming` (everything is written, nothing renamed)
and the publish step says so (on stderr, or in the file QA_FAULT_PAUSE_NOTE names: a
step's stderr is its Dagster log file) and waits there to be killed. Nothing else reads
these variables; unset, they do nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project import __version__
from dagster_project.home import Home
from dagster_project.publish.observatories.dictionary import (
    parquet_metadata,
    published_docs,
    write_comments,
)
from dagster_project.storage import write_text_atomically

PUBLISHED_SCHEMA = "published"
FAULT_PAUSE_ENV = "QA_FAULT_PAUSE_PUBLISH"  # crash tests only: see the module docstring
FAULT_NOTE_ENV = "QA_FAULT_PAUSE_NOTE"  # where the pause is said, for the same tests
# A publication's name: when it was published (UTC, so names sort by time) and its inputs.
PUBLICATION_NAME = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{12}")


@dataclass(frozen=True)
class Publication:
    publication_id: str
    path: Path
    parquet_dir: Path
    row_counts: dict[str, int]
    pruned: tuple[str, ...] = ()  # older Parquet publications deleted by this one


def _published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = 'wh' and table_schema = ? and table_type = 'BASE TABLE' "
        "order by table_name",
        [PUBLISHED_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _input_files(home: Home) -> list[dict[str, str]]:
    """Every source file behind the publication, from the validation sidecars."""
    files = []
    for sidecar in sorted(home.raw.glob("*/*.json")):
        if sidecar.parent.name.startswith("_"):
            continue
        data = json.loads(sidecar.read_text())
        files.append(
            {"table": data["table"], "source_file": data["source"], "sha256": data["sha256"]}
        )
    return sorted(files, key=lambda f: (f["table"], f["source_file"]))


def publish(home: Home, now: datetime | None = None) -> Publication:
    """Copy the published schema into a new file and swap it in atomically."""
    if not home.warehouse_db.exists():
        raise FileNotFoundError(f"no warehouse at {home.warehouse_db}: run the transform first")
    parquet_root = home.published / "parquet"
    parquet_root.mkdir(parents=True, exist_ok=True)
    with _publishing_alone(home.published):
        _remove_leftovers(home)
        now = now or datetime.now(UTC)
        inputs = _input_files(home)
        fingerprint = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
        publication_id = f"{now:%Y%m%dT%H%M%S%fZ}-{fingerprint}"
        tmp = home.published / f".quality.duckdb.{publication_id}.tmp"
        parquet_tmp = parquet_root / f".{publication_id}.tmp"
        parquet_dir = parquet_root / publication_id
        try:
            counts = _write(home, tmp, parquet_tmp, publication_id, now, inputs)
            _pause_if_asked("renaming", tmp)
            parquet_tmp.rename(parquet_dir)
            os.replace(tmp, home.published_db)
            _sync_folder(home.published)
        except BaseException:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)
            shutil.rmtree(parquet_tmp, ignore_errors=True)
            raise
        write_text_atomically(parquet_root / "CURRENT", publication_id + "\n")
        _sync_folder(parquet_root)
        pruned = _prune(parquet_root, publication_id, home.keep_publications)
    return Publication(publication_id, home.published_db, parquet_dir, counts, pruned)


def _write(
    home: Home,
    tmp: Path,
    parquet_dir: Path,
    publication_id: str,
    now: datetime,
    inputs: list[dict[str, str]],
) -> dict[str, int]:
    """The whole publication under temporary names: the DuckDB file and its Parquet folder."""
    parquet_dir.mkdir(parents=True)
    counts: dict[str, int] = {}
    from dagster_project.transform.project import manifest  # dbt's, loaded only to publish

    docs = published_docs(manifest())
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach '{home.warehouse_db}' as wh (read_only)")
        for table in _published_tables(con):
            con.execute(
                f'create table main."{table}" as select * from wh.{PUBLISHED_SCHEMA}."{table}" '
                "order by all"
            )
            counts[table] = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
            if len(counts) == 1:
                _pause_if_asked("writing", tmp)
        con.execute("detach wh")
        con.execute(
            """
            create table publication (
                publication_id varchar, published_at timestamp with time zone,
                pipeline_version varchar, table_name varchar, row_count bigint,
                input_files json
            )
            """
        )
        for table, count in sorted(counts.items()):
            con.execute(
                "insert into publication values (?, ?, ?, ?, ?, ?)",
                [publication_id, now, __version__, table, count, json.dumps(inputs)],
            )
        for table in [*sorted(counts), "publication"]:
            write_comments(con, table, docs.get(table))
            target = parquet_dir / (table + ".parquet")
            metadata = parquet_metadata(con, table, docs.get(table))
            con.execute(f"copy main.\"{table}\" to '{target}' (format parquet{metadata})")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


@contextmanager
def _publishing_alone(folder: Path) -> Iterator[None]:
    """Hold the publishers' lock: released by the kernel even if the process is killed."""
    with (folder / ".publish.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _remove_leftovers(home: Home) -> None:
    """What a killed publish left under temporary names; never a complete publication."""
    for leftover in home.published.glob(".quality.duckdb.*.tmp*"):
        leftover.unlink(missing_ok=True)
    for leftover in (home.published / "parquet").glob(".*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)


def _prune(parquet_root: Path, current: str, keep: int) -> tuple[str, ...]:
    """Delete the Parquet publications older than the newest `keep`, never `current`.

    Only folders named as publications are touched: anything else an operator put there
    stays. Each goes out of sight by rename first, so no reader opens half of one. The new
    publication is already in place, so a folder that cannot be moved does not fail it: it
    stays, and the next publish tries again.
    """
    names = sorted(
        p.name for p in parquet_root.iterdir() if p.is_dir() and PUBLICATION_NAME.fullmatch(p.name)
    )
    pruned = []
    for name in names[: max(len(names) - keep, 0)]:
        if name == current:
            continue
        doomed = parquet_root / f".{name}.pruned.tmp"
        try:
            (parquet_root / name).rename(doomed)
        except OSError:
            continue
        shutil.rmtree(doomed, ignore_errors=True)  # what is left, the next publish clears
        pruned.append(name)
    if pruned:
        _sync_folder(parquet_root)
    return tuple(pruned)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable, so a power cut cannot bring the old name back."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pause_if_asked(point: str, tmp: Path) -> None:
    """Stop at `point` until killed, when QA_FAULT_PAUSE_PUBLISH names it (crash tests only)."""
    if os.environ.get(FAULT_PAUSE_ENV) != point:
        return
    said = f"{FAULT_PAUSE_ENV}: paused {point} {tmp.name}\n"
    note = os.environ.get(FAULT_NOTE_ENV)
    if note:
        Path(note).write_text(said, encoding="utf-8")
    else:
        stream = sys.__stderr__ or sys.stderr
        stream.write(said)
        stream.flush()
    time.sleep(600)
