"""What a home publishes, reduced to fingerprints: one per published table and one per page.

A change that should not alter any published figure (a refactor, a speed-up) is checked
by fingerprinting a home built before it and one built after, from the same landing
files, and comparing:

    python bench/fingerprint.py HOME > before.json
    ... change, rebuild ...
    python bench/fingerprint.py HOME --compare before.json

Tables are read from the publication and fingerprinted row by row after sorting, with
doubles rounded to 10 significant figures (DuckDB's parallel sums can differ in the last
bits between runs) and the `publication` table left out (it holds the run's time).
Documents are the site's HTML and CSV files; PDFs are not compared (their bytes carry
the printing engine's metadata), and neither is the data dictionary (dbt stamps it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import duckdb

SKIPPED_TABLES = {"publication"}
SKIPPED_SITE = ("docs/",)


def _canonical(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return f"{value:.10g}"
    return "" if value is None else str(value)


def table_fingerprints(published_db: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    with duckdb.connect(str(published_db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' order by table_name"
            ).fetchall()
        ]
        for table in tables:
            if table in SKIPPED_TABLES:
                continue
            cursor = con.execute(f'select * from "{table}"')
            columns = [d[0] for d in cursor.description]
            rows = sorted("\x1f".join(_canonical(v) for v in row) for row in cursor.fetchall())
            digest = hashlib.sha256("\x1e".join(["\x1f".join(columns), *rows]).encode())
            out[table] = {"rows": len(rows), "columns": columns, "sha256": digest.hexdigest()}
    return out


def site_fingerprints(site: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site).as_posix()
        if not path.is_file() or path.suffix not in (".html", ".csv"):
            continue
        if relative.startswith(SKIPPED_SITE):
            continue
        out[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def fingerprint(home: Path) -> dict[str, object]:
    return {
        "tables": table_fingerprints(home / "published" / "quality.duckdb"),
        "site": site_fingerprints(home / "site"),
    }


def _page_kind(path: str) -> str:
    """`ZA001/2024-25/data/x.csv` -> `*/*/data/x.csv`: pages of the same kind, grouped."""
    parts = path.split("/")
    return "/".join(["*", "*", *parts[2:]]) if len(parts) > 2 else path


def compare(before: dict, after: dict) -> list[str]:
    """Every table that differs, then pages that differ grouped by kind, one line each."""
    lines = _compare_kind(before, after, "tables")
    pages: dict[str, list[str]] = {}
    for line in _compare_kind(before, after, "site"):
        path, _, what = line.removeprefix("site: ").partition(" ")
        pages.setdefault(f"{_page_kind(path)} {what}", []).append(path)
    for kind, paths in sorted(pages.items()):
        lines.append(f"site: {kind}" + (f" ({len(paths)} pages)" if len(paths) > 1 else ""))
    return lines


def _compare_kind(before: dict, after: dict, kind: str) -> list[str]:
    lines: list[str] = []
    old, new = before[kind], after[kind]
    for name in sorted(set(old) | set(new)):
        if name not in new:
            lines.append(f"{kind}: {name} is gone")
        elif name not in old:
            lines.append(f"{kind}: {name} is new")
        elif old[name] != new[name]:
            detail = ""
            if kind == "tables":
                o, n = old[name], new[name]
                if o["columns"] != n["columns"]:
                    detail = f" (columns {o['columns']} -> {n['columns']})"
                else:
                    detail = f" (rows {o['rows']} -> {n['rows']})"
            lines.append(f"{kind}: {name} differs{detail}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--compare", type=Path, help="a fingerprint file written earlier")
    args = parser.parse_args(argv)
    current = fingerprint(args.home)
    if args.compare is None:
        json.dump(current, sys.stdout, indent=1, sort_keys=True)
        return 0
    differences = compare(json.loads(args.compare.read_text()), current)
    print("\n".join(differences) if differences else "identical")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
