"""One description of every table in a document, rendered as HTML and written as CSV.

Building each table once, as data, is what guarantees that the CSV beside a
document holds exactly the figures the reader sees, and that every table has a
caption and header cells (the template has one macro for all of them).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from itertools import groupby

from dagster_project.publish.figures import as_percent, format_number, plain, rounded


@dataclass(frozen=True)
class Cell:
    """A table value; `text` None means missing, and `reason` says why.

    `value` is what the CSV holds (plain digits, no separators or per cent signs);
    it defaults to the text.
    """

    text: str | None
    reason: str = ""
    css: str = ""
    value: str | None = None

    @property
    def csv_value(self) -> str:
        if self.text is None:
            return ""
        return self.text if self.value is None else self.value


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False


@dataclass(frozen=True)
class RowGroup:
    """Rows sharing one value of the grouping column, shown under it as a heading."""

    label: str
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class DataTable:
    """`name` is the CSV's file stem (unique within a document); the first column of each
    row is its row header.

    `group`, if given, is the index of a column the rows are sorted by: the HTML shows each
    of its values once, as the heading of its rows with their count in `group_noun`s,
    instead of in every row (the CSV keeps the column). `css` names classes for the table's
    look (e.g. `compact`).
    """

    name: str
    caption: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = field(default=())
    group: int | None = None
    group_noun: str = "row"
    css: str = ""

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        """The columns the HTML has: all but the grouping one."""
        return tuple(c for i, c in enumerate(self.columns) if i != self.group)

    @property
    def groups(self) -> tuple[RowGroup, ...]:
        """The rows in groups, each without the grouping column; one group, labelled "",
        when the table is not grouped."""
        g = self.group
        if g is None:
            return (RowGroup("", self.rows),)
        return tuple(
            RowGroup(label, tuple(row[:g] + row[g + 1 :] for row in rows))
            for label, rows in groupby(self.rows, key=lambda row: row[g].text or "")
        )

    @property
    def caption_id(self) -> str:
        return f"{self.name}-caption"

    @property
    def csv_name(self) -> str:
        return f"{self.name}.csv"

    def to_csv(self) -> str:
        """Header row then data rows; a missing value is empty, with its reason in a note
        column only when some value in the row is missing. Every cell goes through
        `spreadsheet_safe`."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        header = [c.header for c in self.columns] + ["note"]
        writer.writerow([spreadsheet_safe(v) for v in header])
        for row in self.rows:
            notes = sorted({c.reason for c in row if c.text is None and c.reason})
            values = [c.csv_value for c in row] + ["; ".join(notes)]
            writer.writerow([spreadsheet_safe(v) for v in values])
        return out.getvalue()


# What a spreadsheet starts a formula with (OWASP's list for CSV injection), and a plain
# number, which may begin with a sign yet is never a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: str) -> str:
    """The cell as text a spreadsheet shows rather than runs.

    The CSVs are downloads for people who open them in Excel or LibreOffice, which
    treat a cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return
    before one) as a formula: `=HYPERLINK(...)` in a file name or a provider's name
    from a delivered file would become a live link or worse on the reader's
    machine. Such a cell gets a leading `'`, which spreadsheets take to mean text.
    A plain number (`-1.5`) is left as it is, so figures stay numbers.
    """
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")


def text(value: str | None, reason: str = "not available") -> Cell:
    return Cell(None, reason) if value is None else Cell(str(value))


def count(value: float | int | None, reason: str = "not available") -> Cell:
    if value is None:
        return Cell(None, reason)
    return Cell(f"{int(value):,}", value=str(int(value)))


def number(value: float | None, decimals: int, reason: str = "not available") -> Cell:
    if value is None:
        return Cell(None, reason)
    return Cell(format_number(value, decimals), value=plain(value, decimals))


def percent(fraction: float | None, reason: str = "not available", decimals: int = 1) -> Cell:
    """A fraction (0.75) shown as a percentage (75.0%)."""
    if fraction is None:
        return Cell(None, reason)
    exact = as_percent(fraction)
    return Cell(format_number(exact, decimals) + "%", value=plain(exact, decimals))


def money(pounds: float | None, reason: str = "not available") -> Cell:
    if pounds is None:
        return Cell(None, reason)
    whole = rounded(pounds, 0)
    sign = "\u2212" if whole < 0 else ""
    return Cell(f"{sign}\u00a3{abs(whole):,f}", value=plain(pounds, 2))
