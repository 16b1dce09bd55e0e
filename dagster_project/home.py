"""The one folder every stage reads from and writes to.

Keeping landing files, raw Parquet, quarantine, the warehouse, the publication,
the site and Dagster's own state under one root means `make dev` shows the runs
the command line started, and a newcomer can delete one folder to start again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "qa_home"
HOME_ENV = "QA_HOME"
LANDING_ENV = "QA_LANDING"
KEEP_PUBLICATIONS_ENV = "QA_KEEP_PUBLICATIONS"
# Parquet publications kept: the one CURRENT names and those before it. At least two, so
# the publication a reader found through CURRENT just before it moved is still there.
DEFAULT_KEEP_PUBLICATIONS = 5
MIN_KEEP_PUBLICATIONS = 2
# How far one delivered zip may unpack: its CSVs together, in MB, and bytes out per byte in.
# Publishers' CSVs pack 3 to 10 times; a zip bomb packs about a thousand times.
ZIP_MAX_MB_ENV = "QA_ZIP_MAX_MB"
ZIP_MAX_RATIO_ENV = "QA_ZIP_MAX_RATIO"
DEFAULT_ZIP_MAX_MB = 2048
DEFAULT_ZIP_MAX_RATIO = 100


# No telemetry; freshness policies shown in the UI; and one run at a time from the queue
# (schedules, the sensor, backfills and the UI's launches), because dbt's warehouse and the
# publication each have a single writer and colliding runs would only wait on each other's
# locks. Runs from `qa run` execute in their own process and take the publisher's lock.
INSTANCE_SETTINGS = """\
telemetry:
  enabled: false
freshness:
  enabled: true
concurrency:
  runs:
    max_concurrent_runs: 1
"""


@dataclass(frozen=True)
class Home:
    root: Path
    landing_dir: Path | None = None
    keep_publications: int = DEFAULT_KEEP_PUBLICATIONS
    zip_max_mb: int = DEFAULT_ZIP_MAX_MB
    zip_max_ratio: int = DEFAULT_ZIP_MAX_RATIO

    def __post_init__(self) -> None:
        if (
            isinstance(self.keep_publications, bool)
            or not isinstance(self.keep_publications, int)
            or self.keep_publications < MIN_KEEP_PUBLICATIONS
        ):
            raise ValueError(
                f"publications to keep must be a whole number of at least "
                f"{MIN_KEEP_PUBLICATIONS} (the one being replaced may still be read), "
                f"not {self.keep_publications!r}"
            )

    @property
    def landing(self) -> Path:
        """Where feeds are delivered: `<home>/landing` unless `qa run --landing` names another."""
        return self.landing_dir or self.root / "landing"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def incoming(self) -> Path:
        """Parsed but not yet validated files: the hand-over from ingest to validation."""
        return self.root / "raw" / "_incoming"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse_db(self) -> Path:
        return self.warehouse / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        return self.published / "quality.duckdb"

    @property
    def site(self) -> Path:
        return self.root / "site"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> Home:
        """Create the folders, and Dagster's settings on first use (no telemetry)."""
        for folder in (
            self.landing,
            self.raw,
            self.incoming,
            self.quarantine,
            self.warehouse,
            self.published,
            self.site,
            self.dagster,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        settings = self.dagster / "dagster.yaml"
        if not settings.exists():
            settings.write_text(INSTANCE_SETTINGS)
        return self


def resolve_home(
    path: str | os.PathLike[str] | None = None,
    landing: str | os.PathLike[str] | None = None,
    keep_publications: int | None = None,
) -> Home:
    """The home named on the command line, else $QA_HOME, else ./qa_home, made absolute; the
    zip limits from $QA_ZIP_MAX_MB and $QA_ZIP_MAX_RATIO when set; the Parquet publications
    to keep as given, else $QA_KEEP_PUBLICATIONS, else 5."""
    chosen = path or os.environ.get(HOME_ENV) or DEFAULT_HOME
    landing = landing or os.environ.get(LANDING_ENV) or None
    return Home(
        Path(chosen).expanduser().resolve(),
        Path(landing).expanduser().resolve() if landing else None,
        zip_max_mb=_positive(ZIP_MAX_MB_ENV, DEFAULT_ZIP_MAX_MB),
        zip_max_ratio=_positive(ZIP_MAX_RATIO_ENV, DEFAULT_ZIP_MAX_RATIO),
        keep_publications=_keep_from_environment()
        if keep_publications is None
        else keep_publications,
    )


def _positive(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"${name} must be a whole number above 0, not {text!r}")
    return int(text)


def _keep_from_environment() -> int:
    text = os.environ.get(KEEP_PUBLICATIONS_ENV, "").strip()
    if not text:
        return DEFAULT_KEEP_PUBLICATIONS
    if not text.isdigit() or int(text) < MIN_KEEP_PUBLICATIONS:
        raise ValueError(
            f"${KEEP_PUBLICATIONS_ENV} must be a whole number of at least "
            f"{MIN_KEEP_PUBLICATIONS}, not {text!r}"
        )
    return int(text)
