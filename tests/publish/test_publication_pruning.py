"""Old Parquet publications are pruned to the newest few, never the current one.

A publication is a folder of Parquet files under `published/parquet/`, so a monthly run
would otherwise add a folder a month for ever. These tests publish a one-table warehouse
several times (no pipeline run needed) and look at what is left.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from dagster_project.home import DEFAULT_KEEP_PUBLICATIONS, Home, resolve_home
from dagster_project.publish.observatories.snapshot import publish
from dagster_project.resources import HomeResource

START = datetime(2025, 4, 15, 6, 0, tzinfo=UTC)


def _home(tmp_path, keep: int) -> Home:
    home = Home(tmp_path / "home", keep_publications=keep).ensure()
    con = duckdb.connect(str(home.warehouse_db))
    try:
        con.execute("create schema published")
        con.execute("create table published.providers as select 'RXX' as provider_code")
    finally:
        con.close()
    return home


def _folders(home: Home) -> list[str]:
    return sorted(p.name for p in (home.published / "parquet").iterdir() if p.is_dir())


def _current(home: Home) -> str:
    return (home.published / "parquet" / "CURRENT").read_text().strip()


def _assert_whole(home: Home, publication_id: str) -> None:
    """The publication CURRENT names reads whole, from Parquet and from the DuckDB file."""
    folder = home.published / "parquet" / publication_id
    con = duckdb.connect()
    try:
        ids = con.execute(
            f"select distinct publication_id from read_parquet('{folder / 'publication.parquet'}')"
        ).fetchall()
        rows = con.execute(
            f"select * from read_parquet('{folder / 'providers.parquet'}')"
        ).fetchall()
    finally:
        con.close()
    assert ids == [(publication_id,)] and rows == [("RXX",)]
    with duckdb.connect(str(home.published_db), read_only=True) as con:
        assert con.execute("select distinct publication_id from publication").fetchall() == ids


def test_after_n_plus_two_publications_only_the_newest_n_remain(tmp_path):
    keep = 3
    home = _home(tmp_path, keep)
    parquet = home.published / "parquet"
    parquet.mkdir()
    (parquet / "notes").mkdir()  # not a publication: an operator's, never pruned
    (parquet / ".20250101T000000000000Z-000000000000.pruned.tmp").mkdir()  # a killed prune's
    made = [publish(home, START + timedelta(days=30 * i)) for i in range(keep + 2)]
    ids = [p.publication_id for p in made]
    assert _folders(home) == sorted([*ids[-keep:], "notes"])
    assert [p.pruned for p in made] == [(), (), (), (ids[0],), (ids[1],)]
    assert _current(home) == ids[-1]
    _assert_whole(home, ids[-1])
    assert sorted(p.name for p in parquet.glob(".*")) == [], "debris is cleared"


def test_the_current_publication_is_never_pruned(tmp_path):
    """Even when the clock has gone back, so its name sorts before every other."""
    home = _home(tmp_path, 2)
    later = [publish(home, START + timedelta(days=i)).publication_id for i in (10, 20)]
    current = publish(home, START).publication_id  # earlier than both
    assert _current(home) == current
    assert _folders(home) == sorted([current, *later])
    _assert_whole(home, current)


def test_how_many_to_keep_is_set_like_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_HOME", str(tmp_path))
    monkeypatch.delenv("QA_KEEP_PUBLICATIONS", raising=False)
    assert resolve_home(tmp_path).keep_publications == DEFAULT_KEEP_PUBLICATIONS
    monkeypatch.setenv("QA_KEEP_PUBLICATIONS", "12")
    assert resolve_home(tmp_path).keep_publications == 12
    assert resolve_home(tmp_path, keep_publications=4).keep_publications == 4
    assert HomeResource.from_environment().keep_publications == 12
    assert HomeResource(root=str(tmp_path), keep_publications=3).home().keep_publications == 3
    # One would delete the publication a reader found through CURRENT a moment ago.
    for text in ("1", "0", "-3", "five"):
        monkeypatch.setenv("QA_KEEP_PUBLICATIONS", text)
        with pytest.raises(ValueError, match="QA_KEEP_PUBLICATIONS must be a whole number"):
            resolve_home(tmp_path)
    with pytest.raises(ValueError, match="at least 2"):
        Home(tmp_path, keep_publications=1)
