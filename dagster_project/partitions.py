"""Financial years as Dagster partitions, for what is published once per year.

A Quality Account is a document per provider per financial year, so its pages
are partitioned by year: a year can be re-rendered or backfilled alone from the
UI (or `qa run --year`), and the partitions show which years are up to date
(the PDF step after them prints only pages whose HTML changed). The years are
not a fixed range: one is added when the publication first holds data for it,
whichever feed brings it. Everything before the documents
(ingest, validation, the dbt build and the observatories' publication) keeps no
partitions: dbt and the publication each rebuild one warehouse file, so a
backfill of several years runs as one run (`BackfillPolicy.single_run`) and the
instance runs one queued run at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import dagster as dg

FINANCIAL_YEARS = dg.DynamicPartitionsDefinition(name="financial_year")
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def is_financial_year(text: str) -> bool:
    """`2024-25`: four digits, a hyphen, and the next year's last two."""
    match = _YEAR.match(text)
    return bool(match) and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def add_years(instance: dg.DagsterInstance, years: Iterable[str]) -> list[str]:
    """Add the years the instance does not have yet; return those added."""
    known = set(instance.get_dynamic_partitions(FINANCIAL_YEARS.name))
    new = sorted({y for y in years if is_financial_year(y)} - known)
    if new:
        instance.add_dynamic_partitions(FINANCIAL_YEARS.name, new)
    return new
