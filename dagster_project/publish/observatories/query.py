"""Read-only SQL against the publication, for regional quality observatories.

Observatories want to ask their own questions of `published/quality.duckdb`, but
the file is shared and a SQL prompt is also a way to read `/etc/passwd`, write
files, attach other databases or load extensions from the network. So a query is
parsed by DuckDB itself (never matched with regular expressions, which comments
and string literals fool) and refused unless it is exactly one SELECT whose
parse tree touches only the publication's own tables and a few harmless table
functions. Only then does it run, and even then on a connection that cannot
write to the file, cannot open any other file and cannot change its own
settings, in case the parse-tree check ever misses something.

With a region (`qa query --region Y60`), every table with a `region_code`
column is seen through a view of that region's rows, so rankings, totals and
averages are the region's own; the file stays attached read-only under another
name the checker never lets a query reach, and the views live in memory, so
nothing is written to the publication. The result must still show
`region_code`, and is filtered on it too. This is a convenience for regional
observatories, not access control: the publication is public.

Allowed table functions (`ALLOWED_TABLE_FUNCTIONS`):

* `range`, `generate_series` - number and date sequences (calendars, year lists);
* `unnest` - turns a list value into rows;
* `json_each`, `json_tree` - the `publication` table holds its input files as a
  JSON column, and these expand a JSON *value* already in hand; neither reads a path.

Every other table function is refused: DuckDB 2.0.1 ships ones that read files
(`read_csv`, `read_parquet`, `read_text`, `read_duckdb`, `glob`, `sniff_csv`, ...),
run SQL given as a string (`query`, `query_table`, `json_execute_serialized_sql`),
change state (`checkpoint`, `enable_logging`, `register_external_resource`) or
expose internals (`duckdb_*`, `pragma_*`).

A query that passes can still be heavy (a cross join of two big tables), and the
file is shared, so every query runs under a time limit: a watchdog thread
interrupts the connection when it is up. What is shown on screen is capped, and
the rows beyond the cap are counted, not kept. All the rows go to a file only
through `export_query`, which streams Arrow record batches to a CSV or Parquet
writer on the Python side: DuckDB itself never opens the output, so the
connection keeps external access switched off and COPY stays refused.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from dagster_project.publish.figures import plain

ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "json_each", "json_tree"}
)

# Scalar functions that are not reads: they stall the reader, write to DuckDB's
# log or move sequences and the random seed.
BLOCKED_SCALAR_FUNCTIONS = frozenset(
    {"sleep_ms", "pg_sleep", "write_log", "nextval", "setval", "setseed"}
)

# The publication is attached under this name, so `quality.main.providers` works
# as it does when the file is opened directly.
CATALOG = "quality"
# For a regional query the file sits under this name instead, behind views in CATALOG;
# the checker refuses any catalog but CATALOG, so a query cannot go round the views.
_SOURCE_CATALOG = "publication_file"

FORMATS = ("table", "csv", "json")
OUTPUT_FORMATS = ("csv", "parquet")

# A query that takes longer is stopped: long enough for any question of the publication
# (its largest table has a few hundred thousand rows), short enough that a runaway join
# does not hold a core for the afternoon.
DEFAULT_TIMEOUT_SECONDS = 30.0
# Rows shown on screen; the rest are counted. More than anyone reads in a terminal.
DEFAULT_MAX_ROWS = 1000
# Rows per Arrow record batch written to a file: a few megabytes for the widest table.
_BATCH_ROWS = 65_536
_COUNT_ROWS = 10_000

T = TypeVar("T")

_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
# Table references the parser can produce; those needing more than a walk of
# their children are checked by name below.
_PLAIN_TABLE_REFS = frozenset({"SUBQUERY", "JOIN", "EMPTY", "EXPRESSION_LIST", "PIVOT"})
_CHECKED_TABLE_REFS = frozenset({"BASE_TABLE", "TABLE_FUNCTION", "SHOW_REF"})
_OTHER_TABLE_REFS = frozenset({"INVALID", "CTE", "COLUMN_DATA", "DELIM_GET", "BOUND_TABLE_REF"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_STATEMENT_REASONS = {
    "INSERT": "it would change the publication's data",
    "UPDATE": "it would change the publication's data",
    "DELETE": "it would change the publication's data",
    "MERGE_INTO": "it would change the publication's data",
    "CREATE": "it would change the publication's schema",
    "CREATE_FUNC": "it would change the publication's schema",
    "DROP": "it would change the publication's schema",
    "ALTER": "it would change the publication's schema",
    "COPY": "it reads or writes files",
    "COPY_DATABASE": "it reads or writes files",
    "EXPORT": "it writes files",
    "ATTACH": "it would open another database",
    "DETACH": "it would detach a database",
    "LOAD": "it installs or loads DuckDB extensions, possibly from the network",
    "EXTENSION": "it installs or loads DuckDB extensions, possibly from the network",
    "SET": "it changes settings (SET, RESET and USE are not allowed)",
    "VARIABLE_SET": "it changes settings",
    "PRAGMA": "PRAGMA statements change settings, read internal state or import files",
    "CALL": "CALL runs procedures such as CHECKPOINT",
    "VACUUM": "it is a maintenance command that writes to the file",
    "ANALYZE": "it is a maintenance command that writes to the file",
    "TRANSACTION": "transactions are managed for you",
    "MULTI": "it expands into several statements (as PIVOT without an IN list does)",
}


class QueryRefused(Exception):
    """The SQL was not run because it could do more than read the publication."""


class QueryTimedOut(Exception):
    """The query was stopped because it ran past its time limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        unit = "second" if seconds == 1 else "seconds"
        super().__init__(f"stopped: the query ran for {seconds:g} {unit}, its time limit")


class QueryOutputError(Exception):
    """The result cannot be written to the chosen file (nothing was written there)."""


@dataclass(frozen=True)
class QueryResult:
    """`rows` are the rows kept; `more_rows` counts those the query returned beyond them."""

    columns: list[str]
    rows: list[tuple]
    more_rows: int = 0


def run_query(
    db_path: Path,
    sql: str,
    region: str | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
    max_rows: int | None = None,
) -> QueryResult:
    """Run one read-only SELECT against the publication, optionally for one region.

    Keeps the first `max_rows` rows (all when None) and counts the rest in
    `more_rows`. Raises QueryRefused (before the query runs) for anything but a
    single SELECT over the publication's tables, QueryTimedOut when it runs past
    `timeout` seconds (None or 0: no limit), FileNotFoundError if there is no
    publication, and duckdb.Error for a query DuckDB accepts but cannot answer
    (a typo in a column name, say).
    """
    con = _open_publication(_existing(db_path), region)
    try:
        with _time_limit(con, timeout):
            query, params = _checked_query(con, sql, region)
            cursor = _guarded(lambda: con.execute(query, params))
            columns = [d[0] for d in cursor.description]
            if max_rows is None:
                return QueryResult(columns=columns, rows=cursor.fetchall())
            rows = cursor.fetchmany(max_rows) if max_rows > 0 else []
            more = 0
            while chunk := cursor.fetchmany(_COUNT_ROWS):
                more += len(chunk)
            return QueryResult(columns=columns, rows=rows, more_rows=more)
    finally:
        con.close()


def export_query(
    db_path: Path,
    sql: str,
    output: Path,
    fmt: str,
    region: str | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
) -> int:
    """Write every row of the query to `output` as CSV or Parquet; return how many.

    The same checks as run_query, then the rows stream from DuckDB as Arrow record
    batches into a writer on this side, so a result larger than memory can be
    written and DuckDB never opens a file. The file appears whole or not at all: it
    is written under a temporary name beside `output` and renamed at the end, so a
    query stopped at its time limit leaves any earlier `output` as it was. Raises
    QueryOutputError for a place that cannot or must not be written (the
    publication's own folder) or columns the format cannot hold.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(
            f"unknown output format {fmt!r}: choose one of {', '.join(OUTPUT_FORMATS)}"
        )
    db_path = _existing(db_path)
    output = _checked_output(Path(output), db_path)
    con = _open_publication(db_path, region)
    try:
        with _time_limit(con, timeout):
            query, params = _checked_query(con, sql, region)
            relation = _guarded(lambda: con.sql(query, params=params))
            _check_columns(fmt, relation.columns, relation.types)
            reader = _guarded(lambda: relation.to_arrow_reader(_BATCH_ROWS))
            try:
                return _write_batches(reader, output, fmt)
            finally:
                reader.close()  # an open reader holds the connection
    finally:
        con.close()


def _existing(db_path: Path) -> Path:
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FileNotFoundError(
            f"no publication at {db_path}: run the pipeline's publish step first"
        )
    return db_path


def _checked_query(
    con: duckdb.DuckDBPyConnection, sql: str, region: str | None
) -> tuple[str, list[Any]]:
    """The statement to run and its parameters, once the checker has passed it."""
    tables = _publication_tables(con)
    query = _checked_select(con, sql, tables)
    if region is None:
        return query, []
    columns = _guarded(lambda: con.sql(query).columns)
    if "region_code" not in {c.lower() for c in columns}:
        raise QueryRefused(
            "refused: the query must return a region_code column to be filtered by "
            f"region; it returns {', '.join(columns)}"
        )
    query = _checked_select(
        con,
        f"select * from (\n{_without_final_semicolon(query)}\n) as region_filtered "
        "where region_code = ?",
        tables,
    )
    return query, [region]


@contextlib.contextmanager
def _time_limit(con: duckdb.DuckDBPyConnection, seconds: float | None) -> Iterator[None]:
    """Interrupt `con` once `seconds` have passed, and report that as QueryTimedOut.

    The watchdog keeps interrupting until the block ends: DuckDB forgets an
    interrupt that lands between two statements, and the next one must not run
    on unwatched. Whether the limit was reached is known from the watchdog, not
    read from DuckDB's message.
    """
    if not seconds:
        yield
        return
    done = threading.Event()
    fired = threading.Event()

    def watchdog() -> None:
        if done.wait(seconds):
            return
        fired.set()
        while True:
            con.interrupt()
            if done.wait(0.05):
                return

    thread = threading.Thread(target=watchdog, name="qa-query-time-limit", daemon=True)
    thread.start()
    try:
        yield
    except (duckdb.Error, QueryRefused) as error:
        if fired.is_set():
            raise QueryTimedOut(seconds) from error
        raise
    finally:
        done.set()
        thread.join()


def _guarded(step: Callable[[], T]) -> T:
    """Report DuckDB's own refusal (the second line of defence) as a refusal too."""
    try:
        return step()
    except duckdb.PermissionException as error:
        raise QueryRefused(
            f"refused by DuckDB: the query tried to reach outside the publication ({error})"
        ) from error


def _open_publication(db_path: Path, region: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that can read the publication and nothing else, with settings locked.

    The file is attached READ_ONLY to a private in-memory database rather than
    opened with `duckdb.connect(path, read_only=True, config=...)`: DuckDB's Python
    client refuses a second connection to a file already open in the same process
    with a different configuration, so an observatory's own read-only connection
    would make every query fail. Attaching needs file access, so external access
    is switched off straight afterwards and the configuration locked; the user's
    SQL never runs before that.
    """
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
        },
    )
    try:
        if region is None:
            con.execute(f"attach ? as {CATALOG} (read_only)", [str(db_path)])
        else:
            con.execute(f"attach ? as {_SOURCE_CATALOG} (read_only)", [str(db_path)])
            con.execute(f"attach ':memory:' as {CATALOG}")
            _create_region_views(con, region)
        con.execute(f"use {CATALOG}")
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _create_region_views(con: duckdb.DuckDBPyConnection, region: str) -> None:
    """One in-memory view per published table: the region's rows where it has region_code."""
    tables = con.execute(
        "select table_name, bool_or(lower(column_name) = 'region_code') from duckdb_columns() "
        "where database_name = ? and schema_name = 'main' group by table_name",
        [_SOURCE_CATALOG],
    ).fetchall()
    known = sorted(
        {
            code
            for table, regional in tables
            if regional
            for (code,) in con.execute(
                f'select distinct region_code from {_SOURCE_CATALOG}.main."{table}" '
                "where region_code is not null"
            ).fetchall()
        }
    )
    if region not in known:
        # Views of an unknown region would hold no rows: an answer of nothing, not an error.
        raise QueryRefused(
            f"refused: no region {region!r} in the publication; its regions are "
            f"{', '.join(known) or 'none'}"
        )
    literal = "'" + region.replace("'", "''") + "'"  # views take no parameters
    for table, regional in tables:
        name = '"' + table.replace('"', '""') + '"'
        where = f" where region_code = {literal}" if regional else ""
        con.execute(
            f"create view {CATALOG}.main.{name} as "
            f"select * from {_SOURCE_CATALOG}.main.{name}{where}"
        )


def _publication_tables(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The names a query may read: the file's tables, or the region's views of them."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = $db and schema_name = 'main' "
        "union select view_name from duckdb_views() "
        "where database_name = $db and schema_name = 'main' and not internal",
        {"db": CATALOG},
    ).fetchall()
    return frozenset(r[0].lower() for r in rows)


def _checked_select(con: duckdb.DuckDBPyConnection, sql: str, tables: frozenset[str]) -> str:
    """The one SELECT statement in `sql`, or QueryRefused saying why not."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"refused: DuckDB could not parse the query ({error})") from error
    if not statements:
        raise QueryRefused("refused: there is no SQL statement to run")
    if len(statements) > 1:
        raise QueryRefused(
            f"refused: {len(statements)} statements given; run one SELECT query at a time"
        )
    kind = statements[0].type.name
    if kind != "SELECT":
        reason = _STATEMENT_REASONS.get(kind, "it is not a plain read")
        raise QueryRefused(
            f"refused: {kind} statements are not allowed: {reason}. Only a single SELECT query "
            "may be run against the publication"
        )
    # fetchall, not fetchone: a result left unfinished would keep the connection from
    # streaming the query's rows afterwards.
    [(serialized,)] = con.execute("select json_serialize_sql(?)", [sql]).fetchall()
    tree = json.loads(serialized)
    if tree.get("error"):
        raise QueryRefused(
            "refused: the query could not be inspected, so it cannot be shown to be read-only "
            f"({tree.get('error_message', 'unknown error')})"
        )
    if len(tree["statements"]) != 1:
        raise QueryRefused("refused: run one SELECT query at a time")
    problem = next(_problems(tree["statements"][0], frozenset(), tables), None)
    if problem is not None:
        raise QueryRefused(f"refused: {problem}")
    return statements[0].query


def _problems(node: Any, ctes: frozenset[str], tables: frozenset[str]) -> Iterator[str]:
    """Walk DuckDB's parse tree, yielding why each unsafe part is unsafe.

    `ctes` holds the WITH names visible here: a name defined in an enclosing query
    binds to that CTE before DuckDB looks for a table or a file of that name.
    """
    if isinstance(node, list):
        for item in node:
            yield from _problems(item, ctes, tables)
        return
    if not isinstance(node, dict):
        return
    cte_map = node.get("cte_map")
    if isinstance(cte_map, dict):
        ctes = ctes | {entry["key"].lower() for entry in cte_map.get("map", [])}
    kind = node.get("type")
    if "class" in node:
        if node["class"] == "FUNCTION" and node.get("function_name", "").lower() in (
            BLOCKED_SCALAR_FUNCTIONS
        ):
            yield f"function {node['function_name']}() stalls the reader or changes state"
    elif isinstance(kind, str):
        if kind.endswith("_NODE") and kind not in _QUERY_NODES:
            yield f"a {kind} part of a query is not a plain read"
        elif kind in _OTHER_TABLE_REFS:
            yield f"a {kind} table reference is not allowed"
        elif kind in _CHECKED_TABLE_REFS:
            yield from _table_ref_problems(node, ctes, tables)
    for value in node.values():
        yield from _problems(value, ctes, tables)


def _table_ref_problems(
    ref: dict[str, Any], ctes: frozenset[str], tables: frozenset[str]
) -> Iterator[str]:
    kind = ref["type"]
    if kind == "TABLE_FUNCTION":
        function = ref.get("function") or {}
        name = str(function.get("function_name", "")).lower()
        if (
            name not in ALLOWED_TABLE_FUNCTIONS
            or function.get("schema")
            or function.get("catalog")
            or function.get("class") != "FUNCTION"
        ):
            yield (
                f"table function {name or '?'}() is not allowed: table functions can read "
                "files, reach the network or change state; only "
                f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))} may be used"
            )
    elif kind == "BASE_TABLE":
        yield from _base_table_problems(
            ref.get("catalog_name", ""),
            ref.get("schema_name", ""),
            ref.get("table_name", ""),
            ctes,
            tables,
        )
        if ref.get("at_clause") is not None:
            yield "time travel (AT ...) is not supported by the publication"
    elif kind == "SHOW_REF":
        if ref.get("query") is not None:
            return  # DESCRIBE/SUMMARIZE of a query: the query itself is walked
        show_type = ref.get("show_type")
        name = ref.get("table_name", "")
        if show_type == "SHOW_SPECIAL" and name == '"tables"':
            return
        if show_type == "SHOW":
            yield from _base_table_problems(
                ref.get("catalog_name", ""), ref.get("schema_name", ""), name, ctes, tables
            )
            return
        yield "only SHOW TABLES, DESCRIBE <table> and SUMMARIZE <table> are allowed"


def _base_table_problems(
    catalog: str, schema: str, name: str, ctes: frozenset[str], tables: frozenset[str]
) -> Iterator[str]:
    listed = ", ".join(sorted(tables)) or "none"
    unqualified = not catalog and not schema
    if unqualified and name.lower() in ctes and _IDENTIFIER.fullmatch(name):
        return
    qualifier_ok = (catalog.lower() in ("", CATALOG) and schema.lower() in ("", "main")) or (
        not catalog and schema.lower() == CATALOG
    )
    if not qualifier_ok:
        full = ".".join(part for part in (catalog, schema, name) if part)
        yield f"{full} is outside the publication; only its own tables may be read ({listed})"
    elif name.lower() not in tables:
        if not _IDENTIFIER.fullmatch(name):
            yield (
                f"'{name}' names a file, which DuckDB would read (a quoted name in FROM is a "
                f"file scan); only the publication's tables may be read ({listed})"
            )
        else:
            yield f"{name} is not a table in the publication; its tables are {listed}"


def _without_final_semicolon(sql: str) -> str:
    """The statement without its closing `;` (and any comment after it), ready to nest."""
    tokens = [
        (pos, kind) for pos, kind in duckdb.tokenize(sql) if kind != duckdb.token_type.comment
    ]
    if tokens:
        pos, kind = tokens[-1]
        if kind == duckdb.token_type.operator and sql[pos] == ";":
            return sql[:pos]
    return sql


def _checked_output(output: Path, db_path: Path) -> Path:
    """The output path, unless it is somewhere a query's result must not go."""
    if output.is_dir():
        raise QueryOutputError(f"{output} is a folder: give a file name")
    if not output.parent.is_dir():
        raise QueryOutputError(f"cannot write {output}: there is no folder {output.parent}")
    published = db_path.resolve().parent
    if output.resolve().is_relative_to(published):
        raise QueryOutputError(
            f"refused: {output} is in the publication's folder ({published}), which only the "
            "pipeline writes; choose another place"
        )
    return output


# DuckDB's type ids each format cannot hold: CSV has no plain text for lists, structs
# or intervals, and Arrow's writer needs text that is UTF-8; Parquet has no interval or
# union type.
_UNFIT_TYPES = {
    "csv": frozenset({"list", "array", "struct", "map", "union", "interval", "blob", "bit"}),
    "parquet": frozenset({"interval", "union"}),
}


def _check_columns(fmt: str, columns: list[str], types: list[Any]) -> None:
    """Refuse before anything is written if the file could not hold the columns faithfully."""
    unfit = [
        f"{name} ({kind})"
        for name, kind in zip(columns, types, strict=True)
        if str(getattr(kind, "id", kind)).lower() in _UNFIT_TYPES[fmt]
    ]
    if unfit:
        name = "CSV" if fmt == "csv" else "Parquet"
        raise QueryOutputError(
            f"{name} cannot hold the column(s) {', '.join(unfit)}: turn them into text in the "
            "query (e.g. cast(column as varchar))" + (" or write Parquet" if fmt == "csv" else "")
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if fmt == "parquet" and repeated:
        raise QueryOutputError(
            f"Parquet needs a different name for each column; {', '.join(repeated)} is "
            "repeated: name the columns with AS"
        )


def _write_batches(reader: Any, output: Path, fmt: str) -> int:
    """Stream the reader's batches into `output` through a temporary file; return the rows.

    DuckDB's errors (an interrupt at the time limit among them) reach here through
    Arrow's C stream as plain OSError, so reading and writing are told apart by
    where they fail and DuckDB's are raised as duckdb.Error again.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pa_parquet

    temporary = output.with_name(f".{output.name}.{secrets.token_hex(4)}.part")
    batches = iter(reader)
    rows = 0
    try:
        try:
            if fmt == "csv":
                writer: Any = pa_csv.CSVWriter(temporary, reader.schema)
            else:
                writer = pa_parquet.ParquetWriter(temporary, reader.schema)
        except (pa.ArrowException, OSError) as error:
            raise QueryOutputError(f"cannot write {output}: {error}") from error
        try:
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                except OSError as error:
                    raise duckdb.Error(str(error)) from error
                try:
                    writer.write_batch(batch)
                except (pa.ArrowException, OSError) as error:
                    raise QueryOutputError(f"cannot write {output} as {fmt}: {error}") from error
                rows += batch.num_rows
        finally:
            writer.close()
        os.replace(temporary, output)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return rows


def format_result(result: QueryResult, fmt: str) -> str:
    """Render a result as aligned text (`table`), `csv`, or `json` (a list of objects)."""
    if fmt == "table":
        return _as_table(result)
    if fmt == "csv":
        return _as_csv(result)
    if fmt == "json":
        return _as_json(result)
    raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# Places a decimal keeps on screen: enough for any published rate or ratio (SHMI has four),
# few enough to read. CSV, JSON and Parquet keep every digit.
SCREEN_DECIMALS = 4


def _screen(value: Any) -> str:
    """A cell as read on screen: floats rounded (by the documents' one rule), trailing
    zeros dropped, so 0.971963 reads 0.972 and 95.0 reads 95."""
    if isinstance(value, float) and math.isfinite(value):
        text = plain(value, SCREEN_DECIMALS)
        return text.rstrip("0").rstrip(".") if "." in text else text
    return _text(value)


def _as_table(result: QueryResult) -> str:
    """Plain text columns: numbers right-aligned so magnitudes line up, the rest left;
    floats rounded for reading (SCREEN_DECIMALS)."""
    cells = [[_screen(v) for v in row] for row in result.rows]
    widths = [
        max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(result.columns)
    ]
    numeric = [
        bool(result.rows)
        and all(
            isinstance(row[i], int | float | Decimal) and not isinstance(row[i], bool)
            for row in result.rows
            if row[i] is not None
        )
        for i in range(len(result.columns))
    ]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(result.columns)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    n = len(result.rows)
    if result.more_rows:
        out.append(f"({n} rows shown; {result.more_rows} more not shown)")
    else:
        out.append(f"({n} row{'' if n == 1 else 's'})")
    return "\n".join(out) + "\n"


def _as_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([_text(v) for v in row] for row in result.rows)
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    """JSON has no decimals, dates or NaN: give the nearest faithful value."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _as_json(result: QueryResult) -> str:
    """A list of objects; a repeated column name gets a suffix rather than overwriting."""
    keys: list[str] = []
    for name in result.columns:
        key, n = name, 1
        while key in keys:
            n += 1
            key = f"{name}_{n}"
        keys.append(key)
    records = [{k: _json_value(v) for k, v in zip(keys, row, strict=True)} for row in result.rows]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
