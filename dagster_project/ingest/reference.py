"""The project's codes for what publishers name in words, read from the seeds dbt loads too.

UKHSA writes organisms and metrics in words that change between years (`E.coli`,
`Escherichia coli`; `Hospital-onset`, `HOHA cases`). They are turned into the project's
codes once, here at ingest, so every later stage (staging, marts, the published tables,
the documents) uses one name per concept. The seeds are the vocabulary's single home.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
# Seeds a parser reads: a change to one re-parses the files it applies to.
SEEDS_READ = ("hcai_organisms.csv", "hcai_metrics.csv", "survey_questions.csv")


def _pairs(name: str, key: str, value: str) -> dict[str, str]:
    with (SEEDS_DIR / name).open(newline="", encoding="utf-8") as handle:
        return {row[key]: row[value] for row in csv.DictReader(handle)}


@cache
def hcai_organisms() -> dict[str, str]:
    """`C. difficile` -> `c_difficile`."""
    return _pairs("hcai_organisms.csv", "organism_name", "organism")


@cache
def hcai_metrics() -> dict[str, str]:
    """A published metric in snake case (`hospital_onset_healthcare_associated`) -> its code
    (`hoha`); a metric the seed does not name keeps its snake-case name."""
    return _pairs("hcai_metrics.csv", "source_metric", "metric")


@cache
def survey_questions(survey: str, year: int) -> dict[str, tuple[str, str]]:
    """The project's column (`recommend_care`, `q1`) -> (the publisher's question number,
    its wording) in one survey year: surveys renumber their questions from year to year, so
    which one feeds an indicator is reference data with a source, not code. Empty for a
    year the seed does not cover."""
    with (SEEDS_DIR / "survey_questions.csv").open(newline="", encoding="utf-8") as handle:
        return {
            row["item"]: (row["question"], row["question_text"])
            for row in csv.DictReader(handle)
            if row["survey"] == survey and int(row["survey_year"]) == year
        }
