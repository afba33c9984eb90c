"""The little SQL both warehouses share: quoting, placeholders, a payload hash, multi-row writes.

goldloop's warehouse is DuckDB or Postgres (``goldloop.warehouse.connect``); queries here are
written once with ``?`` placeholders and adapted to psycopg2's ``%s`` for Postgres.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from goldloop.settings import Target


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier.

    >>> quote('sync_key'), quote('a"b')
    ('"sync_key"', '"a""b"')
    """
    return '"' + identifier.replace('"', '""') + '"'


def adapt(sql: str, target: Target) -> str:
    """``?`` placeholders for DuckDB, ``%s`` for psycopg2 (literal ``%`` doubled).

    >>> adapt("select ? like 'a%'", "postgres")
    "select %s like 'a%%'"
    """
    if target == "duckdb":
        return sql
    return sql.replace("%", "%%").replace("?", "%s")


def literal(value: str | int | float | bool) -> str:
    """A constant as an SQL literal.

    >>> literal("it's"), literal(True), literal(2)
    ("'it''s'", 'true', '2')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def payload_hash_sql(expressions: Mapping[str, str]) -> str:
    """SQL for the md5 of a row's payload (field name → SQL expression), nulls distinct.

    Only mapped fields count: the hash changes when a mapped value, a field name or the
    mapping changes, never when an unmapped column does.

    >>> print(payload_hash_sql({"email": "e"}))
    md5('email=' || coalesce('v' || cast(e as varchar), 'n'))
    """
    parts = [
        f"'{name.replace(chr(39), chr(39) * 2)}=' || coalesce('v' || cast({expr} as varchar), 'n')"
        for name, expr in sorted(expressions.items())
    ]
    return "md5(" + " || chr(31) || ".join(parts) + ")"


def execute(con: Any, target: Target, sql: str, params: Sequence[Any] = ()) -> Any:
    """Run one statement on a DB-API connection and return its cursor.

    On DuckDB the connection itself runs it: a DuckDB cursor is a separate connection with its
    own transaction, so BEGIN and COMMIT must go through the same object.
    """
    cur = con if target == "duckdb" else con.cursor()
    cur.execute(adapt(sql, target), tuple(params))
    return cur


def fetch(con: Any, target: Target, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows of one query."""
    return [tuple(row) for row in execute(con, target, sql, params).fetchall()]


def fetch_dicts(con: Any, target: Target, sql: str,
                params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """All rows of one query as dicts keyed by column name."""
    cur = execute(con, target, sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


ARROW_MIN_ROWS = 20


def insert_rows(con: Any, target: Target, table: str, columns: Sequence[str],
                rows: Iterable[Sequence[Any]], *, conflict: Sequence[str] = (),
                update: Sequence[str] = (), chunk: int = 500) -> int:
    """Insert rows; upsert on ``conflict`` (updating ``update``). Returns the rows written.

    Postgres gets one multi-row ``VALUES`` statement per ``chunk``; DuckDB gets larger sets as
    an Arrow table scanned in one statement (binding thousands of parameters is DuckDB's slow
    path: several times slower for a batch of state rows).
    """
    column_list = ", ".join(quote(c) for c in columns)
    tail = ""
    if conflict:
        keys = ", ".join(quote(c) for c in conflict)
        if update:
            sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in update)
            tail = f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        else:
            tail = f" ON CONFLICT ({keys}) DO NOTHING"
    materialised = [tuple(row) for row in rows]
    if not materialised:
        return 0
    if target == "duckdb" and len(materialised) >= ARROW_MIN_ROWS:
        import pyarrow as pa

        arrays = {name: [row[i] for row in materialised] for i, name in enumerate(columns)}
        view = f"goldloop_incoming_{id(materialised):x}"
        con.register(view, pa.table(arrays))
        try:
            execute(con, target, f"INSERT INTO {table} ({column_list}) "
                    f"SELECT {column_list} FROM {view}{tail}")
        finally:
            con.unregister(view)
        return len(materialised)
    row_marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(materialised), chunk):
        part = materialised[start:start + chunk]
        execute(con, target, f"INSERT INTO {table} ({column_list}) VALUES "
                + ", ".join(row_marks for _ in part) + tail,
                [value for row in part for value in row])
    return len(materialised)


def table_exists(con: Any, target: Target, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (a table or a view)."""
    rows = fetch(con, target, "select count(*) from information_schema.tables "
                 "where table_schema = ? and table_name = ?", (schema, table))
    return bool(rows and rows[0][0])


def table_columns(con: Any, target: Target, schema: str, table: str) -> list[str]:
    """The column names of ``schema.table`` in order."""
    rows = fetch(con, target, "select column_name from information_schema.columns "
                 "where table_schema = ? and table_name = ? order by ordinal_position",
                 (schema, table))
    return [str(r[0]) for r in rows]
