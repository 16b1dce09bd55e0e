"""Applying suite failures at their grain: quarantine a record, or set aside one measure.

A record whose identity is broken (provider, procedure, year) cannot be placed
and is quarantined whole. A measure whose values break a rule is set aside for
that record only: its columns are blanked in the valid row, which keeps its
other measures, and the original values are kept in quarantine. Either way the
quarantine row names the file, the line, the rule and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from dagster_project.validation.suites import Failure, Suite

QUARANTINE_COLUMNS = [
    "source_file",
    "sha256",
    "load_id",
    "row_number",
    "rule",
    "grain",
    "column_name",
    "value",
    "reason",
    "action",
    "record",
]


@dataclass
class SplitResult:
    valid: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    records_quarantined: int
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_share(self) -> float:
        return self.records_quarantined / self.rows_in if self.rows_in else 0.0


def split(
    frame: pd.DataFrame, failures: list[Failure], suite: Suite, columns: list[str]
) -> SplitResult:
    """`columns` are the published values kept in quarantine's `record` field."""
    whole: set = set()
    set_aside: dict[str, set] = {}
    entries: list[dict] = []
    by_rule: dict[str, int] = {}
    for failure in failures:
        rule = failure.rule
        by_rule[rule.name] = by_rule.get(rule.name, 0) + len(failure.index)
        if rule.grain == "record":
            whole.update(failure.index)
            action = "record quarantined"
        else:
            set_aside.setdefault(rule.grain, set()).update(failure.index)
            action = f"{rule.grain} set aside"
        for label in failure.index:
            row = frame.loc[label]
            value = row[rule.column] if rule.column in frame.columns else None
            entries.append(
                {
                    "source_file": row["source_file"],
                    "sha256": row["sha256"],
                    "load_id": row["load_id"],
                    "row_number": int(row["row_number"]),
                    "rule": rule.name,
                    "grain": rule.grain,
                    "column_name": rule.column,
                    "value": None if pd.isna(value) else str(value),
                    "reason": rule.reason,
                    "action": action,
                    "record": json.dumps(
                        {c: (None if pd.isna(row[c]) else str(row[c])) for c in columns},
                        sort_keys=False,
                    ),
                }
            )
    valid = frame.drop(index=list(whole)).copy()
    valid["set_aside"] = pd.Series(pd.NA, index=valid.index, dtype="string")
    for grain in sorted(set_aside):
        labels = valid.index.intersection(list(set_aside[grain]))
        if labels.empty:
            continue
        valid.loc[labels, suite.groups[grain]] = None
        previous = valid.loc[labels, "set_aside"]
        valid.loc[labels, "set_aside"] = (
            previous.fillna("").where(previous.isna(), previous + ",") + grain
        )
    quarantine = pd.DataFrame(entries, columns=QUARANTINE_COLUMNS)
    quarantine = quarantine.sort_values(["row_number", "rule"], kind="stable").reset_index(
        drop=True
    )
    return SplitResult(valid, quarantine, len(frame), len(whole), by_rule)
