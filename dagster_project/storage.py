"""Writing files other stages (and other processes) read: never half-written."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

_READ_BUFFER = 1 << 20


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write beside the target and rename over it, so a reader sees the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def write_text_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename over it. Writing in place empties the file first,
    so a kill or power cut in between leaves it empty, and the JSON a later run must read
    (a manifest, a validation record, a pointer) unreadable until someone deletes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class ParquetBatchWriter:
    """Frames written one after another into one Parquet file, which appears (by rename) only
    on `commit`: a reader sees the old file or the new, never half of one.

    The first frame fixes the schema unless `like` (an empty frame) gives it; a frame whose
    column holds only missing values, and so has no type of its own, is cast to it.
    """

    def __init__(self, path: Path, like: pd.DataFrame | None = None) -> None:
        self.path = path
        self.rows = 0
        self._tmp = path.with_suffix(".tmp")
        self._like = like
        self._writer: pq.ParquetWriter | None = None

    @property
    def started(self) -> bool:
        return self._writer is not None

    def _open(self, first: pa.Table | None) -> pq.ParquetWriter:
        if self._like is not None:
            schema = pa.Schema.from_pandas(self._like, preserve_index=False)
        elif first is not None:
            schema = first.schema
        else:
            raise ValueError(f"no batches to write to {self.path.name}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(self._tmp, schema)
        return self._writer

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = self._writer or self._open(table)
        if not table.schema.equals(writer.schema, check_metadata=False):
            table = table.cast(writer.schema)
        writer.write_table(table)
        self.rows += table.num_rows

    def commit(self) -> int:
        """Put the file in place; rows written. With nothing written, `like` gives an empty
        file of its schema."""
        writer = self._writer or self._open(None)
        writer.close()
        self._tmp.replace(self.path)
        return self.rows

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)


def write_parquet_batches_atomically(
    frames: Iterable[pd.DataFrame], path: Path, empty: pd.DataFrame | None = None
) -> int:
    """Write frames one after another into one Parquet file; rows written.

    Only one batch is in memory at a time, which is what keeps a file of
    millions of rows affordable. The first batch fixes the schema; with no
    batches at all, `empty` gives it.
    """
    writer = ParquetBatchWriter(path)
    try:
        for frame in frames:
            writer.write(frame)
            del frame  # not held while the next batch is made
    except BaseException:
        writer.discard()
        raise
    if not writer.started:
        if empty is None:
            raise ValueError(f"no batches to write to {path.name}")
        write_parquet_atomically(empty, path)
        return 0
    return writer.commit()


def iter_parquet_frames(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """A Parquet file as frames of at most `batch_rows` rows, with pandas' nullable types.

    Pages are read as they are decoded (`pre_buffer` off, a small `buffer_size`) rather
    than whole column chunks fetched ahead, and each Arrow batch is let go once converted,
    so reading holds about one batch whatever the file's size.
    """
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER) as source:
        for batch in source.iter_batches(batch_size=batch_rows):
            frame = batch.to_pandas()
            del batch
            yield frame
            del frame
