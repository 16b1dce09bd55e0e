"""The indicator definitions table of docs/methodology.md, written from the seed
`indicator_definitions` so the document a reviewer checks line by line can never drift from
what the pipeline computes:

    python -m dagster_project.transform.methodology_table

rewrites the part of docs/methodology.md between its two markers; a test fails when the
committed page differs from what this would write.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "seeds" / "indicator_definitions.csv"
PAGE = REPO / "docs" / "methodology.md"
BEGIN = "<!-- indicator definitions: generated from seeds/indicator_definitions.csv -->"
END = "<!-- end of indicator definitions -->"
COLUMNS = (
    ("indicator_code", "Indicator"),
    ("owner_document", "Owner's definition"),
    ("numerator_definition", "Numerator"),
    ("denominator_definition", "Denominator"),
    ("exclusions", "Exclusions"),
    ("period_definition", "Period"),
    ("attribution", "Attribution"),
    ("comparison_method", "Comparison"),
    ("suppression_rule", "Suppression"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table() -> str:
    with SEED.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [f"`{row['indicator_code']}`", *(_cell(row[c]) for c, _ in COLUMNS[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([BEGIN, *lines, END])


def rewritten(page: str) -> str:
    start, end = page.index(BEGIN), page.index(END) + len(END)
    return page[:start] + table() + page[end:]


def main() -> int:
    PAGE.write_text(rewritten(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the indicator definitions table in {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
