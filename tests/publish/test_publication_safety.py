"""A run that dies, a run that meets a locked warehouse, and a run repeated: the publication
observatories read is never lost, never half-replaced, and the same inputs publish the same rows.

The runs killed here are real `qa run` processes, killed with SIGKILL together
with their dbt subprocess (the whole process group, as when a machine or
container is stopped), at every stage. The moments are chosen like this:

* during ingest, validation and the documents: halfway through writing a file,
  the moment a kill does most harm. A file is written in well under a second,
  too short to hit by watching, so the run is started with a small hook in every
  Python process (PAUSING_HOOK) that stops the real writer just before it renames the first file
  in a chosen folder into place, cuts the temporary file to half, says so in a
  file and waits to be killed. Ingest and validation skip files they have
  already done, so the test first removes what they would skip on (the parsed
  PROMs files; the PROMs validation records), as when a delivery has just arrived.
* during dbt: by watching the filesystem. dbt's progress lines go to the run's
  log in `dagster/logs/`, and dbt builds for seconds after its first model
  starts, so the kill lands inside dbt.
* while the new publication is being written, and between writing it and
  renaming it into place: the run (of the `republish` job: the publish step
  alone) is started with QA_FAULT_PAUSE_PUBLISH=writing or =renaming, which the
  publish step (and nothing else) reads: it stops at that point, says so in the
  file QA_FAULT_PAUSE_NOTE names, and waits to be killed. The test also checks the temporary file is
  there, so the kill really did come mid-publication.
"""

from __future__ import annotations

import hashlib
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

import dagster as dg
import duckdb
import pytest

from dagster_project.home import Home
from dagster_project.publish.observatories.snapshot import FAULT_NOTE_ENV, FAULT_PAUSE_ENV
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


# `qa` stopped halfway through writing a file: when the first file in the folder named by
# QA_TEST_STOP_IN (a Parquet file or a page; not a `_`-named empty table) is about to be
# renamed into place, its temporary file is cut to half, as a kill halfway through writing
# it leaves it, and the process says so in a file and waits to be killed. A writer that
# wrote in place, never renaming, would never stop. The hook is a `sitecustomize` module,
# so every Python process of the run has it, the pool drawing the documents included.
PAUSING_HOOK = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    if os.environ.get("QA_TEST_STOP_IN"):
        folder = Path(os.environ["QA_TEST_STOP_IN"]).resolve()
        replace = os.replace

        def halfway(src, dst, *args, **kwargs):
            target = Path(dst).resolve()
            if target.parent == folder and not target.name.startswith(("_", ".")):
                os.truncate(src, os.stat(src).st_size // 2)
                # Said in a file: a step's stderr is its Dagster log file, not the pipe.
                Path(os.environ["QA_TEST_PAUSED"]).write_text(f"paused writing {target}")
                time.sleep(600)
            return replace(src, dst, *args, **kwargs)

        os.replace = halfway
    """
)


def _start_run(
    home: Home, job: str = "build_publication", stop_in: Path | None = None, **env: str
) -> subprocess.Popen:
    """`qa run` of `job`; with `stop_in`, stopping halfway through its first file there."""
    if stop_in:
        hooks = home.root / ".test-hooks"
        hooks.mkdir(exist_ok=True)
        (hooks / "sitecustomize.py").write_text(PAUSING_HOOK, encoding="utf-8")
        path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
        paused = hooks / "paused"
        paused.unlink(missing_ok=True)
        env = {**env, "QA_TEST_STOP_IN": str(stop_in), "QA_TEST_PAUSED": str(paused),
               "PYTHONPATH": path}  # fmt: skip
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


def _checksums(folder: Path) -> dict[str, str]:
    """Every file a reader would open, by path: none with a hidden (temporary) name."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }


def _runs_in_progress(home: Home) -> list[str]:
    """Runs the home's Dagster instance still counts as going (it runs one at a time)."""
    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        return [
            r.dagster_run.run_id
            for r in instance.get_run_records(
                dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
            )
        ]


def _assert_next_run_publishes(home: Home, before: tuple[str, dict[str, int], str]) -> None:
    """The run after the killed ones completes, clears what they left, marks them failed
    so the instance's queue moves again, and (same inputs, so idempotent) publishes the
    same rows as the publication before and renders the same pages."""
    rows_before = _published_rows(home)
    site_before = _checksums(home.site)
    killed = _runs_in_progress(home)
    outcome = run_pipeline(home, job_name="build_without_pdfs")
    assert outcome.success, outcome.failures
    after = _publication(home)
    assert after[0] != before[0] and after[2] == after[0]
    assert after[1] == before[1], "the same inputs publish the same tables and rows"
    assert _leftovers(home) == [], "the next publish clears what the killed one left"
    _assert_same_rows(rows_before, _published_rows(home))
    assert sorted(outcome.abandoned) == sorted(killed) and _runs_in_progress(home) == []
    partial = [*home.raw.rglob("*.tmp"), *home.quarantine.rglob("*.tmp")]
    assert partial == [], "half-written Parquet is cleared"
    # The data dictionary is dbt's, stamped with when it was generated.
    assert {p: c for p, c in _checksums(home.site).items() if not p.startswith("docs/")} == {
        p: c for p, c in site_before.items() if not p.startswith("docs/")
    }


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


def _kill_while_writing(home: Home, job: str, folder: Path) -> None:
    """Kill a run of `job` halfway through the first file it writes in `folder`."""
    run = _start_run(home, job, stop_in=folder)
    paused = home.root / ".test-hooks" / "paused"
    try:
        while run.poll() is None and not paused.exists():
            time.sleep(0.05)
        assert paused.exists(), f"the run wrote nothing in {folder}: {run.stderr.read()}"
        half = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        assert half, f"no half-written file in {folder}"
    finally:
        _kill(run)


def _kill_during_ingest(home: Home) -> None:
    """Halfway through parsing a PROMs file, as when it has just been delivered."""
    folder = home.incoming / "proms_records"
    for parsed in folder.glob("*.parquet"):
        parsed.unlink()
    _kill_while_writing(home, "build_publication", folder)


def _kill_during_validation(home: Home) -> None:
    """Halfway through writing a validated PROMs file, its validation to be done again."""
    folder = home.raw / "proms_records"
    for record in folder.glob("*.json"):
        record.unlink()
    _kill_while_writing(home, "build_publication", folder)


def _kill_during_documents(home: Home) -> None:
    """Halfway through the last provider's Quality Account, every other's already rewritten
    (the documents alone: the `quality_accounts` job, from the current publication)."""
    last = sorted(home.site.glob("*/*/quality-account.html"))[-1]
    _kill_while_writing(home, "quality_accounts", last.parent)


def _kill_while_publishing(home: Home, moment: str) -> None:
    # The publication step alone (the `republish` job): the same code as in a whole run,
    # without a dbt build before it that the kill does not need.
    note = home.root / ".test-hooks" / "paused-publishing"
    note.parent.mkdir(exist_ok=True)
    note.unlink(missing_ok=True)
    run = _start_run(home, "republish", **{FAULT_PAUSE_ENV: moment, FAULT_NOTE_ENV: str(note)})
    try:
        while run.poll() is None and not note.exists():
            time.sleep(0.05)
        said = note.read_text(encoding="utf-8") if note.exists() else run.stderr.read()
        assert f"paused {moment}" in said, f"the run never reached {moment}: {said}"
        assert any(name.endswith(".tmp") for name in _leftovers(home)), _leftovers(home)
    finally:
        _kill(run)


def test_killed_runs_leave_the_publication_whole_and_the_next_run_completes(home):
    """Killed at every stage: writing a Quality Account, writing the new publication,
    between writing and renaming it, parsing a file, writing a validated file, and during
    dbt. After each, readers see the previous publication and site, whole and unchanged
    to the byte. One run after all of them completes (each kill leaves its own debris,
    which it must clear)."""
    # The region is shared: other modules' deliveries may have come and gone since its last
    # publication, and their history with them. Publish what landing holds now, so the
    # publication every kill must leave alone is these inputs' own.
    assert run_pipeline(home, job_name="build_without_pdfs").success
    before = _publication(home)
    published, site = _checksums(home.published), _checksums(home.site)
    # The kills at publication and documents first, while the warehouse they read is whole;
    # the kill during dbt last, since it may leave the warehouse mid-build.
    for moment, kill in (
        ("documents", _kill_during_documents),
        ("writing", lambda h: _kill_while_publishing(h, "writing")),
        ("renaming", lambda h: _kill_while_publishing(h, "renaming")),
        ("ingest", _kill_during_ingest),
        ("validation", _kill_during_validation),
        ("during dbt", _kill_during_dbt),
    ):
        kill(home)
        assert _publication(home) == before, f"killed {moment}: the publication changed"
        assert _checksums(home.published) == published, f"killed {moment}: a file changed"
        assert _checksums(home.site) == site, f"killed {moment}: the site changed"
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
