"""Where a step's printed output goes when `qa` runs the pipeline: to the run's log files
(which the Dagster UI shows), never back to the terminal.

Dagster's local compute log manager mirrors each step's output to the terminal through a
`tail -F` process per stream, with a watcher process to stop each tail if the run dies.
When `qa`'s output is a pipe (a scheduler, CI, `qa run | tee`), a tail left running after
`qa` exits holds that pipe open, and whatever reads it waits for ever; it happened under
load. This manager keeps Dagster's files and paths and copies what a step prints into them
as it goes, in the process, leaving the streams where they were (the run's log file for
stdout, the terminal for stderr): no process to leave behind.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from typing import TextIO

from dagster._core.storage.compute_log_manager import CapturedLogContext, ComputeIOType
from dagster._core.storage.local_compute_log_manager import (
    IO_TYPE_EXTENSION,
    LocalComputeLogManager,
)
from dagster._utils import ensure_file, touch_file


class FileComputeLogManager(LocalComputeLogManager):
    """Dagster's local manager, writing each step's output to its files only."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> FileComputeLogManager:  # noqa: ANN001
        # The parent names itself here rather than `cls`.
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Generator[CapturedLogContext, None, None]:
        out = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDOUT])
        err = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDERR])
        ensure_file(out)
        ensure_file(err)
        saved = sys.stdout, sys.stderr
        with (
            open(out, "a", encoding="utf-8", buffering=1) as out_file,
            open(err, "a", encoding="utf-8", buffering=1) as err_file,
        ):
            sys.stdout, sys.stderr = _Copy(saved[0], out_file), _Copy(saved[1], err_file)
            try:
                yield CapturedLogContext(log_key)
            finally:
                sys.stdout, sys.stderr = saved
        touch_file(self.complete_artifact_path(log_key))


class _Copy(io.TextIOBase):
    """A stream that writes to where it was and to a step's file."""

    def __init__(self, stream: TextIO, copy: TextIO) -> None:
        self._stream, self._copy = stream, copy

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._copy.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()
        self._copy.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return False


def compute_logs_setting(storage: str) -> dict:
    """The instance setting that uses this manager over `storage` (Dagster's own folder)."""
    return {
        "module": __name__,
        "class": FileComputeLogManager.__name__,
        "config": {"base_dir": storage},
    }
