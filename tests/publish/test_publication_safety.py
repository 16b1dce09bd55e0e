"""A run that dies, a run that meets a locked warehouse, and a run repeated: the publication
observatories read is never lost, never half-replaced, and the same inputs publish the same rows.

The runs killed here are real `qa run` processes, killed with SIGKILL together
with their dbt subprocess (the whole process group, as when a machine or
container is stopped). The moments are chosen like this:

* during dbt: by watching the filesystem. dbt's progress lines go to the run's
  log in `dagster/logs/`, and dbt builds for seconds after its first model
  starts, so the kill lands inside dbt.
* while the new publication is being written, and between writing it and
  renaming it into place: for a small region these moments last milliseconds,
  too short to hit reliably by watching files. So the run (of the `republish`
  job: the publish step alone) is started with QA_FAULT_PAUSE_PUBLISH=writing
  or =renaming, which the publish step (and nothing else) reads: it stops at
  that point, says so on stderr, and waits to be killed. The test also checks
  the temporary file is there, so the kill really did come mid-publication.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_project.home import Home
from dagster_project.publish.snapshot import FAULT_PAUSE_ENV
from dagster_project.runner import run_pipeline

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(small_region: Home) -> Home:
    return small_region


def _publication(home: Home) -> tuple[str, dict[str, int], str]:
    """(publication id, each table's row count, the Parquet pointer), read as a reader would."""
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        (publication_id,) = con.execute(
            "select distinct publication_id from publication"
        ).fetchone()
        declared = dict(con.execute("select table_name, row_count from publication").fetchall())
        counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in declared}
    finally:
        con.close()
    assert counts == declared, "the publication must be whole"
    pointer = (home.published / "parquet" / "CURRENT").read_text().strip()
    return publication_id, counts, pointer


def _start_run(home: Home, job: str = "build_publication", **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_project.cli",
            "--quiet",
            "run",
            "--home",
            str(home.root),
            "--job",
            job,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, dbt included
    )


def _kill(run: subprocess.Popen) -> None:
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert run.returncode == -signal.SIGKILL


def _leftovers(home: Home) -> list[str]:
    return sorted(
        p.name
        for p in [*home.published.glob(".quality.duckdb.*"), *home.published.glob("parquet/.*")]
    )


def _assert_next_run_publishes(home: Home, before: tuple[str, dict[str, int], str]) -> None:
    """The run after a killed one completes, clears what was left, and (same inputs, so
    idempotent) publishes the same rows as the publication before."""
    rows_before = _published_rows(home)
    outcome = run_pipeline(home, job_name="build_publication")
    assert outcome.success, outcome.failures
    after = _publication(home)
    assert after[0] != before[0] and after[2] == after[0]
    assert after[1] == before[1], "the same inputs publish the same tables and rows"
    assert _leftovers(home) == [], "the next publish clears what the killed one left"
    _assert_same_rows(rows_before, _published_rows(home))


def _kill_during_dbt(home: Home) -> None:
    logs = home.dagster / "logs"
    earlier = set(logs.glob("*.log"))
    run = _start_run(home)
    try:
        while run.poll() is None:
            started = [
                log
                for log in set(logs.glob("*.log")) - earlier
                if " START " in log.read_text(encoding="utf-8", errors="replace")
            ]
            if started:
                break
            time.sleep(0.05)
        assert run.poll() is None, f"the run ended before dbt was seen: {run.stderr.read()}"
    finally:
        _kill(run)


def _kill_while_publishing(home: Home, moment: str) -> None:
    # The publication step alone (the `republish` job): the same code as in a whole run,
    # without a dbt build before it that the kill does not need.
    run = _start_run(home, "republish", **{FAULT_PAUSE_ENV: moment})
    try:
        assert run.stderr is not None
        said: list[str] = []
        for line in run.stderr:  # ends if the run ends without pausing
            said.append(line)
            if f"paused {moment}" in line:
                break
        assert said and f"paused {moment}" in said[-1], f"the run never reached {moment}: {said}"
        assert any(name.endswith(".tmp") for name in _leftovers(home)), _leftovers(home)
    finally:
        _kill(run)


def test_killed_runs_leave_the_publication_whole_and_the_next_run_completes(home):
    """Killed while writing the new publication, between writing and renaming it, and
    during dbt: after each, readers see the previous publication, whole. One run after
    all three completes (each kill leaves its own debris, which it must clear)."""
    before = _publication(home)
    # The publication-step kills first, while the warehouse they publish from is whole;
    # the kill during dbt last, since it may leave the warehouse mid-build.
    for moment, kill in (
        ("writing", lambda h: _kill_while_publishing(h, "writing")),
        ("renaming", lambda h: _kill_while_publishing(h, "renaming")),
        ("during dbt", _kill_during_dbt),
    ):
        kill(home)
        assert _publication(home) == before, f"killed {moment}: the publication changed"
    _assert_next_run_publishes(home, before)


def _published_rows(home: Home) -> dict[str, list[tuple]]:
    """Every table's rows in a stable order; the publication table without its id and time."""
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        found = {}
        for (table,) in con.execute("show tables").fetchall():
            sql = (
                "select * exclude (publication_id, published_at) from publication"
                if table == "publication"
                else f'select * from "{table}"'
            )
            found[table] = sorted(con.execute(sql).fetchall(), key=_row_key)
        return found
    finally:
        con.close()


def _row_key(row: tuple) -> tuple:
    return tuple((v is None, round(v, 6) if isinstance(v, float) else v) for v in row)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def _assert_same_rows(first: dict[str, list[tuple]], second: dict[str, list[tuple]]) -> None:
    """Every published row the same, apart from the publication's id and time.

    Exactly the same, except that a DOUBLE may differ in its last bits: DuckDB adds
    up doubles in parallel, in whatever order its threads finish, so a mean can come
    out as 65.44500000000001 in one run and 65.44499999999998 in the next. Those are
    compared to twelve significant figures; every other value exactly.
    """
    assert second.keys() == first.keys()
    for table, rows in first.items():
        assert len(second[table]) == len(rows), table
        for before, after in zip(rows, second[table], strict=True):
            assert all(_same(a, b) for a, b in zip(before, after, strict=True)), (
                f"{table}: {before} != {after}"
            )


HOLDER = textwrap.dedent(
    """
    import sys, duckdb
    con = duckdb.connect(sys.argv[1])  # read-write: DuckDB locks the file for this process
    print("held", flush=True)
    sys.stdin.readline()
    con.close()
    """
)


@dataclass(frozen=True)
class Reissue:
    original: Path
    member: str
    copy: Path
    reissue: Path
    provider: str
    observed: int
    rows: int

    def sources(self) -> dict[str, str]:
        """The landing history's name for each delivery of the trust-level file."""
        return {
            "original": f"{self.original.name}!{self.member}",
            "copy": f"{self.copy.name}!{self.member}",
            "reissue": self.reissue.name,
        }


def _deliver_reissue(home: Home) -> Reissue:
    """NHS Digital re-issues a SHMI publication's trust-level file with one trust's deaths
    corrected, and the first issue's zip is delivered again under another name."""
    folder = home.landing / "shmi"
    original = sorted(folder.glob("SHMI data files, *.zip"))[-1]
    with zipfile.ZipFile(original) as archive:
        member = next(n for n in archive.namelist() if "trust level" in n)
        header, first, *rest = archive.read(member).decode().splitlines()
    cells = first.split(",")  # PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,SPELLS,...
    code, observed = cells[0], int(cells[5])
    cells[5] = str(observed + 7)
    cells[2] = f"{(observed + 7) / float(cells[6]):.4f}"  # the ratio, re-issued with them
    reissue = folder / Path(member).name.replace(" (csv).csv", " (csv) reissued.csv")
    reissue.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
    copy = folder / f"copy of {original.name}"
    copy.write_bytes(original.read_bytes())
    return Reissue(original, member, copy, reissue, code, observed, 1 + len(rest))


def _assert_reissue_published(home: Home, delivered: Reissue) -> None:
    """The published figure is the re-issue's; the first issue's rows are kept in the
    warehouse's history; the landing history says what became of each file."""
    sources = delivered.sources()
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        published = con.execute(
            "select observed_deaths from shmi where provider_code = ? "
            "order by period_end desc limit 1",
            [delivered.provider],
        ).fetchone()
        history = dict(
            con.execute(
                "select source_file, status from landing_history where feed = 'shmi' "
                "and source_file in (?, ?, ?)",
                list(sources.values()),
            ).fetchall()
        )
    finally:
        con.close()
    assert published == (delivered.observed + 7,)
    # The original arrived first; the copy is its duplicate; the re-issue replaces it.
    assert history == {
        sources["original"]: "superseded",
        sources["copy"]: "duplicate",
        sources["reissue"]: "current",
    }
    warehouse = duckdb.connect(str(home.warehouse_db), read_only=True)
    try:
        kept = warehouse.execute(
            "select count(*), min(superseded_by_file), "
            "max(json_extract_string(record, '$.observed')) filter (where row_number = 2) "
            "from history.superseded_rows where table_name = 'shmi'"
        ).fetchone()
    finally:
        warehouse.close()
    assert kept == (delivered.rows, delivered.reissue.name, str(delivered.observed))


def test_a_reissue_is_published_once_a_locked_warehouse_is_free(home):
    """A re-issued file (and a repeat of the first issue) arrives while another process
    holds the warehouse: dbt meets the lock, waits and tries again, then publishes the
    re-issue in place of its predecessor, with the first issue kept as history."""
    delivered = _deliver_reissue(home)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home.warehouse_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    released: list[str] = []

    def release(kind: str, step: str) -> None:
        if kind == "STEP_UP_FOR_RETRY" and not released:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait()
            released.append(step)

    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        outcome = run_pipeline(home, on_event=release, job_name="build_publication")
        assert outcome.success, outcome.failures
        assert released == ["warehouse_models"]
        assert len(outcome.retried) == 1
        assert outcome.retried[0].startswith("warehouse_models: ")
        assert "Could not set lock" in outcome.retried[0]
        assert "tried again after 2 s" in outcome.retried[0]
        _assert_reissue_published(home, delivered)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        delivered.reissue.unlink()
        delivered.copy.unlink()


def test_an_unreadable_file_is_not_retried(home):
    path = home.landing / "proms" / "Hip Replacement Provider 2324.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Hip Replacement Provider 2324.csv", "x" * 5000)
    path.write_bytes(path.read_bytes()[:200])
    before = _publication(home)
    try:
        outcome = run_pipeline(home, job_name="build_publication")
    finally:
        path.unlink()
    assert not outcome.success
    assert any(path.name in failure for failure in outcome.failures), outcome.failures
    assert outcome.retried == []
    assert _publication(home) == before
