"""Observatories read the publication while the pipeline rebuilds it.

Twenty processes open `published/quality.duckdb` read-only, over and over, and
four more read the Parquet copy through the CURRENT pointer, while a run of
the real pipeline swaps in a new publication. A reader has no retry loop: any exception (a lock
conflict included: DuckDB refuses a locked file at once rather than waiting)
ends it with a non-zero exit and fails the test. Every read must see one whole
publication, its tables' row counts matching the `publication` table's
`row_count` for that publication id, and the readers must between them have
seen the publication change.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import duckdb
import pytest
from dagster_dbt import DbtCliResource

from dagster_project.home import Home
from dagster_project.publish.portal.data_dictionary import build_data_dictionary
from dagster_project.runner import run_pipeline
from dagster_project.transform.project import DBT_PROJECT, dbt_executable

pytestmark = pytest.mark.slow

DUCKDB_READERS = 20
PARQUET_READERS = 4

# Prints "ready" after its first read, then one JSON line when the stop file appears.
READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    kind, published, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    seen, reads, problems = set(), 0, []

    def read_duckdb():
        con = duckdb.connect(str(published / "quality.duckdb"), read_only=True,
                             config={"threads": 1})
        try:
            ids = con.execute("select distinct publication_id from publication").fetchall()
            expected = dict(con.execute("select table_name, row_count from publication")
                            .fetchall())
            actual = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
                      for t in expected}
        finally:
            con.close()
        return [i[0] for i in ids], expected, actual

    def read_parquet():
        current = (published / "parquet" / "CURRENT").read_text().strip()
        folder = published / "parquet" / current
        con = duckdb.connect(config={"threads": 1})
        try:
            publication = f"read_parquet('{folder / 'publication.parquet'}')"
            ids = [i[0] for i in con.execute(f"select distinct publication_id from {publication}")
                   .fetchall()]
            expected = dict(con.execute(f"select table_name, row_count from {publication}")
                            .fetchall())
            actual = {
                t: con.execute(f"select count(*) from read_parquet('{folder / (t + '.parquet')}')")
                .fetchone()[0]
                for t in expected
            }
        finally:
            con.close()
        # The folder CURRENT names must hold that publication and no other.
        return (ids if ids == [current] else [*ids, "CURRENT: " + current]), expected, actual

    read = read_duckdb if kind == "duckdb" else read_parquet
    while True:
        ids, expected, actual = read()
        reads += 1
        if len(ids) != 1 or not expected or actual != expected:
            problems.append({"ids": ids, "expected": expected, "actual": actual})
        seen.update(ids)
        if reads == 1:
            print("ready", flush=True)
        if stop.exists():
            break
        time.sleep(1.0)  # 24 readers, about 24 reads a second, share the CPUs with the run
    print(json.dumps({"reads": reads, "seen": sorted(seen), "problems": problems}), flush=True)
    """
)


@pytest.fixture(scope="module")
def home(small_region: Home) -> Home:
    return small_region


def _publication_id(home: Home) -> str:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        return con.execute("select distinct publication_id from publication").fetchone()[0]
    finally:
        con.close()


def test_readers_never_wait_fail_or_see_half_a_publication(home, tmp_path):
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, kind, str(home.published), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in ["duckdb"] * DUCKDB_READERS + ["parquet"] * PARQUET_READERS
    ]
    try:
        for reader in readers:
            assert reader.stdout is not None
            assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
        # One run swapping in a new publication under 20 readers: every reader must see the
        # old one and the new one, each whole.
        published = [_publication_id(home)]
        outcome = run_pipeline(home, job_name="build_publication")
        assert outcome.success, outcome.failures
        published.append(_publication_id(home))
    finally:
        stop.touch()
        finished = [(r, *r.communicate()) for r in readers]
    assert len(set(published)) == 2, "the run makes a new publication"
    for reader, out, err in finished:
        assert reader.returncode == 0, f"a reader failed:\n{err}"
        report = json.loads(out.strip().splitlines()[-1])
        assert report["problems"] == [], report["problems"][:3]
        assert set(report["seen"]) <= set(published)
        assert len(report["seen"]) >= 2, "every reader was reading while a run swapped files"


def test_data_dictionary_opens_from_disk(home):
    """dbt's documentation, in the site, as one file that needs nothing from the network."""
    docs = home.site / "docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in docs.iterdir()) == ["index.html"], "one file, not two copies"
    # It opens on an overview written for observatories, not dbt's stock welcome page.
    assert "Quality Accounts: the published warehouse" in index
    assert "query it by its bare name" in index
    external = re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
        index,
        flags=re.IGNORECASE,
    )
    assert external == []
    assert not re.search(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", index)
    assert "proms_provider_outcomes" in index
    assert "adjusted_health_gain" in index
    for folder in (home.root, Path(tempfile.gettempdir()) / "qa-dbt-docs-"):
        assert str(folder) not in index, "the page is shared: no folders of this machine in it"


def test_data_dictionary_is_the_same_bytes_when_built_again(home):
    first = (home.site / "docs" / "index.html").read_bytes()
    assert b'"generated_at": "1970-01-01T00:00:00Z"' in first
    build_data_dictionary(
        DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable()), home
    )
    assert (home.site / "docs" / "index.html").read_bytes() == first
