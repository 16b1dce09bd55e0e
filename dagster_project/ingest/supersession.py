"""Which rows a later delivery replaces: the latest arrival wins, period by period.

Each table names the columns that say what a row is *for* (its period, or the
record it describes: `supersede_by` in its declaration in dagster_project/feeds).
When two files in landing have rows for the same value of those columns, the
rows of the file that arrived later (by the arrival register, not by name or
time) are current and the earlier file's rows for that value are superseded:
validation moves them to `raw/_history/` instead of the raw table, so figures
count them once and the old version stays queryable. A corrected file therefore
replaces exactly the periods or records it carries, and the quarantine entries
of the rows it replaces go with them.

National publications are keyed by period alone (a re-issued month replaces
the month); provider extracts by provider and record or period, so one
provider's delivery never replaces another's. UKHSA's infection counts are
left to their publisher's own rule (a month is taken from the later
publication, in staging), since each publication repeats and revises the
previous March.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.feeds.catalogue import TABLES
from dagster_project.home import Home
from dagster_project.storage import write_parquet_atomically

_SEPARATOR = "|"


@dataclass(frozen=True)
class Version:
    """A parsed file taking part: where it is and when it arrived."""

    key: str
    source: str
    sha256: str
    arrival: int
    parsed: Path


@dataclass(frozen=True)
class Superseded:
    rows: int
    by: tuple[str, ...]  # the later files' names


def superseded_file(home: Home, table: str, key: str) -> Path:
    """The periods of one file that later files replace (absent when none are)."""
    return home.incoming / "_superseded" / table / f"{key}.parquet"


def period_of(frame: pd.DataFrame, table: str) -> pd.Series:
    """Each row's value of its table's supersession columns, as one text key."""
    columns = TABLES[table].supersede_by or ()
    key = pd.Series("", index=frame.index, dtype="object")
    for i, column in enumerate(columns):
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index)
        # Spaces only, as DuckDB's trim() in _period_sql: the two must give the same key.
        text = values.astype("string").fillna("").str.strip(" ").str.upper().astype("object")
        key = text if i == 0 else key + _SEPARATOR + text
    return key


def _period_sql(columns: tuple[str, ...]) -> str:
    if not columns:
        return "''"
    parts = [f"upper(trim(coalesce(cast({c} as varchar), '')))" for c in columns]
    return f" || '{_SEPARATOR}' || ".join(parts)


def _digest(table: str, versions: list[Version]) -> str:
    text = json.dumps([table, *[[v.key, v.arrival] for v in versions]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def decide(home: Home, table: str, versions: list[Version]) -> dict[str, Superseded]:
    """Write each losing file's superseded periods; return rows and winners per losing file.

    Decided again only when the files or their arrival order change: reading the key
    columns of a national incident file takes seconds, not worth paying every run.
    """
    folder = home.incoming / "_superseded" / table
    columns = TABLES[table].supersede_by
    digest = _digest(table, versions)
    marker = folder / "_decided.json"
    if marker.exists():
        decided = json.loads(marker.read_text())
        if decided.get("digest") == digest:
            return {k: Superseded(v["rows"], tuple(v["by"])) for k, v in decided["files"].items()}
    outcome = (
        _decide(table, columns, versions, folder)
        if columns is not None and len(versions) > 1
        else {}
    )
    for stale in folder.glob("*.parquet") if folder.exists() else []:
        if stale.stem not in outcome:
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        json.dumps(
            {
                "digest": digest,
                "files": {k: {"rows": s.rows, "by": list(s.by)} for k, s in outcome.items()},
            },
            indent=1,
        )
    )
    return outcome


def _decide(
    table: str, columns: tuple[str, ...], versions: list[Version], folder: Path
) -> dict[str, Superseded]:
    files = pd.DataFrame(
        {
            "parsed": [str(v.parsed) for v in versions],
            "file_key": [v.key for v in versions],
            "source": [v.source for v in versions],
            "sha256": [v.sha256 for v in versions],
            "arrival": [v.arrival for v in versions],
        }
    )
    con = duckdb.connect(":memory:")
    try:
        con.register("files", files)
        losing = con.execute(
            f"""
            with periods as (
                select filename as parsed, {_period_sql(columns)} as period, count(*) as rows
                from read_parquet(?, filename = true, union_by_name = true)
                group by all
            ),
            ranked as (
                select files.file_key, files.arrival, periods.period, periods.rows,
                       first_value(files.source) over latest as by_source,
                       first_value(files.sha256) over latest as by_sha256,
                       row_number() over latest as place
                from periods join files using (parsed)
                window latest as (partition by periods.period order by files.arrival desc)
            )
            select file_key, period, rows, by_source, by_sha256
            from ranked where place > 1
            order by file_key, period
            """,
            [files["parsed"].tolist()],
        ).df()
    finally:
        con.close()
    outcome: dict[str, Superseded] = {}
    for key, group in losing.groupby("file_key", sort=True):
        write_parquet_atomically(
            group[["period", "rows", "by_source", "by_sha256"]].reset_index(drop=True),
            folder / f"{key}.parquet",
        )
        outcome[str(key)] = Superseded(
            int(group["rows"].sum()), tuple(sorted(set(group["by_source"])))
        )
    return outcome
