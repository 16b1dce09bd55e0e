"""Benchmark: a national incident file through ingest and validation, with bounded memory.

Patient safety incident files run to millions of rows a year. Ingest streams the
CSV in batches and validation runs the suite batch by batch, so peak memory
should stay roughly flat as the file grows. For each size this writes a
synthetic incidents file, then parses and validates it in a fresh process and
reports wall time and that process's peak resident memory, beside the file's
size and what the same rows cost held whole in a pandas frame.

This measures; it asserts nothing. Results are printed and written as JSON under
`bench/results/` (git-ignored).

    python bench/incidents.py                    # 1 and 5 million rows
    python bench/incidents.py --rows 200000      # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"

_CHILD = """
import json, sys, time
from pathlib import Path
from dagster_project.home import Home
from dagster_project.ingest.feeds import ingest_feed
from dagster_project.validation.run import validate_feed


def own_peak_rss_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


home = Home(Path(sys.argv[1]))
start = time.perf_counter()
ingested = ingest_feed(home, "incidents")
parsed = time.perf_counter()
report = validate_feed(home, "incidents")
done = time.perf_counter()
totals = report.totals()
print(json.dumps({
    "rows_in": totals["rows_in"],
    "rows_valid": totals["rows_valid"],
    "records_quarantined": totals["records_quarantined"],
    "ingest_s": round(parsed - start, 1),
    "validate_s": round(done - parsed, 1),
    "peak_rss_mib": round(own_peak_rss_kib() / 1024),
}))
"""


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
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise SystemExit(completed.stderr[-3000:])
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        result.update(
            rows=rows,
            write_s=round(written, 1),
            file_mib=round(path.stat().st_size / 2**20),
            whole_frame_mib=round(_frame_mib(path)),
        )
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = []
    print(
        f"{'rows':>10} {'file MiB':>9} {'frame MiB':>10} {'ingest s':>9} "
        f"{'validate s':>11} {'peak MiB':>9} {'quarantined':>12}"
    )
    for rows in args.rows:
        r = run(rows, args.seed)
        results.append(r)
        print(
            f"{r['rows']:>10,} {r['file_mib']:>9,} {r['whole_frame_mib']:>10,} "
            f"{r['ingest_s']:>9} {r['validate_s']:>11} {r['peak_rss_mib']:>9,} "
            f"{r['records_quarantined']:>12,}"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "incidents.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
