"""Publishing the warehouse's `published` schema as a file observatories can read at any time.

DuckDB allows one writer or many readers, never both. So the publication is a
separate file, built under a temporary name beside the live one and renamed
into place: a reader holding the old file keeps reading it, a new reader gets
the new one whole, and nothing waits on a lock. The same tables go to Parquet
in a folder per publication, with a pointer file switched the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project import __version__
from dagster_project.home import Home

PUBLISHED_SCHEMA = "published"


@dataclass(frozen=True)
class Publication:
    publication_id: str
    path: Path
    parquet_dir: Path
    row_counts: dict[str, int]


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
    now = now or datetime.now(UTC)
    inputs = _input_files(home)
    fingerprint = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    publication_id = f"{now:%Y%m%dT%H%M%S%fZ}-{fingerprint}"
    home.published.mkdir(parents=True, exist_ok=True)
    tmp = home.published / f".quality.duckdb.{publication_id}.tmp"
    parquet_dir = home.published / "parquet" / publication_id
    parquet_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach '{home.warehouse_db}' as wh (read_only)")
        for table in _published_tables(con):
            con.execute(
                f'create table main."{table}" as select * from wh.{PUBLISHED_SCHEMA}."{table}" '
                "order by all"
            )
            counts[table] = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
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
            con.execute(
                f"copy main.\"{table}\" to '{parquet_dir / (table + '.parquet')}' (format parquet)"
            )
        con.execute("checkpoint")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        shutil.rmtree(parquet_dir, ignore_errors=True)
        raise
    con.close()
    os.replace(tmp, home.published_db)
    pointer = home.published / "parquet" / "CURRENT"
    pointer_tmp = pointer.with_suffix(".tmp")
    pointer_tmp.write_text(publication_id + "\n")
    os.replace(pointer_tmp, pointer)
    return Publication(publication_id, home.published_db, parquet_dir, counts)
