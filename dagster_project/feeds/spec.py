"""What a feed is: its tables, how its files are recognised and parsed, and what each table
promises (typed columns, suite per file kind, derived checks, supersession key, the
organisation code it carries).

These are plain declarations, read by every stage: ingest (recognise, parse, supersede),
validation (suites, checks, types), the Dagster assets (one per feed, freshness) and the dbt
project (`_sources.yml` and the data-quality model's table list are generated from them, and
a test fails when they drift). Adding a feed is one `Feed` in `catalogue.py`, its parser in
`ingest/`, its suite in `expectations/` and its staging model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from dagster_project.ingest.landing import LandingCsv

# Every parsed row carries where it came from, ahead of its own columns.
STAMP_TYPES: dict[str, str] = {
    "source_file": "string",
    "sha256": "string",
    "load_id": "string",
    "row_number": "Int64",
    "file_kind": "string",
}
# Measures a suite set aside for a row are blanked and named here.
SET_ASIDE = "set_aside"


@dataclass(frozen=True)
class Recognised:
    """A landing file's kind, the table it loads into (None: skipped, with `note`)."""

    kind: str
    table: str | None
    note: str = ""


@dataclass(frozen=True)
class Table:
    """One raw table: what validation promises dbt, and how its rows are judged.

    `columns` are the table's own columns in order with their types after validation
    (`string`, `Int16`, `Int64`, `Float64`, `boolean`); the stamp comes before them and
    `set_aside` after. `suites` maps each file kind loading into the table to its
    Great Expectations suite. `supersede_by` names the columns that say what a row is
    for (a later delivery with the same values replaces it); None leaves supersession to
    the publisher's own rule in staging.
    """

    name: str
    description: str
    columns: Mapping[str, str]
    suites: Mapping[str, str]
    code_column: str
    supersede_by: tuple[str, ...] | None
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    @property
    def schema(self) -> dict[str, str]:
        return {**STAMP_TYPES, **self.columns, SET_ASIDE: "string"}

    @property
    def delivered(self) -> list[str]:
        """The columns a quarantined or superseded row is kept with, as delivered."""
        return list(self.columns)


@dataclass(frozen=True)
class Feed:
    """One landing folder: the publisher's files of one kind of data.

    `monthly` feeds are published every month and carry a freshness policy.
    """

    name: str
    description: str
    tables: tuple[Table, ...]
    recognise: Callable[[LandingCsv], Recognised | None]
    parse: Callable[[LandingCsv, Recognised], Any]
    monthly: bool = False

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def suite_for(self, kind: str) -> str:
        for table in self.tables:
            if kind in table.suites:
                return table.suites[kind]
        raise KeyError(f"feed {self.name} has no suite for file kind {kind!r}")
