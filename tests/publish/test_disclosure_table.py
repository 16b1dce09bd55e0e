"""The per-feed disclosure table in docs/methodology.md, held against what is published.

The table is what a reader is promised: what each publisher suppresses and what the
pipeline publishes. Each of its rows is checked here on the synthetic region's
publication, so the document and the data cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

METHODOLOGY = Path(__file__).resolve().parents[2] / "docs" / "methodology.md"


def _table() -> dict[str, tuple[str, str]]:
    """feed cell -> (what the publisher suppresses, what the pipeline publishes)."""
    text = METHODOLOGY.read_text(encoding="utf-8")
    start = text.index("| feed | what the publisher suppresses | what the pipeline publishes |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        feed, publisher, pipeline = (c.strip() for c in line.strip("|").split("|"))
        rows[feed] = (publisher, pipeline)
    return rows


@pytest.fixture(scope="module")
def published(published_connection):
    return published_connection


def test_the_table_covers_every_feed_with_published_figures():
    feeds = " ".join(_table())
    for name in ("FFT", "PROMs", "SHMI", "UKHSA", "KH03", "readmissions", "incidents"):
        assert name in feeds, name


def test_fft_rows_of_one_to_four_responses_show_no_counts(published):
    assert "1 to 4 responses" in _table()["FFT"][0]
    leaked = published.execute(
        "select count(*) from fft_responses where total_responses between 1 and 4 "
        "and coalesce(very_good, good, neither, poor, very_poor, dont_know) is not null"
    ).fetchone()[0]
    shown = published.execute(
        "select count(*) from fft_responses where total_responses between 1 and 4"
    ).fetchone()[0]
    assert shown > 0, "the synthetic region plants small rows"
    assert leaked == 0
    # The secondary and cascade rows hide their counts too, and each is in the log.
    hidden = published.execute(
        "select count(*) from fft_responses f join suppression_log s "
        "on s.table_name = 'fft_responses' and s.provider_code = f.provider_code "
        "and s.month = f.month and s.setting = f.setting "
        "where f.suppression is not null"
    ).fetchone()[0]
    suppressed = published.execute(
        "select count(*) from fft_responses where suppression is not null"
    ).fetchone()[0]
    assert suppressed > 0 and hidden == suppressed


def test_proms_groups_the_publisher_suppresses_are_withheld(published):
    assert "1 to 5" in _table()["PROMs"][0]
    rows = published.execute(
        "select o.adjusted_health_gain, o.modelled_records from proms_provider_outcomes o "
        "join suppression_log s on s.table_name = 'proms_provider_outcomes' "
        "and s.provider_code = o.provider_code and s.financial_year = o.financial_year "
        "and s.procedure = o.procedure"
    ).fetchall()
    assert rows, "the synthetic region plants a suppressed PROMs group"
    assert all(gain is None and records is None for gain, records in rows)


def test_feeds_published_as_they_come_hold_every_provider(published, synthetic_run):
    feed = next(f for f in _table() if f.startswith("SHMI"))
    assert _table()[feed][1] == "as published"
    providers = {p["code"] for p in synthetic_run.truth["providers"]}
    for table, column in (("shmi", "provider_code"), ("hcai_counts", "provider_code")):
        found = {
            r[0] for r in published.execute(f"select distinct {column} from {table}").fetchall()
        }
        assert providers <= found, table


def test_record_level_feeds_are_never_published(published):
    feed = next(f for f in _table() if f.startswith("incidents"))
    assert "never published" in _table()[feed][1]
    tables = {r[0] for r in published.execute("show tables").fetchall()}
    columns = {
        r[0]
        for r in published.execute("select column_name from information_schema.columns").fetchall()
    }
    assert not tables & {"incidents", "hip_fracture_spells"}
    assert not columns & {"incident_id", "spell_id", "incident_date", "arrival"}
    assert not any(re.fullmatch(r"reported_date|surgery", c) for c in columns)
