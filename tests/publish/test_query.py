"""Observatory queries against a small publication: reads work, anything else is refused.

Every refusal is checked against the file's checksum and the working folder, so
a refusal that came too late (after DuckDB had already written or created a
file) would still fail the test.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from dagster_project.publish.observatories.query import (
    QueryRefused,
    QueryResult,
    _open_publication,
    format_result,
    run_query,
)


@pytest.fixture(scope="module")
def publication(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two tables with region_code, as in the real publication, and one without."""
    path = tmp_path_factory.mktemp("published") / "quality.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "create table providers as select * from (values "
        "('RAA', 'Alpha NHS Trust', 'Y56'), ('RBB', 'Beta, \"the\" Trust', 'Y58'), "
        "('RCC', 'Cedar Hospital', 'Y56')) t(provider_code, provider_name, region_code)"
    )
    con.execute(
        "create table shmi as select provider_code, region_code, shmi_value::double as shmi_value "
        "from (values ('RAA', 'Y56', 1.02), ('RBB', 'Y58', 0.97), ('RCC', 'Y56', 1.11)) "
        "t(provider_code, region_code, shmi_value)"
    )
    con.execute("create table publication as select 'p1' as publication_id, 3 as row_count")
    con.close()
    return path


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so a relative path an attack writes would show up here."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plain_select_in_each_format(publication: Path) -> None:
    result = run_query(
        publication, "select provider_code, provider_name from providers order by provider_code"
    )
    assert result == QueryResult(
        columns=["provider_code", "provider_name"],
        rows=[
            ("RAA", "Alpha NHS Trust"),
            ("RBB", 'Beta, "the" Trust'),
            ("RCC", "Cedar Hospital"),
        ],
    )

    table = format_result(result, "table").splitlines()
    assert table[0].split() == ["provider_code", "provider_name"]
    assert table[2].startswith("RAA") and "Alpha NHS Trust" in table[2]
    assert table[-1] == "(3 rows)"
    assert len({line.index("Alpha") for line in table if "Alpha" in line}) == 1

    assert format_result(result, "csv").splitlines() == [
        "provider_code,provider_name",
        "RAA,Alpha NHS Trust",
        'RBB,"Beta, ""the"" Trust"',
        "RCC,Cedar Hospital",
    ]
    assert json.loads(format_result(result, "json"))[1] == {
        "provider_code": "RBB",
        "provider_name": 'Beta, "the" Trust',
    }
    with pytest.raises(ValueError, match="table, csv, json"):
        format_result(result, "xml")


def test_numbers_align_right_and_json_keeps_types(publication: Path) -> None:
    result = run_query(publication, "select provider_code, shmi_value from shmi order by 1")
    lines = format_result(result, "table").splitlines()
    ends = {len(line) for line in lines[2:5]}
    assert len(ends) == 1  # right-aligned numbers end in the same column
    assert json.loads(format_result(result, "json"))[0] == {
        "provider_code": "RAA",
        "shmi_value": 1.02,
    }
    odd = run_query(
        publication, "select 1.25::decimal(5, 2) as d, date '2024-03-31' as day, null as nothing"
    )
    assert json.loads(format_result(odd, "json")) == [
        {"d": 1.25, "day": "2024-03-31", "nothing": None}
    ]


def test_region_filter(publication: Path) -> None:
    result = run_query(
        publication,
        "select p.provider_code, p.region_code, s.shmi_value from providers p "
        "join shmi s using (provider_code) order by 1; -- trailing comment",
        region="Y56",
    )
    assert result.rows == [("RAA", "Y56", 1.02), ("RCC", "Y56", 1.11)]
    with pytest.raises(QueryRefused, match="no region 'Y99' in the publication"):
        run_query(publication, "select * from shmi", region="Y99")


def test_region_filter_needs_region_code(publication: Path) -> None:
    with pytest.raises(QueryRefused, match="must return a region_code column"):
        run_query(publication, "select provider_code from providers", region="Y56")


def test_missing_publication_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "published" / "quality.duckdb"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        run_query(missing, "select 1")


@pytest.mark.parametrize(
    "sql",
    [
        "select 'drop table x' as s",
        "select 1 as n -- drop table providers",
        "/* delete from shmi */ select count(*) as n from shmi",
        "with recent as (select * from shmi) select count(*) from recent",
        'select count(*) from "providers"',
        "select count(*) from quality.main.providers",
        "describe providers",
        "summarize shmi",
        "show tables",
        "select * from range(3)",
        "select * from unnest([1, 2])",
        "select * from json_each('{\"a\": 1}')",
    ],
)
def test_harmless_reads_are_not_refused(publication: Path, sql: str) -> None:
    """Keywords inside literals and comments, CTEs and metadata views must not trip the check."""
    result = run_query(publication, sql)
    assert result.columns


ATTACKS = [
    ("insert into providers values ('RZZ', 'Z', 'Y56')", "INSERT statement"),
    ("update providers set region_code = 'Y58'", "UPDATE statement"),
    ("delete from shmi", "DELETE statement"),
    ("create table t as select 1", "CREATE statement"),
    ("drop table providers", "DROP statement"),
    ("alter table providers add column x int", "ALTER statement"),
    ("attach 'x.duckdb'", "ATTACH statement"),
    ("detach quality", "DETACH statement"),
    ("use memory", "SET statement"),
    ("copy providers to 'out.csv'", "COPY statement"),
    ("copy providers from 'out.csv'", "COPY statement"),
    ("export database 'dump'", "EXPORT statement"),
    ("checkpoint", "CALL statement"),
    ("vacuum", "VACUUM statement"),
    ("call pragma_version()", "CALL statement"),
    ("select * from read_csv('/etc/passwd')", "read_csv() is not allowed"),
    ("select * from read_csv_auto('/etc/passwd')", "read_csv_auto() is not allowed"),
    ("select * from read_parquet('x.parquet')", "read_parquet() is not allowed"),
    ("select * from parquet_scan('x.parquet')", "parquet_scan() is not allowed"),
    ("select * from read_json_auto('x.json')", "read_json_auto() is not allowed"),
    ("select * from read_text('/etc/hostname')", "read_text() is not allowed"),
    ("select * from read_blob('/etc/hostname')", "read_blob() is not allowed"),
    ("select * from sniff_csv('/etc/passwd')", "sniff_csv() is not allowed"),
    ("select * from read_duckdb('x.duckdb')", "read_duckdb() is not allowed"),
    ("select * from '/etc/passwd'", "names a file"),
    ("select * from 'out.csv'", "names a file"),
    ("select * from shmi where provider_code in (from '/etc/passwd')", "names a file"),
    ("with x as (select 1) select * from (select * from x), 'x.csv'", "names a file"),
    ("from glob('*')", "glob() is not allowed"),
    ("from query('select 42')", "query() is not allowed"),
    ("from json_execute_serialized_sql('{}')", "json_execute_serialized_sql() is not allowed"),
    ("from pragma_table_info('providers')", "pragma_table_info() is not allowed"),
    ("from duckdb_settings()", "duckdb_settings() is not allowed"),
    ("from checkpoint()", "checkpoint() is not allowed"),
    ("select * from information_schema.tables", "outside the publication"),
    ("select * from memory.main.t", "outside the publication"),
    ("select * from secrets", "not a table in the publication"),
    ("select sleep_ms(60000)", "sleep_ms() stalls the reader"),
    ("install httpfs", "LOAD statement"),
    ("load httpfs", "LOAD statement"),
    ("set threads = 1", "SET statement"),
    ("reset threads", "SET statement"),
    ("set enable_external_access = true", "SET statement"),
    ("pragma version", "PRAGMA statement"),
    ("select 1; select 2", "2 statements"),
    ("select 1; drop table providers", "2 statements"),
    ("-- just a comment\ndelete from providers", "DELETE statement"),
    ("/* select */ drop table shmi", "DROP statement"),
    ("select from where", "could not parse"),
    ("", "no SQL statement"),
]


@pytest.mark.parametrize(("sql", "reason"), ATTACKS, ids=[a[0][:40] for a in ATTACKS])
def test_attacks_are_refused_and_change_nothing(
    publication: Path, scratch: Path, sql: str, reason: str
) -> None:
    before = sha256(publication)
    with pytest.raises(QueryRefused, match=re.escape(reason)) as refused:
        run_query(publication, sql)
    assert str(refused.value).startswith("refused")
    assert sha256(publication) == before
    assert list(scratch.iterdir()) == []


def test_region_wrapping_cannot_smuggle_a_second_statement(publication: Path) -> None:
    with pytest.raises(QueryRefused):
        run_query(
            publication, "select * from shmi) ; drop table shmi; select * from (select 1", "Y56"
        )


def test_second_line_of_defence_is_on(publication: Path, scratch: Path) -> None:
    """If the parse-tree check ever missed a file read, DuckDB itself would still refuse it."""
    (scratch / "leak.csv").write_text("a\n1\n")
    con = _open_publication(publication)
    try:
        assert con.execute("select current_setting('enable_external_access')").fetchone() == (
            False,
        )
        with pytest.raises(duckdb.PermissionException):
            con.execute("select * from read_csv('leak.csv')")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("delete from providers")
    finally:
        con.close()


def test_readers_do_not_block_each_other(publication: Path) -> None:
    """A query runs while another process and another connection here are mid-read."""
    holder = textwrap.dedent(
        f"""
        import sys, duckdb
        con = duckdb.connect({str(publication)!r}, read_only=True)
        cur = con.execute("select * from providers")
        cur.fetchone()
        print("reading", flush=True)
        sys.stdin.readline()
        """
    )
    other_process = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert other_process.stdout is not None and other_process.stdin is not None
        assert other_process.stdout.readline().strip() == "reading"
        same_process = duckdb.connect(str(publication), read_only=True)
        try:
            cursor = same_process.execute("select * from shmi")
            cursor.fetchone()
            result = run_query(publication, "select count(*) as n from providers")
            assert result.rows == [(3,)]
        finally:
            same_process.close()
        other_process.stdin.write("\n")
        other_process.stdin.flush()
        assert other_process.wait(timeout=30) == 0
    finally:
        if other_process.poll() is None:
            other_process.kill()
            other_process.wait()


def test_the_screen_rounds_decimals_for_reading_and_files_keep_every_digit(
    publication: Path,
) -> None:
    result = run_query(
        publication,
        "select 0.971963::double as ratio, 95.0::double as pct, 1234.56785::double as big, "
        "-0.00001::double as tiny, 7 as whole",
    )
    assert format_result(result, "table").splitlines()[2].split() == [
        "0.972", "95", "1234.5679", "0", "7"
    ]  # fmt: skip
    assert format_result(result, "csv").splitlines()[1] == "0.971963,95.0,1234.56785,-1e-05,7"
