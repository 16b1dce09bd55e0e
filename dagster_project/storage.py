"""Writing files other stages (and other processes) read: never half-written."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write beside the target and rename over it, so a reader sees the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def write_parquet_batches_atomically(
    frames: Iterable[pd.DataFrame], path: Path, empty: pd.DataFrame | None = None
) -> int:
    """Write frames one after another into one Parquet file; rows written.

    Only one batch is in memory at a time, which is what keeps a file of
    millions of rows affordable. The first batch fixes the schema; with no
    batches at all, `empty` gives it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            else:
                table = table.cast(writer.schema)
            writer.write_table(table)
            rows += len(frame)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        if empty is None:
            raise ValueError(f"no batches to write to {path.name}")
        empty.to_parquet(tmp, index=False)
    else:
        writer.close()
    tmp.replace(path)
    return rows


def iter_parquet_frames(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """A Parquet file as frames of at most `batch_rows` rows, with pandas' nullable types."""
    source = pq.ParquetFile(path)
    for batch in source.iter_batches(batch_size=batch_rows):
        yield batch.to_pandas()
