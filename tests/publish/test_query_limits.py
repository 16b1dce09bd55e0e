"""`qa query` limits and files: a runaway query is stopped at its time limit, the screen
shows the first rows and says how many more there were, and --output writes every row to
CSV or Parquet with its types, through the same checks.

The publication is a real DuckDB file in a home folder, and the command line is called
as a user calls it (arguments in, exit status and output back).
"""

from __future__ import annotations

import csv
import hashlib
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import build_parser, main
from dagster_project.publish.observatories.query import (
    DEFAULT_MAX_ROWS,
    DEFAULT_TIMEOUT_SECONDS,
    QueryTimedOut,
    format_result,
    run_query,
)

ROWS = 2500  # more than the 1,000 shown by default
# Far more work than any machine finishes in the time limits below.
SLOW = "select count(*) as n from range(100000000) a, range(1000) b where a.range + b.range = 7"
SLOW_ROWS = "select a.range as a, b.range as b from range(100000) a, range(100000) b"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    (root / "published").mkdir()
    con = duckdb.connect(str(root / "published" / "quality.duckdb"))
    con.execute(
        f"""
        create table indicator_values as
        select 'R' || lpad(i::varchar, 4, '0') as provider_code,
               case when i % 2 = 0 then 'Y56' else 'Y58' end as region_code,
               i::integer as position,
               (i * 0.5 - 1.5)::double as score,
               (i / 100)::decimal(6, 2) as gain,
               date '2024-04-01' + (i % 365)::integer as reported_on,
               i % 3 = 0 as withheld
        from range({ROWS}) t(i)
        """
    )
    con.close()
    return root


def _publication(home: Path) -> Path:
    return home / "published" / "quality.duckdb"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _qa(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["query", *args, "--home", str(home)])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())  # messages wrap to the terminal's width


def test_a_slow_query_is_stopped_at_the_time_limit(home, capsys):
    started = time.monotonic()
    code, out, err = _qa(capsys, home, SLOW, "--timeout", "1")
    assert time.monotonic() - started < 20
    assert code == 3
    assert out == ""
    assert "stopped: the query ran for 1 second, its time limit" in err
    assert "--timeout SECONDS" in err


def test_the_time_limit_also_stops_a_query_while_its_rows_stream(home):
    with pytest.raises(QueryTimedOut, match="ran for 0.5 seconds"):
        run_query(_publication(home), SLOW_ROWS, timeout=0.5, max_rows=10)


def test_a_quick_query_is_untouched_by_its_time_limit(home):
    result = run_query(_publication(home), "select count(*) from indicator_values", timeout=0.5)
    assert result.rows == [(ROWS,)]


def test_the_screen_shows_the_first_rows_and_counts_the_rest(home, capsys):
    sql = "select provider_code, score from indicator_values order by position"
    code, out, err = _qa(capsys, home, sql)
    assert code == 0
    lines = out.splitlines()
    assert lines[2].split() == ["R0000", "-1.5"]
    assert lines[-2].split() == ["R0999", "498"]  # rounded for reading: 498.0 shows as 498
    assert lines[-1] == f"({DEFAULT_MAX_ROWS} rows shown; {ROWS - DEFAULT_MAX_ROWS} more not shown)"
    assert len(lines) == 2 + DEFAULT_MAX_ROWS + 1
    assert f"{ROWS - DEFAULT_MAX_ROWS} more were not shown" in err
    assert "--output FILE writes every row" in err

    code, out, err = _qa(capsys, home, sql, "--format", "csv", "--max-rows", "3")
    assert code == 0
    assert out.splitlines() == ["provider_code,score", "R0000,-1.5", "R0001,-1.0", "R0002,-0.5"]
    assert f"{ROWS - 3} more were not shown" in err  # on stderr, so the CSV stays clean

    code, out, err = _qa(capsys, home, sql, "--max-rows", "0")
    assert code == 0
    assert out.splitlines()[-1] == f"({ROWS} rows)"
    assert "not shown" not in err


def test_a_result_within_the_limit_is_shown_whole(home):
    result = run_query(
        _publication(home), "select position from indicator_values where position < 5", max_rows=5
    )
    assert (len(result.rows), result.more_rows) == (5, 0)
    assert format_result(result, "table").splitlines()[-1] == "(5 rows)"


def test_csv_output_holds_every_row(home, capsys, tmp_path):
    before = _sha(_publication(home))
    output = tmp_path / "indicators.csv"
    code, out, err = _qa(
        capsys, home, "select * from indicator_values order by position", "--output", str(output)
    )
    assert code == 0
    assert out == ""
    assert f"Wrote {ROWS} rows to {output}" in err
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == ROWS
    assert rows[0] == {
        "provider_code": "R0000",
        "region_code": "Y56",
        "position": "0",
        "score": "-1.5",
        "gain": "0.00",
        "reported_on": "2024-04-01",
        "withheld": "true",
    }
    assert rows[-1]["position"] == str(ROWS - 1) and rows[-1]["gain"] == "24.99"
    assert _sha(_publication(home)) == before
    assert [p.name for p in tmp_path.iterdir()] == ["indicators.csv"]  # no temporary left


def test_parquet_output_holds_every_row_with_its_types(home, capsys, tmp_path):
    output = tmp_path / "y56.parquet"
    code, _, err = _qa(
        capsys, home, "select * from indicator_values", "--region", "Y56", "--output", str(output)
    )
    assert code == 0
    assert f"Wrote {ROWS // 2} rows" in err
    con = duckdb.connect()
    try:
        types = dict(con.execute(f"select column_name, column_type from (describe '{output}')")
                     .fetchall())  # fmt: skip
        assert types == {
            "provider_code": "VARCHAR",
            "region_code": "VARCHAR",
            "position": "INTEGER",
            "score": "DOUBLE",
            "gain": "DECIMAL(6,2)",
            "reported_on": "DATE",
            "withheld": "BOOLEAN",
        }
        assert con.execute(
            f"select count(*), count(distinct region_code), min(score), max(gain) from '{output}'"
        ).fetchall() == [(ROWS // 2, 1, -1.5, Decimal("24.98"))]
        assert con.execute(f"select reported_on from '{output}' where position = 2").fetchall() == [
            (date(2024, 4, 3),)
        ]
    finally:
        con.close()


def test_output_format_comes_from_the_option_or_the_extension(home, capsys, tmp_path):
    output = tmp_path / "export.txt"
    code, _, err = _qa(capsys, home, "select 1 as n", "--output", str(output))
    assert code == 2
    assert "--output needs --format csv or --format parquet" in err
    code, _, _ = _qa(capsys, home, "select 1 as n", "--output", str(output), "--format", "csv")
    assert code == 0
    assert output.read_text().splitlines() == ['"n"', "1"]
    code, _, err = _qa(capsys, home, "select 1 as n", "--format", "parquet")
    assert code == 2
    assert "--format parquet writes a file" in err


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("copy indicator_values to 'out.csv'", "COPY statements are not allowed"),
        ("select * from read_csv('/etc/passwd')", "read_csv() is not allowed"),
        ("select * from 'out.csv'", "names a file"),
    ],
)
def test_output_goes_through_the_same_checks(home, capsys, tmp_path, sql, reason):
    output = tmp_path / "out.csv"
    code, _, err = _qa(capsys, home, sql, "--output", str(output))
    assert code == 2
    assert reason in err
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_export_leaves_the_earlier_file_as_it_was(home, capsys, tmp_path):
    output = tmp_path / "big.csv"
    output.write_text("earlier export\n")
    code, _, err = _qa(capsys, home, SLOW_ROWS, "--output", str(output), "--timeout", "1")
    assert code == 3
    assert "ran for 1 second, its time limit" in err
    assert output.read_text() == "earlier export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


def test_output_is_refused_inside_the_publication_folder(home, capsys):
    before = _sha(_publication(home))
    for target in (_publication(home), home / "published" / "extract.csv"):
        code, _, err = _qa(capsys, home, "select 1 as n", "--output", str(target),
                           "--format", "csv")  # fmt: skip
        assert code == 2
        assert "publication's folder" in err
    assert _sha(_publication(home)) == before
    assert not (home / "published" / "extract.csv").exists()


def test_columns_a_file_cannot_hold_are_refused_with_the_way_round(home, capsys, tmp_path):
    code, _, err = _qa(capsys, home, "select [1, 2] as pair", "--output", str(tmp_path / "a.csv"))
    assert code == 2
    assert "CSV cannot hold the column(s) pair (INTEGER[])" in err
    assert "cast(column as varchar)" in err
    code, _, _ = _qa(capsys, home, "select [1, 2] as pair", "--output", str(tmp_path / "a.parquet"))
    assert code == 0
    code, _, err = _qa(
        capsys, home, "select 1 as n, 2 as n", "--output", str(tmp_path / "b.parquet")
    )
    assert code == 2
    assert "n is repeated" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet"]


def test_limits_are_options_with_the_documented_defaults():
    args = build_parser().parse_args(["query", "select 1"])
    assert (args.max_rows, args.timeout) == (DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_SECONDS)
    assert (DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT_SECONDS) == (1000, 30)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["query", "select 1", "--timeout", "-1"])
