"""Writing files other stages (and other processes) read: never half-written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_parquet_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write beside the target and rename over it, so a reader sees the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
