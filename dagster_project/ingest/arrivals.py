"""The order in which deliveries reached landing: the register supersession is decided by.

A publisher who re-issues a file (a corrected month, a revised survey) sends a
file with new bytes but often the same name, and the two may sit side by side
in landing. Which one is current cannot be read from names or timestamps
(copies and restores change those), so the landing sensor writes down each new
checksum the first time it sees one, with a running number. Ingest asks the
same register, and a file no sensor has seen yet (a manual run) is written
down then, in name order. The register is append-only: a checksum keeps the
number it was first given, so a file delivered again is not "newer".
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.home import Home


@dataclass(frozen=True)
class Delivery:
    """One data file found in landing: a plain file or one CSV in a zip."""

    feed: str
    source: str
    sha256: str


@dataclass(frozen=True)
class Arrival:
    order: int
    feed: str
    source: str
    sha256: str
    first_seen: str


def register_path(home: Home) -> Path:
    return home.root / "arrivals.json"


@contextmanager
def _locked(home: Home) -> Iterator[None]:
    """Sensor ticks and runs may both write; one at a time."""
    lock = home.root / ".arrivals.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> dict[str, Arrival]:
    if not path.exists():
        return {}
    entries = json.loads(path.read_text())
    return {e["sha256"]: Arrival(**e) for e in entries}


def read_register(home: Home) -> dict[str, Arrival]:
    """Every checksum ever seen in landing, with its arrival number."""
    return _read(register_path(home))


def record(home: Home, deliveries: Iterable[Delivery]) -> list[Arrival]:
    """Write down the deliveries not seen before, in name order; return just those."""
    path = register_path(home)
    with _locked(home):
        known = _read(path)
        fresh: list[Arrival] = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for delivery in sorted(deliveries, key=lambda d: (d.feed, d.source, d.sha256)):
            if delivery.sha256 in known:
                continue
            arrival = Arrival(len(known) + 1, delivery.feed, delivery.source, delivery.sha256, now)
            known[delivery.sha256] = arrival
            fresh.append(arrival)
        if fresh:
            tmp = path.with_suffix(".tmp")
            ordered = sorted(known.values(), key=lambda a: a.order)
            tmp.write_text(json.dumps([asdict(a) for a in ordered], indent=1))
            os.replace(tmp, path)
    return fresh
