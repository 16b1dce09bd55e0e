"""Retrying what is worth retrying: a DuckDB file that another process has locked.

DuckDB lets one process write a file, or several read it, never both at once. A
data engineer with the warehouse open in the DuckDB CLI, or a scheduled run
starting while a manual one is finishing, holds that lock for a while and then
lets go, so a step that meets it waits and tries again, with longer pauses each
time. Nothing else is retried: an unreadable landing file, a row that breaks a
rule, a failed dbt test or a broken suite gives the same answer however often it
is asked, so it is reported at once. That is why no job carries a blanket
`RetryPolicy` (which would retry every exception): the steps that touch DuckDB
inspect the exception and ask for a retry only for a lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource

# Waits of 2, 6, 14, 30 and 62 seconds: about two minutes in all before the run gives up.
LOCK_RETRY = dg.RetryPolicy(max_retries=5, delay=2, backoff=dg.Backoff.EXPONENTIAL)

# What DuckDB says, in every client, when another process holds the file's lock.
_LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock is held")


def is_lock_conflict(error: BaseException) -> bool:
    """Whether `error`, or anything that caused it, is DuckDB refusing a file another process
    holds. dbt's failures carry DuckDB's message in their description, not their type."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        text = f"{exc} {getattr(exc, 'description', '') or ''}"
        if any(message in text for message in _LOCK_MESSAGES):
            return True
        stack.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
    return False


def lock_retry(retry_number: int, error: BaseException) -> dg.RetryRequested:
    """Dagster's request to run the step again after the policy's pause for this attempt."""
    request = dg.RetryRequested(
        max_retries=LOCK_RETRY.max_retries,
        seconds_to_wait=LOCK_RETRY.calculate_delay(retry_number + 1),
    )
    request.__cause__ = error
    return request


@contextmanager
def retry_when_locked(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> Iterator[None]:
    """Turn a DuckDB lock conflict inside the block into a retry; let anything else fail."""
    try:
        yield
    except dg.RetryRequested:
        raise
    except Exception as exc:
        if not is_lock_conflict(exc):
            raise
        request = lock_retry(context.retry_number, exc)
        context.log.warning(
            f"A DuckDB file is locked by another process; trying again in "
            f"{request.seconds_to_wait:.0f} s (attempt {context.retry_number + 1} of "
            f"{LOCK_RETRY.max_retries + 1}): {exc}"
        )
        raise request from exc


class _LockAwareInvocation(DbtCliInvocation):
    """A dbt command whose failure on a locked warehouse asks Dagster for a retry."""

    def get_error(self) -> Exception | None:
        error = super().get_error()
        if error is None or self.context is None or not is_lock_conflict(error):
            return error
        request = lock_retry(self.context.retry_number, error)
        self.context.log.warning(
            f"The warehouse is locked by another process; dbt will try again in "
            f"{request.seconds_to_wait:.0f} s (attempt {self.context.retry_number + 1} of "
            f"{LOCK_RETRY.max_retries + 1})."
        )
        return request


class LockRetryingDbtCliResource(DbtCliResource):
    """dbt as Dagster runs it, except that a warehouse locked by another process is retried.

    The dbt asset streams `dbt build` through this resource, so the retry lives
    here rather than in the asset: every dbt command any asset runs gets it.
    """

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        invocation = super().cli(args, **kwargs)
        init = {f.name: getattr(invocation, f.name) for f in fields(invocation) if f.init}
        return _LockAwareInvocation(**init)
