"""The annex's provenance: which files, checksums and pipeline version every figure came
from, and the date the data runs to, so a reader can trace any number back.

A publication has hundreds of input files, and every provider's document printed all of
them with their checksums (five pages of hexadecimal). The document prints one line per
feed (its files and a fingerprint of their checksums); the whole list is on screen, folded
away, and in the CSV beside the document.

Deliberately no wall-clock time: the publication id's timestamp is left out and
only its fingerprint of the input files is shown, so the same inputs give the
same document whenever it is rendered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from itertools import groupby

from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import Cell, Column, DataTable
from dagster_project.publish.names import readable_table

MONTHS_END = "31 March"


def fingerprint(publication: Row | None) -> str | None:
    """The part of the publication id computed from the input files' checksums alone."""
    if not publication or not publication.get("publication_id"):
        return None
    return str(publication["publication_id"]).rsplit("-", 1)[-1]


def input_files(publication: Row | None) -> list[dict[str, str]]:
    if not publication or publication.get("input_files") is None:
        return []
    files = publication["input_files"]
    if isinstance(files, str):
        files = json.loads(files)
    return sorted(
        ({k: str(v) for k, v in f.items()} for f in files),
        key=lambda f: (f.get("table", ""), f.get("source_file", ""), f.get("sha256", "")),
    )


def as_of(years: Iterable[str]) -> str | None:
    """The end of the latest financial year any published figure covers."""
    latest = max(years, default=None)
    return None if latest is None else f"{MONTHS_END} {int(latest[:4]) + 1}"


def inputs_table(publication: Row | None) -> DataTable | None:
    """Every input file with its full checksum, grouped by raw table in the HTML (printed
    small and compact: a publication has hundreds); the CSV has one row per file."""
    files = input_files(publication)
    if not files:
        return None
    return DataTable(
        name="provenance-input-files",
        caption=(
            "Source files behind this publication, by the data they hold, with their "
            "SHA-256 checksums"
        ),
        columns=(Column("Source file"), Column("Data"), Column("SHA-256 checksum")),
        rows=tuple(
            (
                Cell(f.get("source_file", "")),
                Cell(readable_table(f.get("table", "")), value=f.get("table", "")),
                Cell(f.get("sha256", "")),
            )
            for f in files
        ),
        group=1,
        group_noun="file",
        css="compact checksums",
    )


def sources_table(publication: Row | None) -> DataTable | None:
    """One row per kind of data: how many files, and a fingerprint of their checksums that
    changes whenever any of them does (the first 16 hex digits of the SHA-256 of their
    checksums in order)."""
    files = input_files(publication)
    if not files:
        return None
    rows = []
    for table, group in groupby(files, key=lambda f: f.get("table", "")):
        members = list(group)
        digest = hashlib.sha256(
            "\n".join(f.get("sha256", "") for f in members).encode("ascii")
        ).hexdigest()[:16]
        rows.append(
            (
                Cell(readable_table(table), value=table),
                Cell(f"{len(members):,}", value=str(len(members))),
                Cell(digest),
            )
        )
    return DataTable(
        name="provenance-sources",
        caption=(
            f"Source files behind this publication, by the data they hold: {len(files):,} "
            "files; each one with its SHA-256 checksum is in provenance-input-files.csv"
        ),
        columns=(Column("Data"), Column("Files", numeric=True), Column("Fingerprint")),
        rows=tuple(rows),
        css="compact",
    )
