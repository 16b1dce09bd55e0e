"""Best practice tariffs in a Quality Account: what the provider earned and forwent per
tariff, and each criterion it failed, in words a board member can act on.

The figures come whole from `bpt_adjustments` and `bpt_criteria`; prices and
thresholds stay in the seeds that built them. The plain-words line for a failed
criterion is the criterion's name followed by the table's own `reason`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from dagster_project.publish.document.published_tables import Row
from dagster_project.publish.document.tables import (
    Cell,
    Column,
    DataTable,
    count,
    money,
    slug,
    text,
)
from dagster_project.publish.figures import format_number, format_share

# Criteria whose threshold and observed value are Oxford score points (the adjusted health
# gain and its lower limit, two decimals as NHS Digital prints them); every other
# criterion's figures are shares, printed as percentages by the one rounding rule.
SCORE_CRITERIA = frozenset({"proms_not_negative_outlier"})
ILLUSTRATIVE = "illustrative price"


@dataclass
class TariffBlock:
    bpt_code: str
    anchor: str
    met_all: bool
    failed: list[str]
    criteria: DataTable
    name: str = ""
    # Criteria that cannot be assessed (suppressed or unreported data): never "not met".
    unassessed: list[str] | None = None


@dataclass
class BptSection:
    available: bool
    income: DataTable | None
    tariffs: list[TariffBlock]
    summary: str


def _figure(row: Row, value: float | None, threshold: float | None = None) -> str:
    """A threshold or observed value as the reader reads it: score points to two decimals,
    shares as percentages (never a raw fraction such as 0.971963)."""
    if value is None:
        return "not available"
    if row["criterion_code"] in SCORE_CRITERIA:
        return format_number(value, 2)
    return format_share(value, threshold)


def assessable(row: Row) -> bool:
    """A criterion with no observed figure (suppressed by PartLink, not reported, no NJR
    figures) cannot be assessed: the document says so rather than "not met"."""
    return row["met"] is not None and row["observed"] is not None


def tariff_names(adjustments: list[Row] | None, codes: list[str]) -> dict[str, str]:
    """Each tariff's name as `bpt_adjustments` gives it (seed bpt_schemes), or its code in
    words where the publication predates the name: never the code itself."""
    names = {code: code.replace("_", " ").capitalize() for code in codes}
    names.update({r["bpt_code"]: r["tariff"] for r in adjustments or [] if r.get("tariff")})
    return names


def _money(pounds: float | None, illustrative: bool) -> Cell:
    cell = money(pounds)
    if illustrative and cell.text is not None:
        return Cell(f"{cell.text} ({ILLUSTRATIVE})", value=cell.value)
    return cell


def failed_in_words(row: Row) -> str:
    """`Surgery within 36 hours: 71% of 212 spells; 61 spells waited longer`: the table's
    reason, which already starts with the criterion, else the criterion and its numbers."""
    reason = row["reason"] or (
        f"observed {_figure(row, row['observed'], row['threshold'])} against a threshold of "
        f"{_figure(row, row['threshold'])}"
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
    names = tariff_names(adjustments, [*by_tariff, *(r["bpt_code"] for r in own)])
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
                Cell(names[r["bpt_code"]]),
                count(r["eligible_spells"]),
                count(r["compliant_spells"]),
                _money(r["base_income"], _illustrative(r)),
                _money(r["bpt_income"], _illustrative(r)),
                _money(r["adjustment"], _illustrative(r)),
                _money(r["forgone"], _illustrative(r)),
            )
            for r in own
        ),
        notes=tuple(
            f"{names[r['bpt_code']]}, {year}: prices from "
            f"{r.get('price_source') or 'a source not recorded'}."
            + (
                " The price is illustrative, not the year's published price, so every figure "
                "in pounds for this tariff is illustrative."
                if _illustrative(r)
                else ""
            )
            for r in own
        ),
    )
    tariffs = []
    for code in sorted(set(by_tariff) | {r["bpt_code"] for r in own}):
        rows = sorted(by_tariff.get(code, []), key=lambda r: r["criterion_code"])
        failed = [failed_in_words(r) for r in rows if r["met"] is False and assessable(r)]
        unassessed = [failed_in_words(r) for r in rows if not assessable(r)]
        table = DataTable(
            name=f"bpt-criteria-{slug(code)}",
            caption=f"{names[code]}, {year}: each best practice criterion and whether it was met",
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
                    text(None if r["threshold"] is None else _figure(r, r["threshold"])),
                    text(
                        None if r["observed"] is None else _figure(r, r["observed"], r["threshold"])
                    ),
                    Cell(
                        {True: "Met", False: "Not met"}[r["met"]]
                        if assessable(r)
                        else "Cannot be assessed",
                        css={True: "positive", False: "negative"}[r["met"]]
                        if assessable(r)
                        else "muted",
                    ),
                    text(r["reason"], "none given"),
                )
                for r in rows
            ),
        )
        tariffs.append(
            TariffBlock(
                code,
                slug("bpt", code),
                not failed and not unassessed,
                failed,
                table,
                name=names[code],
                unassessed=unassessed,
            )
        )
    forgone = sum(r["forgone"] or 0 for r in own)
    met = sum(t.met_all for t in tariffs)
    illustrative = any(_illustrative(r) for r in own if r["forgone"])
    summary = (
        f"met every criterion of {met} of its {len(tariffs)} best practice "
        f"tariff{'s' if len(tariffs) != 1 else ''}, and forwent "
        f"{money(forgone).text} of income"
        + (f" (at an {ILLUSTRATIVE}, not the year's published one)" if illustrative else "")
    )
    return BptSection(True, income if own else None, tariffs, summary)


def _illustrative(row: Row) -> bool:
    """A price the seed does not cite as the year's published one (or a publication from
    before the flag existed) is illustrative."""
    return row.get("price_illustrative") is not False
