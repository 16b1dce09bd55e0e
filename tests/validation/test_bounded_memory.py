"""A patient safety incident file costs a batch of memory, not the file, and every row is
still validated.

Batches are made small, so a modest file is many batches, and memory is measured with
counters rather than clocks: tracemalloc for what parsing holds in Python, Arrow's
allocation counter for the frames that validation reads, checks and writes. The cyclic
collector is switched off while validating, so the outcome does not depend on when it
happens to run: each batch must be let go by the code itself.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from dagster_project.home import Home
from dagster_project.ingest import tabular
from dagster_project.ingest.run import ingest_feed, read_manifest
from dagster_project.synth import write_incidents_file
from dagster_project.validation import run
from dagster_project.validation.run import validate_feed

BATCH = 5_000
BATCHES = 6


def incidents_home(root: Path, rows: int) -> Home:
    home = Home(root)
    path = home.landing / "incidents" / "incidents-2024-25.csv"
    write_incidents_file(path, rows, 25, "2024-25", 1)
    return home


def parse_peak(root: Path, rows: int) -> int:
    """The most Python memory held at once while parsing an incidents file into Parquet."""
    home = incidents_home(root, rows)
    tracemalloc.start()
    try:
        (entry,) = ingest_feed(home, "incidents").files
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert entry.rows == rows, "every row parsed"
    return peak


def test_parsing_holds_one_batch_whatever_the_file_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "BATCH_ROWS", BATCH)
    parse_peak(tmp_path / "warm-up", 100)  # first-use imports and caches are not the file
    one = parse_peak(tmp_path / "one", BATCH)
    many = parse_peak(tmp_path / "many", BATCH * BATCHES)
    assert many < 1.5 * one, f"{BATCHES} batches held {many / one:.1f} times one batch"


@pytest.fixture
def collector_off() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def arrow_held_per_batch(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> tuple[run.FeedValidation, list[int], int]:
    """Ingest and validate `home`'s incidents in batches of BATCH rows: the report, the
    Arrow memory in use as each batch arrives to be checked (above what was in use before
    validation began), and the largest batch's size."""
    monkeypatch.setattr(tabular, "BATCH_ROWS", BATCH)
    monkeypatch.setattr(run, "BATCH_ROWS", BATCH)
    ingest_feed(home, "incidents")
    held: list[int] = []
    sizes: list[int] = []
    checked = run.validate_file

    def counted(frame: pd.DataFrame, table: str, suite: str, register=None):
        held.append(pa.total_allocated_bytes())
        sizes.append(int(frame.memory_usage(deep=True).sum()))
        return checked(frame, table, suite, register)

    monkeypatch.setattr(run, "validate_file", counted)
    gc.collect()
    base = pa.total_allocated_bytes()  # whatever earlier tests in this process still hold
    report = validate_feed(home, "incidents")
    assert len(held) == BATCHES
    return report, [h - base for h in held], max(sizes)


def test_validation_lets_each_batch_go_before_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_off: None
) -> None:
    home = incidents_home(tmp_path, BATCH * BATCHES)
    report, held, batch = arrow_held_per_batch(home, monkeypatch)
    assert report.totals()["rows_in"] == BATCH * BATCHES, "every row validated"
    assert max(held) < 3 * batch, "a few batches at most: the one read and the reader's own"
    assert max(held[1:]) - held[1] < batch / 2, "nothing left behind from batch to batch"


def test_quarantined_rows_are_written_as_they_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_off: None
) -> None:
    """A delivery where most rows fail has as many quarantine rows as rows: they go to their
    Parquet file batch by batch too, and none is lost."""
    home = incidents_home(tmp_path, BATCH * BATCHES)
    path = home.landing / "incidents" / "incidents-2024-25.csv"
    data = path.read_bytes()
    failing = data.count(b",No harm,")
    path.write_bytes(data.replace(b",No harm,", b",Not known,"))  # not a degree of harm
    report, held, batch = arrow_held_per_batch(home, monkeypatch)

    assert report.totals()["records_quarantined"] == failing > BATCH * BATCHES / 2
    (entry,) = read_manifest(home, "incidents").files
    quarantine = pd.read_parquet(run.quarantine_file(home, "incidents", entry.key))
    assert set(quarantine["rule"]) == {"degree_of_harm_known"}
    assert len(quarantine) == failing and quarantine["row_number"].is_monotonic_increasing
    assert max(held[1:]) - held[1] < batch / 2, "quarantine rows not gathered for the file"
