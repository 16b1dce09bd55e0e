"""Run the PROMs reference SQL on one year's real files and report agreement with NHS Digital.

The year's folder holds the published data pack, as CSV files or as the zips they came in:
record-level hip and knee files, PartLink (inputs) and ProvComm and Time Series (referees).
For each figure it prints how many provider rows agree within the tolerance and the share,
then England's figures side by side (the public file lacks a few records, so England differs
slightly and is shown, not scored). Exit status 0 when every target is met, 1 otherwise.

Usage:
    python bench/compare_reference.py ../shared/data/proms/2017-18
    python bench/compare_reference.py ../shared/data/proms/2016-17 --sql bench/proms_reference.sql
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent

# Tolerances per figure and measure family: (Oxford, EQ-5D Index, EQ VAS).
TOLERANCES: dict[str, tuple[float, float, float]] = {
    "modelled_records": (3, 3, 3),
    "average_pre_op_score": (0.01, 0.001, 0.01),
    "average_post_op_score": (0.01, 0.001, 0.01),
    "health_gain": (0.01, 0.001, 0.01),
    "improved": (0, 0, 0),
    "same": (0, 0, 0),
    "worse": (0, 0, 0),
    "adjusted_post_op_score": (0.1, 0.005, 0.5),
    "adjusted_health_gain": (0.1, 0.005, 0.5),
    "standard_deviation": (0.01, 0.001, 0.01),
}
# Published column for each figure.
PUBLISHED: dict[str, str] = {
    "modelled_records": "Modelled Records",
    "average_pre_op_score": "Average Pre-Op Q Score",
    "average_post_op_score": "Average Post-Op Q Score",
    "health_gain": "Health Gain",
    "improved": "Improved",
    "same": "Same",
    "worse": "Worse",
    "adjusted_post_op_score": "Adjusted Post-Op Q Score",
    "adjusted_health_gain": "Adjusted Average Health Gain",
    "standard_deviation": "Standard Deviation",
}
ADJUSTED = {"adjusted_post_op_score", "adjusted_health_gain", "standard_deviation"}
FIGURE_TARGET = 0.95
OUTLIER_TARGET = 0.98


@dataclass
class Line:
    """One agreement figure: what was compared, over which rows, and how many agreed."""

    figure: str
    scope: str
    rows: int
    agree: int | None  # None: a count to report, not an agreement
    target: float | None

    @property
    def share(self) -> float:
        return self.agree / self.rows if self.rows and self.agree is not None else float("nan")

    @property
    def met(self) -> bool:
        return self.target is None or (self.rows > 0 and self.share >= self.target)


def unpack(folder: Path, into: Path) -> list[Path]:
    """The folder's CSV files, extracting any zipped ones (skipping macOS resource forks)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
    for archive in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.lower().endswith(".csv") and not name.startswith("__MACOSX"):
                    target = into / Path(name).name
                    target.write_bytes(zf.read(name))
                    files.append(target)
    return files


def pick(files: list[Path], pattern: str) -> list[str]:
    """Paths whose file name matches pattern (case-insensitive), as strings for DuckDB."""
    found = [str(p) for p in files if re.search(pattern, p.name, re.IGNORECASE)]
    if not found:
        raise SystemExit(f"no file matching {pattern!r}")
    return found


def sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def run_reference(con: duckdb.DuckDBPyConnection, sql: Path, files: list[Path]) -> None:
    variables = {
        "hip_files": pick(files, r"^Hip Replacements?\b.*Provider"),
        "knee_files": pick(files, r"^Knee Replacements?\b.*Provider"),
        "partlink_files": pick(files, r"^PartLink"),
    }
    for name, paths in variables.items():
        con.execute(f"SET VARIABLE {name} = {sql_list(paths)}").fetchall()
    con.execute(sql.read_text()).fetchall()


def load_referees(con: duckdb.DuckDBPyConnection, files: list[Path]) -> str:
    """Load ProvComm, Time Series and PartLink; return the financial year being checked."""
    years = con.execute(
        "SELECT DISTINCT financial_year FROM reference_provider_outcomes"
    ).fetchall()
    if len(years) != 1:
        raise SystemExit(f"expected one financial year in the reference, got {years}")
    year = str(years[0][0])
    for table, pattern in [
        ("pub_provcomm", r"^ProvComm"),
        ("pub_timeseries", r"^Time Series"),
        ("pub_partlink", r"^PartLink"),
    ]:
        paths = sql_list(pick(files, pattern))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS "
            f"SELECT * FROM read_csv({paths}, header = true, all_varchar = true)"
        ).fetchall()
    return year


def family_index(measure: str) -> int:
    if measure.startswith("Oxford"):
        return 0
    return 1 if measure.startswith("EQ-5D") else 2


def compare_outcomes(con: duckdb.DuckDBPyConnection) -> list[Line]:
    """Figure-by-figure agreement on provider rows, by scope."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cmp AS
        SELECT p.Procedure AS procedure, p.Measure AS measure, p."Organisation Code" AS code,
            p.Procedure LIKE 'Total%' AS is_total,
            TRY_CAST(p."Modelled Records" AS INTEGER) AS pub_n,
            p."Modelled Records" AS pub_n_raw, p.* EXCLUDE (Procedure, Measure), r.provider_code,
            {", ".join(f"r.{figure} AS ref_{figure}" for figure in PUBLISHED)}
        FROM pub_provcomm AS p
        LEFT JOIN reference_provider_outcomes AS r
            ON r.provider_code = p."Organisation Code" AND r.procedure = p.Procedure
            AND r.measure = p.Measure
        WHERE p."Organisation Type" = 'Provider'
        """
    ).fetchall()
    lines: list[Line] = []
    examples: list[str] = []
    scopes = {
        "subgroups, published n >= 30": "NOT is_total AND pub_n >= 30",
        "totals, published n >= 30": "is_total AND pub_n >= 30",
        "all rows with published n >= 1": "pub_n >= 1",
    }
    for figure, published in PUBLISHED.items():
        for scope, where in scopes.items():
            if figure in ADJUSTED and "totals" in scope:
                continue  # not reproducible from the public file: NULL by design
            if figure in ADJUSTED and "all rows" in scope:
                continue  # published only where n >= 30: the subgroup line says it all
            rows = agree = 0
            for code, procedure, measure, pub, ours in con.execute(
                f'SELECT code, procedure, measure, TRY_CAST("{published}" AS DOUBLE), '
                f"ref_{figure} FROM cmp WHERE {where} ORDER BY ALL"
            ).fetchall():
                rows += 1
                tol = TOLERANCES[figure][family_index(measure)]
                if pub is not None and ours is not None and abs(pub - ours) <= tol + 1e-9:
                    agree += 1
                elif "n >= 30" in scope and len(examples) < 20:
                    examples.append(f"{figure}: {code} {procedure} {measure}: {pub} vs {ours}")
            target = FIGURE_TARGET if "n >= 30" in scope else None
            lines.append(Line(figure, scope, rows, agree, target))
    # Suppression ('*') should be reproduced both ways.
    pub_star, pub_star_null, ref_null, ref_null_star = con.execute(
        """
        SELECT count(*) FILTER (WHERE pub_n_raw = '*'),
            count(*) FILTER (WHERE pub_n_raw = '*' AND ref_modelled_records IS NULL),
            count(*) FILTER (WHERE ref_modelled_records IS NULL),
            count(*) FILTER (WHERE ref_modelled_records IS NULL AND pub_n_raw = '*')
        FROM cmp WHERE provider_code IS NOT NULL
        """
    ).fetchall()[0]
    lines.append(
        Line("suppression", "published '*' -> reference NULL", pub_star, pub_star_null, None)
    )
    lines.append(
        Line("suppression", "reference NULL -> published '*'", ref_null, ref_null_star, None)
    )
    published, found = con.execute(
        "SELECT count(*), count(provider_code) FROM cmp WHERE pub_n >= 1"
    ).fetchall()[0]
    lines.append(Line("published rows found", "published n >= 1", published, found, None))
    for example in examples:
        print("disagreement:", example)
    return lines


def compare_outliers(con: duckdb.DuckDBPyConnection, year: str) -> list[Line]:
    """Outlier status against Time Series, whose columns are named by the year's first half."""
    column = f"Outlier_{year[:4]}"
    n_column = f"Modelled_Records_{year[:4]}"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE cmp_ts AS
        SELECT t.Procedure LIKE 'Total%' AS is_total, TRY_CAST(t."{n_column}" AS INTEGER) AS n,
            t."{column}" AS published, r.outlier_status AS ours, r.provider_code
        FROM pub_timeseries AS t
        LEFT JOIN reference_provider_outcomes AS r
            ON r.provider_code = t.OrgCode AND r.procedure = t.Procedure
            AND r.measure = t.Measure
        WHERE t.OrgCode <> 'England'
        """
    ).fetchall()
    lines = []
    for scope, where, target in [
        ("subgroups, published n >= 30", "NOT is_total AND n >= 30", OUTLIER_TARGET),
        (
            "subgroups, every row in the reference",
            "NOT is_total AND provider_code IS NOT NULL",
            None,
        ),
        (
            "totals, published n < 30, in the reference",
            "is_total AND coalesce(n, 0) < 30 AND provider_code IS NOT NULL",
            None,
        ),
    ]:
        rows, agree = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE published = ours) FROM cmp_ts WHERE {where}"
        ).fetchall()[0]
        lines.append(Line("outlier status", scope, rows, agree, target))
    return lines


def compare_participation(con: duckdb.DuckDBPyConnection) -> list[Line]:
    """Participation counts and rate (to 3 dp) against PartLink's own columns."""
    groups = {
        "All Procedures": "All Procedures",
        "Hip Replacement": "Total Hip Replacement",
        "Primary Hip Replacement": "Hip Replacement Primary",
        "Revision Hip Replacement": "Hip Replacement Revision",
        "Knee Replacement": "Total Knee Replacement",
        "Primary Knee Replacement": "Knee Replacement Primary",
        "Revision Knee Replacement": "Knee Replacement Revision",
    }
    rows = agree = counts_ok = leaked = 0
    for group, procedure in groups.items():
        result = con.execute(
            f"""
            SELECT TRY_CAST(p."{group} - Participation Rate" AS DOUBLE),
                TRY_CAST(p."{group} - Total HES Procedures" AS INTEGER),
                TRY_CAST(p."{group} - Total Pre-Op Qs" AS INTEGER),
                r.participation_rate, r.hes_procedures, r.pre_op_questionnaires
            FROM pub_partlink AS p
            LEFT JOIN reference_participation AS r
                ON r.provider_code = CASE WHEN p."Organisation Code" = 'England' THEN 'ENG'
                    ELSE p."Organisation Code" END
                AND r.procedure = '{procedure}'
            """
        ).fetchall()
        for pub_rate, pub_hes, pub_q, rate, hes, q in result:
            counts_ok += pub_hes == hes and pub_q == q
            if pub_hes is None or pub_q is None:
                # PartLink sometimes prints a rate beside a suppressed count (primary knee in
                # 2016-17 and 2017-18): not reproducible from the published counts.
                leaked += pub_rate is not None
                continue
            rows += 1
            agree += (
                pub_rate is not None and rate is not None and round(pub_rate, 3) == round(rate, 3)
            )
    cells = len(groups) * con.execute("SELECT count(*) FROM pub_partlink").fetchall()[0][0]
    return [
        Line("participation rate (3 dp)", "both counts published", rows, agree, 1.0),
        Line("participation counts", "every PartLink cell", cells, counts_ok, 1.0),
        Line("participation rate", "published beside a '*' count", leaked, None, None),
    ]


def england(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        """
        SELECT p.Procedure, p.Measure, p."Modelled Records", r.modelled_records,
            p."Average Post-Op Q Score", printf('%.6g', r.average_post_op_score),
            p."Standard Deviation", printf('%.6g', r.standard_deviation)
        FROM pub_provcomm AS p
        LEFT JOIN reference_provider_outcomes AS r
            ON r.provider_code = 'ENG' AND r.procedure = p.Procedure AND r.measure = p.Measure
        WHERE p."Organisation Type" = 'England'
        ORDER BY 1, 2
        """
    ).fetchall()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("year_folder", type=Path, help="folder of one year's PROMs data pack")
    parser.add_argument("--sql", type=Path, default=HERE / "proms_reference.sql")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        files = unpack(args.year_folder, Path(tmp))
        con = duckdb.connect()
        run_reference(con, args.sql, files)
        year = load_referees(con, files)
        lines = compare_outcomes(con) + compare_outliers(con, year) + compare_participation(con)
        eng = england(con)

    print(f"PROMs reference against the published tables, {year}")
    print(f"{'figure':<28}{'scope':<44}{'rows':>7}{'agree':>7}{'share':>9}  target")
    for line in lines:
        target = (
            ""
            if line.target is None
            else f">= {line.target:.0%} " + ("met" if line.met else "MISSED")
        )
        agree = "-" if line.agree is None else str(line.agree)
        share = "-" if line.agree is None else f"{line.share:.2%}"
        print(f"{line.figure:<28}{line.scope:<44}{line.rows:>7}{agree:>7}{share:>9}  {target}")
    print("\nEngland (informational: the public file lacks a few records)")
    print(
        f"{'procedure':<28}{'measure':<20}{'n pub':>8}{'n ref':>8}"
        f"{'post pub':>11}{'post ref':>11}{'sd pub':>10}{'sd ref':>10}"
    )
    for row in eng:
        print("{:<28}{:<20}{:>8}{:>8}{:>11}{:>11}{:>10}{:>10}".format(*(str(v) for v in row)))
    return 0 if all(line.met for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
