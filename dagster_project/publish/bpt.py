"""Best practice tariffs in a Quality Account: what the provider earned and forwent per
tariff, and each criterion it failed, in words a board member can act on.

The figures come whole from `bpt_adjustments` and `bpt_criteria`; prices and
thresholds stay in the seeds that built them. The plain-words line for a failed
criterion is the criterion's name followed by the table's own `reason`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dagster_project.publish.published_tables import Row
from dagster_project.publish.tables import Cell, Column, DataTable, count, money, slug, text


@dataclass
class TariffBlock:
    bpt_code: str
    anchor: str
    met_all: bool
    failed: list[str]
    criteria: DataTable


@dataclass
class BptSection:
    available: bool
    income: DataTable | None
    tariffs: list[TariffBlock]
    summary: str


def _number(value: float | None) -> str:
    if value is None:
        return "not available"
    return f"{value:g}"


def failed_in_words(row: Row) -> str:
    """`Surgery within 36 hours: 71% of 212 spells; 61 spells waited longer`: the table's
    reason, which already starts with the criterion, else the criterion and its numbers."""
    reason = row["reason"] or (
        f"observed {_number(row['observed'])} against a threshold of {_number(row['threshold'])}"
    )
    if reason.casefold().startswith(row["criterion"].casefold()):
        return reason
    return f"{row['criterion']}: {reason}"


def bpt_section(
    criteria: list[Row] | None, adjustments: list[Row] | None, provider: str, year: str
) -> BptSection:
    if criteria is None or adjustments is None:
        return BptSection(False, None, [], "")
    own = sorted(
        (r for r in adjustments if r["provider_code"] == provider and r["financial_year"] == year),
        key=lambda r: r["bpt_code"],
    )
    by_tariff: dict[str, list[Row]] = defaultdict(list)
    for row in criteria:
        if row["provider_code"] == provider and row["financial_year"] == year:
            by_tariff[row["bpt_code"]].append(row)
    if not own and not by_tariff:
        return BptSection(True, None, [], "")
    income = DataTable(
        name="bpt-income",
        caption=f"Best practice tariffs, {year}: spells, income earned and income forgone",
        columns=(
            Column("Tariff"),
            Column("Eligible spells", numeric=True),
            Column("Compliant spells", numeric=True),
            Column("Base income", numeric=True),
            Column("Income earned at best practice price", numeric=True),
            Column("Adjustment", numeric=True),
            Column("Income forgone", numeric=True),
        ),
        rows=tuple(
            (
                Cell(r["bpt_code"]),
                count(r["eligible_spells"]),
                count(r["compliant_spells"]),
                money(r["base_income"]),
                money(r["bpt_income"]),
                money(r["adjustment"]),
                money(r["forgone"]),
            )
            for r in own
        ),
    )
    tariffs = []
    for code in sorted(set(by_tariff) | {r["bpt_code"] for r in own}):
        rows = sorted(by_tariff.get(code, []), key=lambda r: r["criterion_code"])
        failed = [failed_in_words(r) for r in rows if r["met"] is False]
        table = DataTable(
            name=f"bpt-criteria-{slug(code)}",
            caption=f"{code}, {year}: each best practice criterion and whether it was met",
            columns=(
                Column("Criterion"),
                Column("Threshold", numeric=True),
                Column("Observed", numeric=True),
                Column("Met"),
                Column("Reason"),
            ),
            rows=tuple(
                (
                    Cell(r["criterion"]),
                    text(None if r["threshold"] is None else _number(r["threshold"])),
                    text(None if r["observed"] is None else _number(r["observed"])),
                    Cell(
                        {True: "Met", False: "Not met", None: "Not assessed"}[r["met"]],
                        css={True: "positive", False: "negative", None: "muted"}[r["met"]],
                    ),
                    text(r["reason"], "none given"),
                )
                for r in rows
            ),
        )
        tariffs.append(TariffBlock(code, slug("bpt", code), not failed, failed, table))
    forgone = sum(r["forgone"] or 0 for r in own)
    met = sum(t.met_all for t in tariffs)
    summary = (
        f"met every criterion of {met} of its {len(tariffs)} best practice "
        f"tariff{'s' if len(tariffs) != 1 else ''}, and forwent "
        f"{money(forgone).text} of income"
    )
    return BptSection(True, income if own else None, tariffs, summary)
