"""The synthetic region's documents, as a reader gets them: no provider told it is in the
lowest quarter while it shares the best value, no count compared with England, no internal
codes and no names in capitals. Uses the session's shared pipeline run."""

from __future__ import annotations

import html
import re
from collections import Counter

import duckdb
import pytest

pytestmark = pytest.mark.slow

QUARTER = re.compile(
    r"<li>([^<]+?): in the lowest-performing quarter of providers in (\d{4}-\d{2})"
)


@pytest.fixture(scope="module")
def documents(synthetic_run):
    assert synthetic_run.outcome.success, synthetic_run.outcome.failures
    site = synthetic_run.home.site
    pages = sorted(site.glob("*/*/quality-account.html"))
    assert pages
    return {(p.parent.parent.name, p.parent.name): p.read_text(encoding="utf-8") for p in pages}


def test_nobody_sharing_the_best_value_is_in_the_lowest_quarter(synthetic_run, documents):
    con = duckdb.connect(str(synthetic_run.home.published_db), read_only=True)
    catalogue = dict(
        con.execute("select indicator_name, indicator_code from indicator_catalogue").fetchall()
    )
    direction = dict(
        con.execute("select indicator_code, higher_is_better from indicator_catalogue").fetchall()
    )
    placed: Counter[str] = Counter()
    for (provider, _), page in documents.items():
        for name, year in QUARTER.findall(page):
            code = catalogue[html.unescape(name)]
            values = dict(
                con.execute(
                    "select provider_code, value from indicator_values where indicator_code = ? "
                    "and financial_year = ? and value is not null and provider_code <> 'ENG'",
                    [code, year],
                ).fetchall()
            )
            best = max(values.values()) if direction[code] else min(values.values())
            assert values[provider] != best, (provider, code, year)
            better = sum(
                1 for v in values.values() if (v > values[provider]) == bool(direction[code])
                and v != values[provider]
            )  # fmt: skip
            assert better >= 0.75 * len(values), (provider, code, year, better, len(values))
            placed[code] += 1
    print("lowest-quarter wording per indicator:", dict(sorted(placed.items())))
    never = con.execute(
        "select count(*) filter (where value = 0), count(*) from indicator_values "
        "where indicator_code = 'never_events' and provider_code <> 'ENG'"
    ).fetchone()
    assert placed["never_events"] <= never[1] - never[0]


def test_counts_are_judged_against_their_objective(documents):
    for key, page in documents.items():
        for name in (
            "Never Events",
            "MRSA bacteraemia",
            "C. difficile infection, trust-attributed cases",
        ):
            assert not re.search(rf"{re.escape(name)}[^<]*: [a-z ]+ against England", page), key


def test_no_codes_and_no_names_in_capitals(documents):
    # The pipeline's own words: not the providers' narrative, which is theirs as written.
    for key, page in documents.items():
        text = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        for code in ("hip_fracture", "primary_hip", "primary_knee", "proms_records", "rate_funnel"):
            assert code not in text, (key, code)
        heading = re.search(r"<h1>Quality Account \d{4}-\d{2}: ([^<]+)</h1>", page).group(1)
        assert heading != heading.upper(), (key, heading)
        headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', page)
        assert not [h for h in headers if re.fullmatch(r"[A-Z ]{12,}", h)], key
