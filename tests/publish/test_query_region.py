"""`qa query` as an observatory uses it: --region gives the region's own figures, and every
kind of query that could do more than read is refused, with or without --region.

The publication here is a real DuckDB file in a home folder; the command line is
called as a user calls it (arguments in, exit status and output back), and the
file's checksum is compared after each call, so a refusal that came too late
would still fail.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.cli import main

PROVIDERS = [
    ("RAA", "Alpha NHS Trust", "Y56"),
    ("RBB", "Beta NHS Trust", "Y58"),
    ("RCC", "Cedar NHS Trust", "Y56"),
    ("RDD", "Delta NHS Trust", "Y56"),
    ("REE", "Echo NHS Trust", "Y58"),
]
GAINS = {"RAA": 21.0, "RBB": 23.5, "RCC": 19.2, "RDD": 22.4, "REE": 20.1}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    (root / "published").mkdir()
    con = duckdb.connect(str(root / "published" / "quality.duckdb"))
    con.execute("create table providers (provider_code varchar, provider_name varchar, "
                "region_code varchar)")  # fmt: skip
    con.executemany("insert into providers values (?, ?, ?)", PROVIDERS)
    con.execute(
        "create table proms_provider_outcomes as select p.provider_code, p.region_code, "
        "g.gain as adjusted_health_gain from providers p join (values "
        + ", ".join(f"('{code}', {gain})" for code, gain in GAINS.items())
        + ") g(provider_code, gain) using (provider_code)"
    )
    con.execute("create table publication (publication_id varchar, table_name varchar, "
                "row_count bigint)")  # fmt: skip
    con.executemany(
        "insert into publication values ('p1', ?, 5)", [["providers"], ["proms_provider_outcomes"]]
    )
    con.close()
    return root


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _qa(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["query", *args, "--home", str(home)])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())  # messages wrap to the terminal's width


def test_region_ranks_and_counts_within_the_region(home, capsys):
    code, out, _ = _qa(
        capsys, home,
        "select provider_code, region_code, rank() over (order by adjusted_health_gain desc) "
        "as league_position from proms_provider_outcomes order by league_position",
        "--region", "Y56", "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == [
        {"provider_code": "RDD", "region_code": "Y56", "league_position": 1},
        {"provider_code": "RAA", "region_code": "Y56", "league_position": 2},
        {"provider_code": "RCC", "region_code": "Y56", "league_position": 3},
    ]
    code, out, _ = _qa(capsys, home, "select region_code, count(*) as providers from providers "
                       "group by region_code", "--region", "Y58", "--format", "csv")  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["region_code,providers", "Y58,2"]


def test_region_joins_tables_without_region_code(home, capsys):
    code, out, _ = _qa(
        capsys, home,
        "select p.region_code, count(*) as providers, max(x.row_count) as published_rows "
        "from providers p, publication x where x.table_name = 'providers' group by 1",
        "--region", "Y56", "--format", "csv",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["region_code,providers,published_rows", "Y56,3,5"]


def test_region_is_a_value_not_sql(home, capsys):
    before = _sha(home / "published" / "quality.duckdb")
    code, out, err = _qa(capsys, home, "select * from providers", "--region",
                         "Y56' or '1' = '1", "--format", "json")  # fmt: skip
    assert code == 2 and out == ""
    assert "no region \"Y56' or '1' = '1\" in the publication" in err
    assert _sha(home / "published" / "quality.duckdb") == before


def test_an_unknown_region_is_refused_naming_the_regions_there(home, capsys):
    """Not an empty answer, which would read as 'the region has no providers'."""
    code, out, err = _qa(capsys, home, "select * from providers", "--region", "Y99")
    assert code == 2 and out == ""
    assert "no region 'Y99' in the publication; its regions are Y56, Y58" in err


def test_a_query_that_fails_has_its_own_exit_status(home, capsys):
    code, out, err = _qa(capsys, home, "select no_such_column from providers")
    assert code == 4 and out == ""
    assert "The query failed:" in err and "no_such_column" in err


def test_region_cannot_go_round_its_views(home, capsys):
    code, _, err = _qa(capsys, home, "select * from publication_file.main.providers",
                       "--region", "Y56")  # fmt: skip
    assert code == 2
    assert "outside the publication" in err


REFUSED = [
    ("insert into providers values ('RZZ', 'Zed', 'Y56')", "INSERT"),
    ("update providers set region_code = 'Y58'", "UPDATE"),
    ("delete from providers", "DELETE"),
    ("create table copy_of as select * from providers", "CREATE"),
    ("drop table providers", "DROP"),
    ("attach 'other.duckdb' as other", "ATTACH"),
    ("copy providers to 'providers.csv'", "COPY"),
    ("select * from read_csv('/etc/passwd')", "read_csv()"),
    ("select * from read_parquet('published/parquet/*/*.parquet')", "read_parquet()"),
    ("select * from read_json('data.json')", "read_json()"),
    ("select * from glob('*')", "glob()"),
    ("select * from read_text('/etc/hostname')", "read_text()"),
    ("select * from '/etc/passwd'", "names a file"),
    ("install httpfs", "LOAD"),
    ("load httpfs", "LOAD"),
    ("set threads = 1", "SET"),
    ("pragma database_list", "PRAGMA"),
    ("select 1 as region_code; drop table providers", "2 statements"),
]


@pytest.mark.parametrize("region", [None, "Y56"], ids=["all regions", "one region"])
@pytest.mark.parametrize(("sql", "named"), REFUSED, ids=[r[0][:32] for r in REFUSED])
def test_anything_but_one_read_is_refused(home, capsys, tmp_path, monkeypatch, region, sql, named):
    monkeypatch.chdir(tmp_path)  # a file an attack managed to write would appear here
    db = home / "published" / "quality.duckdb"
    before = _sha(db)
    code, out, err = _qa(capsys, home, sql, *(["--region", region] if region else []))
    assert code == 2
    assert "refused" in err and named in err, err
    assert out == ""
    assert _sha(db) == before
    assert list(tmp_path.iterdir()) == []
    assert not Path(f"{db}.wal").exists()
