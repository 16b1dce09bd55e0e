"""Running a Great Expectations suite from `expectations/` over a pandas frame.

GX is imported lazily (it takes seconds) and one ephemeral context serves the
whole process. Two GX habits would otherwise hide problems, so both are turned
into errors here: an expectation GX cannot build is dropped with only a log
line, and a metric that fails to compute comes back as a failed result carrying
`exception_info` rather than raising.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from dagster_project.ingest.row_shape import ROW_PROBLEM

UNKNOWN_ORGANISATION = "_unknown_organisation"  # set by validation.register

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"


class SuiteError(Exception):
    """The suite itself is broken (not the data): a blocking failure."""


@dataclass(frozen=True)
class Rule:
    """One expectation with the meaning the pipeline gives it."""

    name: str
    grain: str
    reason: str
    column: str | None


@dataclass(frozen=True)
class Failure:
    rule: Rule
    index: list[Any]


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    document: dict[str, Any]

    @property
    def meta(self) -> dict[str, Any]:
        return self.document.get("meta", {})

    @property
    def max_quarantine_share(self) -> float:
        return float(self.meta.get("max_quarantine_share", 0.05))

    @property
    def compares_rows(self) -> bool:
        """Whether a rule looks across rows (uniqueness): then each file is judged on its own."""
        return any(
            "unique" in e.get("type", "") or "compound" in e.get("type", "")
            for e in self.document.get("expectations", [])
        )

    @property
    def groups(self) -> dict[str, list[str]]:
        """Columns set aside together when a rule of that grain fails."""
        return self.meta.get("groups", {})

    def columns(self) -> list[str]:
        """Every column the suite's expectations name, in first-mention order."""
        names: list[str] = []
        for exp in self.document["expectations"]:
            kwargs = exp.get("kwargs", {})
            for key in ("column", "column_A", "column_B"):
                if key in kwargs and kwargs[key] not in names:
                    names.append(kwargs[key])
            names.extend(c for c in kwargs.get("column_list", []) if c not in names)
        return names

    def rules(self) -> list[Rule]:
        rules = []
        for exp in self.document["expectations"]:
            meta = exp.get("meta", {})
            kwargs = exp.get("kwargs", {})
            rules.append(
                Rule(
                    name=meta.get("rule", exp["type"]),
                    grain=meta.get("grain", "record"),
                    reason=meta.get("reason", exp["type"]),
                    column=kwargs.get("column") or kwargs.get("column_A"),
                )
            )
        return rules


def load_suite(name: str, directory: Path = EXPECTATIONS_DIR) -> Suite:
    path = directory / f"{name}.json"
    if not path.exists():
        raise SuiteError(f"no expectation suite {path.name} in {directory}")
    document = json.loads(path.read_text())
    names = [e.get("meta", {}).get("rule", e["type"]) for e in document.get("expectations", [])]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SuiteError(f"{path.name}: rule names must be unique; repeated: {duplicated}")
    for exp in document.get("expectations", []):
        grain = exp.get("meta", {}).get("grain", "record")
        if grain != "record" and grain not in document.get("meta", {}).get("groups", {}):
            raise SuiteError(
                f"{path.name}: rule {exp.get('meta', {}).get('rule')} has "
                f"grain {grain!r}, which the suite's meta.groups does not define"
            )
    document["expectations"] = [
        *document.get("expectations", []),
        _ROW_WELL_FORMED,
        _ORGANISATION_IN_REGISTER,
    ]
    return Suite(name, path, document)


# A provider's code must be one the ODS register lists as open in the row's period
# (validation.register); blank wherever the home has no register to judge by.
_ORGANISATION_IN_REGISTER = {
    "type": "expect_column_values_to_be_null",
    "kwargs": {"column": UNKNOWN_ORGANISATION},
    "meta": {
        "rule": "organisation_in_register",
        "grain": "record",
        "reason": "the organisation code is not in the ODS register delivered, or the "
        "register shows it closed (or not yet open) in the row's period; it is not a "
        "national or regional total either, so it cannot be published as a provider",
    },
}

# Every suite's first duty: a row the parser found damaged (ingest.row_shape) is never read
# as if whole. Added here, once, rather than copied into every suite file.
_ROW_WELL_FORMED = {
    "type": "expect_column_values_to_be_null",
    "kwargs": {"column": ROW_PROBLEM},
    "meta": {
        "rule": "row_well_formed",
        "grain": "record",
        "reason": "the row is damaged (a cell missing or one too many, a quote never closed, "
        "NUL bytes, or a last figure cut short), so none of its figures can be trusted",
    },
}


@cache
def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _gx_suite(suite: Suite) -> Any:
    import great_expectations as gx

    expectations = []
    for exp in suite.document["expectations"]:
        meta = exp.get("meta", {})
        config = {"type": exp["type"], "kwargs": exp.get("kwargs", {}), "meta": meta}
        try:
            expectations.append(gx.ExpectationSuite(name="one", expectations=[config]).expectations)
        except Exception as exc:  # GX raises pydantic and its own errors alike
            raise SuiteError(
                f"{suite.path.name}: rule {meta.get('rule', exp['type'])} is malformed: {exc}"
            ) from exc
    gx_suite = gx.ExpectationSuite(
        name=suite.name, expectations=[e for built in expectations for e in built]
    )
    if len(gx_suite.expectations) != len(suite.document["expectations"]):
        raise SuiteError(
            f"{suite.path.name}: Great Expectations built {len(gx_suite.expectations)} of "
            f"{len(suite.document['expectations'])} expectations; a rule is malformed"
        )
    return gx_suite


def run_suite(frame: pd.DataFrame, suite: Suite) -> list[Failure]:
    """Every failing rule with the frame index labels of the rows that broke it."""
    context = _context()
    source = context.data_sources.add_or_update_pandas(f"qa_{suite.name}")
    asset = next(
        (a for a in source.assets if a.name == "frame"), None
    ) or source.add_dataframe_asset("frame")
    batch_definition = next(
        (b for b in asset.batch_definitions if b.name == "whole"), None
    ) or asset.add_batch_definition_whole_dataframe("whole")
    # GX copies the frame it is given for every metric: hand it only the columns it checks.
    # A column the frame lacks is left for GX to report as a metric error (a SuiteError).
    subset = frame[[c for c in suite.columns() if c in frame.columns]]
    for marker in (ROW_PROBLEM, UNKNOWN_ORGANISATION):  # blank where nothing set them
        if marker not in subset.columns:
            subset = subset.assign(**{marker: pd.Series(pd.NA, index=frame.index, dtype="string")})
    batch = batch_definition.get_batch(batch_parameters={"dataframe": subset})
    result = batch.validate(
        _gx_suite(suite),
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": None},
    )
    rules = {rule.name: rule for rule in suite.rules()}
    failures: list[Failure] = []
    for outcome in result.results:
        rule = rules[
            (outcome.expectation_config.meta or {}).get("rule", outcome.expectation_config.type)
        ]
        info = outcome.exception_info or {}
        if _raised(info):
            raise SuiteError(f"{suite.path.name}: rule {rule.name} could not be evaluated: {info}")
        if outcome.success:
            continue
        index = outcome.result.get("unexpected_index_list")
        if index is None:
            raise SuiteError(
                f"{suite.path.name}: rule {rule.name} failed without naming rows; "
                "only row-level expectations belong in a feed suite"
            )
        failures.append(Failure(rule, list(index)))
    return failures


def _raised(info: Any) -> bool:
    """GX nests exception_info one level deep for some expectations."""
    if not isinstance(info, dict):
        return bool(info)
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
