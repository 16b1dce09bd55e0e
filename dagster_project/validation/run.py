"""Validating a feed: parsed files in, typed raw Parquet and quarantine Parquet out.

A file already validated with the same suite is not validated again, so a rerun
after a downstream failure costs seconds. Files are validated in batches of
rows, so a national incident file needs one batch in memory, not the file.
Every raw and quarantine folder also holds an empty file with the table's
schema, so dbt always finds the table even before the first delivery of a feed.
Rows a later delivery replaces (ingest/supersession.py) are not validated: they
go to `raw/_history/` as delivered, with the file that replaced them, and one
row per landing file goes to `raw/_landing/` saying where its rows went.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from dagster_project.feeds.catalogue import FEEDS, TABLES
from dagster_project.figures import ungroup_frame
from dagster_project.home import Home
from dagster_project.ingest.run import IngestReport, incoming_file, read_manifest
from dagster_project.ingest.supersession import period_of, superseded_file
from dagster_project.storage import (
    ParquetBatchWriter,
    iter_parquet_frames,
    write_parquet_atomically,
    write_parquet_batches_atomically,
)
from dagster_project.validation import derived
from dagster_project.validation.casting import NUMERIC_TYPES, cast, empty
from dagster_project.validation.register import (
    REGISTER_TABLE,
    Register,
    load_register,
    unknown_organisations,
)
from dagster_project.validation.split import QUARANTINE_COLUMNS, split
from dagster_project.validation.suites import (
    UNKNOWN_ORGANISATION,
    SuiteError,
    load_suite,
    run_suite,
)

BATCH_ROWS = 250_000


@dataclass
class FileValidation:
    source: str
    sha256: str
    table: str
    suite: str
    suite_hash: str
    rows_in: int
    rows_valid: int
    records_quarantined: int
    quarantine_entries: int
    max_quarantine_share: float
    by_rule: dict[str, int] = field(default_factory=dict)
    rows_superseded: int = 0
    superseded: str = ""  # digest of the periods replaced when this file was validated

    @property
    def quarantined_share(self) -> float:
        """Of the rows validated: superseded rows are not."""
        validated = self.rows_in - self.rows_superseded
        return self.records_quarantined / validated if validated else 0.0

    @property
    def blocking(self) -> bool:
        return self.quarantined_share > self.max_quarantine_share


@dataclass
class FeedValidation:
    feed: str
    files: list[FileValidation] = field(default_factory=list)
    # Codes in the ODS register the rows were judged against; None when none was delivered
    # (the organisations feed itself, or a home without an extract).
    register_codes: int | None = None

    def totals(self, table: str | None = None) -> dict[str, int]:
        files = [f for f in self.files if table is None or f.table == table]
        return {
            "rows_in": sum(f.rows_in for f in files),
            "rows_valid": sum(f.rows_valid for f in files),
            "records_quarantined": sum(f.records_quarantined for f in files),
            "quarantine_entries": sum(f.quarantine_entries for f in files),
            "rows_superseded": sum(f.rows_superseded for f in files),
        }

    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.files:
            for rule, n in f.by_rule.items():
                counts[rule] = counts.get(rule, 0) + n
        return dict(sorted(counts.items()))

    @property
    def blocking_files(self) -> list[FileValidation]:
        return [f for f in self.files if f.blocking]


def _suite_hash(path: Path, register: str = "") -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(register.encode())
    for seed in ("eq5d_uk_tto_value_set.csv", "feed_periods.csv"):  # seeds the checks read
        digest.update((derived.SEEDS_DIR / seed).read_bytes())
    return digest.hexdigest()[:16]


def raw_file(home: Home, table: str, key: str) -> Path:
    return home.raw / table / f"{key}.parquet"


def quarantine_file(home: Home, table: str, key: str) -> Path:
    return home.quarantine / table / f"{key}.parquet"


HISTORY_COLUMNS = [
    "table_name",
    "source_file",
    "sha256",
    "row_number",
    "period",
    "superseded_by_file",
    "superseded_by_sha256",
    "record",
]
LANDING_COLUMNS = {
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
}


def history_file(home: Home, table: str, key: str) -> Path:
    return home.raw / "_history" / table / f"{key}.parquet"


def landing_file(home: Home, feed: str) -> Path:
    return home.raw / "_landing" / f"{feed}.parquet"


def _history_schema() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in HISTORY_COLUMNS})
    return frame.astype({"row_number": "Int64"})


@dataclass(frozen=True)
class _Replaced:
    """The periods of one file that later deliveries replace, and by which file."""

    by_source: pd.Series  # indexed by period
    by_sha256: pd.Series
    digest: str

    @classmethod
    def load(cls, path: Path) -> _Replaced | None:
        if not path.exists():
            return None
        periods = pd.read_parquet(path).set_index("period").sort_index()
        text = periods[["by_sha256"]].to_csv()
        return cls(
            periods["by_source"], periods["by_sha256"], hashlib.sha256(text.encode()).hexdigest()
        )

    def route(self, frame: pd.DataFrame, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(rows still current, superseded rows in history's shape)."""
        period = period_of(frame, table)
        gone = period.isin(self.by_source.index).to_numpy()
        if not gone.any():
            return frame, _history_schema()
        old, period = frame[gone], period[gone]
        columns = [c for c in TABLES[table].delivered if c in old.columns]
        records = [
            json.dumps(
                {c: (None if pd.isna(v) else str(v)) for c, v in zip(columns, values, strict=True)}
            )
            for values in old[columns].itertuples(index=False, name=None)
        ]
        history = pd.DataFrame(
            {
                "table_name": table,
                "source_file": old["source_file"].astype("str"),
                "sha256": old["sha256"].astype("str"),
                "row_number": old["row_number"].astype("Int64"),
                "period": period.astype("str"),
                "superseded_by_file": period.map(self.by_source).astype("str"),
                "superseded_by_sha256": period.map(self.by_sha256).astype("str"),
                "record": records,
            }
        ).reset_index(drop=True)
        return frame[~gone], history


def _quarantine_schema() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in QUARANTINE_COLUMNS})
    return frame.astype({"row_number": "Int64"})


def ensure_empty_tables(home: Home, tables: list[str]) -> None:
    """An empty file of each table's shape, so dbt finds every table before its first file;
    and the same for the landing register, which every feed's validation writes into."""
    landing = pd.DataFrame({c: pd.Series(dtype=t) for c, t in LANDING_COLUMNS.items()})
    write_parquet_atomically(landing, home.raw / "_landing" / "_empty.parquet")
    for table in tables:
        write_parquet_atomically(empty(TABLES[table].schema), home.raw / table / "_empty.parquet")
        write_parquet_atomically(_quarantine_schema(), home.quarantine / table / "_empty.parquet")
        write_parquet_atomically(
            _history_schema(), home.raw / "_history" / table / "_empty.parquet"
        )


def validate_file(
    frame: pd.DataFrame, table: str, suite_name: str, register: Register | None = None
) -> tuple:
    """(typed valid rows, quarantine rows, split result) for one parsed file; codes are
    judged against `register` where one is given."""
    suite = load_suite(suite_name)
    spec = TABLES[table]
    # Figures with thousands separators (`1,234`) are read as numbers, in every feed.
    frame = ungroup_frame(frame, [c for c, t in spec.columns.items() if t in NUMERIC_TYPES])
    checked = spec.derive(frame) if spec.derive else frame
    if register is not None:
        checked = checked.assign(
            **{UNKNOWN_ORGANISATION: unknown_organisations(checked, table, register)}
        )
    failures = run_suite(checked, suite)
    # The checked frame, so a rule on a derived column shows what it found (the unknown code).
    result = split(checked, failures, suite, spec.delivered)
    try:
        typed = cast(result.valid, spec.schema)
    except TypeError as exc:
        source = frame["source_file"].iloc[0] if len(frame) else table
        raise SuiteError(f"{source}: {exc} (suite {suite_name})") from exc
    quarantine = result.quarantine.astype({"row_number": "Int64"})
    return typed, quarantine, result, suite


def _validated_batches(
    item: _Pending,
    suite_name: str,
    held: ParquetBatchWriter,
    old: ParquetBatchWriter,
    register: Register | None,
) -> Iterator[pd.DataFrame]:
    """Typed valid rows batch by batch; counts go to `outcome`, quarantine rows to `held`.

    Each batch is let go before the next is read. Great Expectations leaves reference
    cycles around the frame it validated, which only the cyclic collector frees, and it
    runs too seldom to keep up: unaided, a batch's worth of Arrow memory stays behind
    every batch or two, and peak memory grows with the file. So a collection follows
    every batch (a fraction of a second against seconds of validation).
    """
    outcome = item.outcome
    for frame in iter_parquet_frames(item.incoming, BATCH_ROWS):
        if item.replaced is not None:
            frame, history = item.replaced.route(frame, outcome.table)
            outcome.rows_in += len(history)
            outcome.rows_superseded += len(history)
            old.write(history)
            del history
        if frame.empty:
            continue
        typed, quarantine, result, _ = validate_file(frame, outcome.table, suite_name, register)
        del frame
        outcome.rows_in += result.rows_in
        outcome.rows_valid += len(typed)
        outcome.records_quarantined += result.records_quarantined
        outcome.quarantine_entries += len(quarantine)
        for rule, n in result.by_rule.items():
            outcome.by_rule[rule] = outcome.by_rule.get(rule, 0) + n
        held.write(quarantine)
        del quarantine, result
        gc.collect()
        yield typed
        del typed


@dataclass
class _Pending:
    """A parsed file waiting for validation, and where its results go."""

    incoming: Path
    target: Path
    held: Path
    sidecar: Path
    rows: int
    outcome: FileValidation
    history: Path
    replaced: _Replaced | None

    def write(self, typed: pd.DataFrame, quarantine: pd.DataFrame) -> None:
        write_parquet_atomically(typed, self.target)
        write_parquet_atomically(quarantine, self.held)
        self.finish()

    def finish(self) -> None:
        self.outcome.by_rule = dict(sorted(self.outcome.by_rule.items()))
        self.sidecar.write_text(json.dumps(asdict(self.outcome), indent=2, sort_keys=True))


def _validate_large(item: _Pending, suite_name: str, table: str, register: Register | None) -> None:
    """One big file, batch by batch: never more than BATCH_ROWS rows in memory.

    Quarantine rows are written as they come too, since a file with many failures has as
    many of them as rows. Their schema is fixed up front (text as `str`, as a quarantine
    written whole reads back), since a batch without failures has no types of its own.
    """
    like = _quarantine_schema()
    like = like.astype({c: "str" for c in like.columns if c != "row_number"})
    held = ParquetBatchWriter(item.held, like=like)
    old = ParquetBatchWriter(item.history, like=_history_schema())
    try:
        write_parquet_batches_atomically(
            _validated_batches(item, suite_name, held, old, register),
            item.target,
            empty=empty(TABLES[table].schema),
        )
    except BaseException:
        held.discard()
        old.discard()
        raise
    held.commit()
    if item.replaced is not None:
        old.commit()
    else:
        old.discard()
    item.finish()


def _validate_together(
    items: list[_Pending], suite_name: str, table: str, register: Register | None
) -> None:
    """Several small files in one suite run, then split back by file.

    A suite run has a fixed cost (about a second), so a feed of many small files
    (84 Friends and Family Test files a year) is validated in one pass per batch.
    Suites with rules across rows (a provider once per publication) are not
    batched: those rules hold within a file.
    """
    frames = []
    for item in items:
        frame = pd.read_parquet(item.incoming)
        if item.replaced is not None:
            frame, history = item.replaced.route(frame, table)
            item.outcome.rows_superseded = len(history)
            write_parquet_atomically(history, item.history)
        frames.append(frame)
    together = pd.concat(frames, ignore_index=True)
    if together.empty:
        typed, quarantine = empty(TABLES[table].schema), _quarantine_schema()
    else:
        typed, quarantine, _, _ = validate_file(together, table, suite_name, register)
    for item, frame in zip(items, frames, strict=True):
        sha = item.outcome.sha256
        mine = typed[typed["sha256"] == sha].reset_index(drop=True)
        held = quarantine[quarantine["sha256"] == sha].reset_index(drop=True)
        whole = held[held["action"] == "record quarantined"]
        item.outcome.rows_in = len(frame) + item.outcome.rows_superseded
        item.outcome.rows_valid = len(mine)
        item.outcome.records_quarantined = int(whole["row_number"].nunique())
        item.outcome.quarantine_entries = len(held)
        item.outcome.by_rule = {str(k): int(v) for k, v in held["rule"].value_counts().items()}
        item.write(mine, held)


def validate_feed(home: Home, feed_name: str) -> FeedValidation:
    """Validate every parsed file of a feed not yet validated with its current suite."""
    feed = FEEDS[feed_name]
    manifest = read_manifest(home, feed_name)
    report = FeedValidation(feed_name)
    ensure_empty_tables(home, list(feed.table_names))
    register = None if feed_name == REGISTER_TABLE else load_register(home)
    report.register_codes = None if register is None else len(register.dates)
    keep: set[Path] = set()
    groups: dict[tuple[str, str], list[_Pending]] = {}
    for entry in manifest.files:
        if entry.table is None:
            continue
        suite_name = feed.suite_for(entry.kind)
        suite = load_suite(suite_name)
        # A new register re-judges every file's codes.
        suite_hash = _suite_hash(suite.path, register.fingerprint if register else "")
        target = raw_file(home, entry.table, entry.key)
        held = quarantine_file(home, entry.table, entry.key)
        sidecar = target.with_suffix(".json")
        history = history_file(home, entry.table, entry.key)
        replaced = _Replaced.load(superseded_file(home, entry.table, entry.key))
        keep.update({target, held, sidecar})
        if replaced is not None:  # else any history left from an earlier decision goes
            keep.add(history)
        if target.exists() and held.exists() and sidecar.exists():
            cached = FileValidation(**json.loads(sidecar.read_text()))
            digest = replaced.digest if replaced else ""
            if cached.suite_hash == suite_hash and cached.superseded == digest:
                report.files.append(cached)
                continue
        outcome = FileValidation(
            source=entry.source,
            sha256=entry.sha256,
            table=entry.table,
            suite=suite_name,
            suite_hash=suite_hash,
            rows_in=0,
            rows_valid=0,
            records_quarantined=0,
            quarantine_entries=0,
            max_quarantine_share=suite.max_quarantine_share,
            superseded=replaced.digest if replaced else "",
        )
        incoming = incoming_file(home, entry.table, entry.key)
        item = _Pending(incoming, target, held, sidecar, entry.rows, outcome, history, replaced)
        groups.setdefault((entry.table, suite_name), []).append(item)
        report.files.append(outcome)
    for (table, suite_name), items in groups.items():
        alone = load_suite(suite_name).compares_rows  # uniqueness is within one file
        batch: list[_Pending] = []
        for item in items:
            if alone or item.rows > BATCH_ROWS // 2:
                _validate_large(item, suite_name, table, register)
                continue
            batch.append(item)
            if sum(i.rows for i in batch) >= BATCH_ROWS:
                _validate_together(batch, suite_name, table, register)
                batch = []
        if batch:
            _validate_together(batch, suite_name, table, register)
    for table in feed.table_names:
        for folder in (home.raw / table, home.quarantine / table, home.raw / "_history" / table):
            for stale in folder.glob("*"):
                if stale.name != "_empty.parquet" and stale not in keep:
                    stale.unlink()
    _write_landing(home, manifest, report)
    return report


def _write_landing(home: Home, manifest: IngestReport, report: FeedValidation) -> None:
    """Where every file in landing went: loaded, quarantined, superseded, or not loaded."""
    outcomes = {(f.sha256, f.table): f for f in report.files}
    loaded = {e.sha256 for e in manifest.files if e.table}
    rows = []
    for entry in manifest.files:
        outcome = outcomes.get((entry.sha256, entry.table)) if entry.table else None
        if outcome is None:
            status = "duplicate" if entry.sha256 in loaded else "not loaded"
        elif outcome.rows_superseded and outcome.rows_superseded == outcome.rows_in:
            status = "superseded"
        elif outcome.rows_superseded:
            status = "partly superseded"
        else:
            status = "current"
        rows.append(
            {
                "feed": manifest.feed,
                "table_name": entry.table,
                "source_file": entry.source,
                "sha256": entry.sha256,
                "file_kind": entry.kind,
                "arrival_order": entry.arrival or None,
                "status": status,
                "rows_in": outcome.rows_in if outcome else 0,
                "rows_loaded": outcome.rows_valid if outcome else 0,
                "records_quarantined": outcome.records_quarantined if outcome else 0,
                "rows_superseded": outcome.rows_superseded if outcome else 0,
                "superseded_by": "; ".join(entry.superseded_by) or None,
                "note": entry.note or None,
            }
        )
    frame = pd.DataFrame(rows, columns=list(LANDING_COLUMNS)).astype(LANDING_COLUMNS)
    write_parquet_atomically(frame, landing_file(home, manifest.feed))
