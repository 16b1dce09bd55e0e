"""Benchmark: a national incident file through ingest and validation, with bounded memory.

Patient safety incident files run to millions of rows a year. Ingest streams the
CSV in batches and validation runs the suite batch by batch, so peak memory
should stay roughly flat as the file grows. For each size this writes a
synthetic incidents file, then parses and validates it in a fresh process and
reports wall and CPU time and that process's peak resident memory (after ingest,
and in all), beside the file's size and what the same rows cost held whole in a
pandas frame. The machine is shared, so the load average and the CPU time other
processes used meanwhile are reported too.

This measures; it asserts nothing. Results are printed and written as JSON under
`bench/results/` (git-ignored).

    python bench/incidents.py                    # 1 and 5 million rows
    python bench/incidents.py --rows 200000      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"

_CHILD = """
import json, resource, sys, time
from pathlib import Path
import pyarrow as pa
from dagster_project.home import Home
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.run import validate_feed


def cpu_s():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def own_peak_rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


home = Home(Path(sys.argv[1]))
start, start_cpu = time.perf_counter(), cpu_s()
ingested = ingest_feed(home, "incidents")
parsed, parsed_cpu = time.perf_counter(), cpu_s()
ingest_peak = own_peak_rss_kib()
report = validate_feed(home, "incidents")
done, done_cpu = time.perf_counter(), cpu_s()
totals = report.totals()
print(json.dumps({
    "rows_in": totals["rows_in"],
    "rows_valid": totals["rows_valid"],
    "records_quarantined": totals["records_quarantined"],
    "ingest_s": round(parsed - start, 1),
    "validate_s": round(done - parsed, 1),
    "ingest_cpu_s": round(parsed_cpu - start_cpu, 1),
    "validate_cpu_s": round(done_cpu - parsed_cpu, 1),
    "cpu_s": round(done_cpu, 1),
    "ingest_peak_rss_mib": round(ingest_peak / 1024),
    "peak_rss_mib": round(own_peak_rss_kib() / 1024),
    "arrow_peak_mib": round(pa.default_memory_pool().max_memory() / 2**20),
}))
"""


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _frame_mib(path: Path, sample_rows: int = 200_000) -> float:
    """What the whole file would take as a pandas frame of text, scaled up from a sample."""
    import pandas as pd

    sample = pd.read_csv(path, dtype=str, nrows=sample_rows, keep_default_na=False)
    total = sum(1 for _ in path.open("rb")) - 1
    per_row = sample.memory_usage(deep=True).sum() / max(len(sample), 1)
    return per_row * total / 2**20


def run(rows: int, seed: int) -> dict:
    from dagster_project.synth import write_incidents_file

    with tempfile.TemporaryDirectory(prefix="qa-bench-incidents-") as tmp:
        root = Path(tmp)
        landing = root / "landing" / "incidents"
        landing.mkdir(parents=True)
        path = landing / "incidents-2024-25.csv"
        start = time.perf_counter()
        write_incidents_file(path, rows, 250, "2024-25", seed)
        written = time.perf_counter() - start
        load_before, busy_before = os.getloadavg()[0], _busy_cpu_s()
        start = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
        busy_after, load_after = _busy_cpu_s(), os.getloadavg()[0]
        if completed.returncode != 0:
            raise SystemExit(completed.stderr[-3000:])
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        others = None
        if busy_before is not None and busy_after is not None:
            others = round(max(0.0, busy_after - busy_before - result["cpu_s"]), 1)
        result.update(
            rows=rows,
            write_s=round(written, 1),
            file_mib=round(path.stat().st_size / 2**20),
            whole_frame_mib=round(_frame_mib(path)),
            wall_s=round(wall, 1),
            others_cpu_s=others,
            load_before=round(load_before, 1),
            load_after=round(load_after, 1),
        )
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = []
    print(
        f"{'rows':>10} {'file MiB':>9} {'frame MiB':>10} {'ingest s (CPU)':>15} "
        f"{'validate s (CPU)':>17} {'ingest peak':>12} {'peak MiB':>9} {'Arrow MiB':>10} "
        f"{'quarantined':>12} {'load':>10} {'others CPU s':>13}",
        flush=True,
    )
    for rows in args.rows:
        r = run(rows, args.seed)
        results.append(r)
        print(
            f"{r['rows']:>10,} {r['file_mib']:>9,} {r['whole_frame_mib']:>10,} "
            f"{r['ingest_s']:>7} ({r['ingest_cpu_s']:>5}) {r['validate_s']:>8} "
            f"({r['validate_cpu_s']:>5}) "
            f"{r['ingest_peak_rss_mib']:>12,} {r['peak_rss_mib']:>9,} {r['arrow_peak_mib']:>10,} "
            f"{r['records_quarantined']:>12,} {r['load_before']:>4}-{r['load_after']:<5} "
            f"{r['others_cpu_s']!s:>13}",
            flush=True,
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "incidents.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
