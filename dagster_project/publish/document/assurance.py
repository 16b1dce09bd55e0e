"""Statements of assurance the pipeline can make itself: PROMs participation, and data
quality from what validation received and quarantined.

Each statement is worded from the published figures only, and says plainly when
the figures it needs are not published.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import Cell, Column, DataTable, count, percent
from dagster_project.publish.names import readable_table

# A per-file table longer than this is left out of the printed document: the HTML keeps it
# folded away and its CSV holds it whole.
INLINE_FILES = 20
UNDATED = "not dated"

# `2024-25` (a financial year) or `2024-04` (a month) anywhere in a file's name, and the
# PROMs packs' `1718`; a lone calendar year (`staff-survey-2024.csv`) is not a financial year.
_YEAR_OR_MONTH = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?!\d)")
_SHORT_YEAR = re.compile(r"(?<!\d)(\d{2})(\d{2})(?!\d)")


@dataclass
class DataQuality:
    available: bool
    summary: str
    feeds: DataTable | None
    rules: DataTable | None
    files: DataTable | None

    @property
    def files_inline(self) -> bool:
        """Whether the per-file table is short enough to print in the document."""
        return self.files is not None and len(self.files.rows) <= INLINE_FILES


def file_year(source_file: str) -> str | None:
    """The financial year a source file's name gives, or None when it gives none.

    `CDI_2024-25.csv` and `Beds-Open-Overnight-Web_File-Q1-2024-25.xlsx` -> `2024-25`;
    `fft-ae-2024-03.csv` (March 2024) -> `2023-24`; `Hip Replacement Provider 1718.csv` ->
    `2017-18`. `shmi-2024-august.csv`, `staff-survey-2024.csv` and `etr.csv` give none, and
    neither does `2021`, which is as likely the calendar year as 2020-21.
    """
    for match in _YEAR_OR_MONTH.finditer(source_file):
        start, second = int(match.group(1)), int(match.group(2))
        if second == (start + 1) % 100:
            return f"{start}-{second:02d}"
        if 1 <= second <= 12:
            first = start if second >= 4 else start - 1
            return f"{first}-{(first + 1) % 100:02d}"
    for match in _SHORT_YEAR.finditer(source_file):
        start, end = int(match.group(1)), int(match.group(2))
        if start != 20 and end == (start + 1) % 100:
            return f"20{start:02d}-{end:02d}"
    return None


def participation_statement(rows: list[Row], england: Row | None, name: str, year: str) -> str:
    """One sentence on the national PROMs audit from PartLink's 'All Procedures' row."""
    total = next((r for r in rows if r["procedure"] == "All Procedures"), None)
    if total is None:
        return (
            f"No PROMs participation figures (PartLink) are published for {name} in {year}: "
            "either it performed no eligible hip or knee replacements or its counts are "
            "suppressed."
        )
    if total["participation_rate"] is None or total["hes_procedures"] is None:
        return (
            f"During {year} {name} took part in the national PROMs programme; its "
            "participation counts are suppressed for small numbers."
        )
    rate = percent(total["participation_rate"]).text
    england_rate = percent((england or {}).get("participation_rate")).text
    return (
        f"During {year} {name} took part in the national Patient Reported Outcome Measures "
        f"(PROMs) programme for hip and knee replacement: {total['pre_op_questionnaires']:,} "
        f"pre-operative questionnaires for {total['hes_procedures']:,} eligible procedures "
        f"recorded in Hospital Episode Statistics, a participation rate of {rate}"
        + (f" (England {england_rate})." if england_rate else ".")
    )


def _share(received: int | None, quarantined: int | None) -> float | None:
    return (quarantined or 0) / received if received else None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _files_table(totals: list[Row], name: str) -> DataTable:
    """Every source file naming the provider, all years: the detail behind the feed table."""
    return DataTable(
        name="data-quality-files",
        caption=f"Rows received and quarantined for {name}, by source file (all years)",
        columns=(
            Column("Source file"),
            Column("Feed"),
            Column("Financial year"),
            Column("Rows received", numeric=True),
            Column("Rows quarantined", numeric=True),
            Column("Share quarantined", numeric=True),
            Column("Measures set aside", numeric=True),
        ),
        rows=tuple(
            (
                Cell(r["source_file"]),
                Cell(readable_table(r["feed"]), value=r["feed"]),
                Cell(file_year(r["source_file"]) or UNDATED),
                count(r["rows_received"]),
                count(r["rows_quarantined"]),
                percent(_share(r["rows_received"], r["rows_quarantined"]), "no rows"),
                count(r["measures_set_aside"]),
            )
            for r in sorted(totals, key=lambda r: (r["feed"], r["source_file"], r["sha256"] or ""))
        ),
    )


def _feeds_table(totals: list[Row], name: str, year: str) -> DataTable:
    """The year's files (and those no year can be read from) summed per feed."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in totals:
        key = (r["feed"], year if file_year(r["source_file"]) == year else UNDATED)
        sums[key][0] += 1
        sums[key][1] += r["rows_received"] or 0
        sums[key][2] += r["rows_quarantined"] or 0
        sums[key][3] += r["measures_set_aside"] or 0
    return DataTable(
        name="data-quality-feeds",
        caption=f"Rows received and quarantined for {name} in {year}, by feed",
        columns=(
            Column("Feed"),
            Column("Files for"),
            Column("Files", numeric=True),
            Column("Rows received", numeric=True),
            Column("Rows quarantined", numeric=True),
            Column("Share quarantined", numeric=True),
            Column("Measures set aside", numeric=True),
        ),
        rows=tuple(
            (
                Cell(readable_table(feed), value=feed),
                Cell(period),
                count(files),
                count(received),
                count(quarantined),
                percent(_share(received, quarantined), "no rows"),
                count(set_aside),
            )
            for (feed, period), (files, received, quarantined, set_aside) in sorted(sums.items())
        ),
        notes=(
            f'Files for "{UNDATED}" are those whose names give no financial year (surveys '
            "named by calendar year, SHMI publications, reference data); they count in every "
            "year's statement. Every source file of every year is in the per-file table, "
            "data/data-quality-files.csv.",
        ),
    )


def _rules_table(rows: list[Row], name: str, year: str) -> DataTable | None:
    # Readers get each rule's reason in words; its identifier is for the data team, in the
    # data behind the document (data_quality.rule), not in the text a board signs.
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["rule"] is not None:
            key = r["reason"] or "No reason recorded for this rule"
            by_reason[key][0] += r["rows_quarantined"] or 0
            by_reason[key][1] += r["measures_set_aside"] or 0
    if not by_reason:
        return None
    return DataTable(
        name="data-quality-rules",
        caption=f"Why rows for {name} in {year} were quarantined or measures set aside",
        columns=(
            Column("Reason"),
            Column("Rows quarantined", numeric=True),
            Column("Measures set aside", numeric=True),
        ),
        rows=tuple(
            (Cell(reason[:1].upper() + reason[1:]), count(n), count(m))
            for reason, (n, m) in sorted(by_reason.items())
        ),
    )


def data_quality(rows: list[Row] | None, provider: str, name: str, year: str) -> DataQuality:
    """Rows received and quarantined for this provider in the document's year, per feed and
    by rule, from the files of that year and those whose names give no year; and every file
    of every year, the detail behind it."""
    if rows is None:
        return DataQuality(False, "", None, None, None)
    own = [r for r in rows if r["provider_code"] == provider]
    totals = [r for r in own if r["rule"] is None]
    if not totals:
        return DataQuality(True, f"No delivered rows name {name}.", None, None, None)
    files = _files_table(totals, name)
    in_year = [r for r in own if file_year(r["source_file"]) in (year, None)]
    year_totals = [r for r in in_year if r["rule"] is None]
    if not year_totals:
        summary = (
            f"No source file for {year} names {name}. The per-file table lists the "
            f"{_plural(len(totals), 'file')} of other years that name it."
        )
        return DataQuality(True, summary, None, None, files)
    received = sum(r["rows_received"] or 0 for r in year_totals)
    quarantined = sum(r["rows_quarantined"] or 0 for r in year_totals)
    set_aside = sum(r["measures_set_aside"] or 0 for r in year_totals)
    undated = sum(1 for r in year_totals if file_year(r["source_file"]) is None)
    share = percent(quarantined / received if received else 0.0).text
    summary = (
        f"The pipeline received {received:,} rows naming {name} in "
        f"{_plural(len(year_totals), 'source file')} for {year}"
        + (f" ({undated:,} of them with no year in their name)" if undated else "")
        + f". {quarantined:,} ({share}) broke a validation rule and were quarantined whole, "
        f"and {set_aside:,} single measures were set aside while the rest of their record was "
        "kept. Nothing is dropped silently: every row is either used or quarantined with the "
        "rule it broke."
    )
    return DataQuality(
        True,
        summary,
        _feeds_table(year_totals, name, year),
        _rules_table(in_year, name, year),
        files,
    )
