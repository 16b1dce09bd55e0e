"""Where a step's printed output goes when `qa` runs the pipeline: to the run's log files
(which the Dagster UI shows), never back to the terminal.

Dagster's local compute log manager mirrors each step's output to the terminal through a
`tail -F` process per stream, with a watcher process to stop each tail if the run dies.
When `qa`'s output is a pipe (a scheduler, CI, `qa run | tee`), a tail left running after
`qa` exits holds that pipe open, and whatever reads it waits for ever; it happened under
load. `qa` prints its own summary of the run, so the mirror adds nothing: this manager keeps
Dagster's files and paths, and only skips the tails.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from contextlib import contextmanager

from dagster._core.execution.compute_logs import redirect_to_file
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
        with redirect_to_file(sys.stdout, out), redirect_to_file(sys.stderr, err):
            yield CapturedLogContext(log_key)
        touch_file(self.complete_artifact_path(log_key))


def compute_logs_setting(storage: str) -> dict:
    """The instance setting that uses this manager over `storage` (Dagster's own folder)."""
    return {
        "module": __name__,
        "class": FileComputeLogManager.__name__,
        "config": {"base_dir": storage},
    }
