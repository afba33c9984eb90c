"""Read-only queries against the warehouse for the report pages, on DuckDB or Postgres.

Every value from a user travels as a bound parameter; SQL text is only ever assembled from
constants in this package (identifiers picked from fixed lists). A page opens one connection,
runs its few aggregate/paged queries and closes it, so a running ``goldloop build`` (which needs
DuckDB's write lock) is never blocked by an idle report server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from goldloop.errors import WarehouseError
from goldloop.settings import Settings, Target
from goldloop.warehouse import connect


def adapt(sql: str, target: Target) -> str:
    """``?`` placeholders as written here, ``%s`` for psycopg2 (a literal ``%`` doubled).

    >>> adapt("select ? where a like 'x%'", "postgres")
    "select %s where a like 'x%%'"
    >>> adapt("select ?", "duckdb")
    'select ?'
    """
    if target == "duckdb":
        return sql
    return sql.replace("%", "%%").replace("?", "%s")


def like_pattern(text: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``text`` anywhere, its wildcards escaped.

    >>> like_pattern("50%_off")
    '%50\\\\%\\\\_off%'
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: str, text: str) -> tuple[str, list[str]]:
    """SQL testing, ignoring case, that ``column`` (a name written in this package) holds
    ``text``, and the patterns to bind for it.

    DuckDB matches a pattern without ``ESCAPE`` several times faster (once per distinct value
    of a dictionary-compressed column), so text with a wildcard or backslash is first matched
    loosely, without one (its wildcards left as wildcards match a superset), and only the rows
    that pass are matched exactly.

    >>> contains("email", "ann")
    ('email ilike ?', ['%ann%'])
    >>> contains("email", "a_b")
    ("(email ilike ? and email ilike ? escape '\\\\')", ['%a_b%', '%a\\\\_b%'])
    """
    pattern = like_pattern(text)
    loose = "%" + text.replace("\\", "_") + "%"
    if pattern == loose:
        return f"{column} ilike ?", [pattern]
    return f"({column} ilike ? and {column} ilike ? escape '\\')", [loose, pattern]


def _busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


class Reader:
    """One open warehouse connection for one page: parameterised reads only."""

    def __init__(self, con: Any, target: Target) -> None:
        self._con = con
        self.target = target
        self._tables: set[tuple[str, str]] | None = None
        self.memo: dict[str, Any] = {}  # results reused within one page (one connection)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one (aggregated or paged) query."""
        cur = self._con.cursor()
        cur.execute(adapt(sql, self.target), tuple(params))
        return [tuple(row) for row in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        """The single row of an aggregate query."""
        found = self.rows(sql, params)
        if not found:
            raise WarehouseError(f"query returned no row: {sql[:80]}")
        return found[0]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the single row of an aggregate query."""
        return self.one(sql, params)[0]

    def stream(self, sql: str, params: Sequence[Any] = (),
               batch: int = 5000) -> Iterator[tuple[Any, ...]]:
        """Rows of a query in batches (CSV exports), never all in memory at once."""
        cur = self._con.cursor()
        cur.execute(adapt(sql, self.target), tuple(params))
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            for row in chunk:
                yield tuple(row)

    def has_table(self, schema: str, name: str) -> bool:
        """Whether ``schema.name`` exists (table or view)."""
        if self._tables is None:
            self._tables = {
                (str(s), str(t)) for s, t in self.rows(
                    "select table_schema, table_name from information_schema.tables")
            }
        return (schema, name) in self._tables

    def columns(self, schema: str, name: str) -> list[tuple[str, str]]:
        """``(column, data type)`` of a table in order, from the warehouse's catalogue."""
        return [(str(c), str(t)) for c, t in self.rows(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            (schema, name))]


@contextlib.contextmanager
def open_reader(settings: Settings) -> Iterator[Reader]:
    """A :class:`Reader` on the configured warehouse (read-only on DuckDB), closed on exit.

    Raises :class:`WarehouseError` with what to do when the warehouse is missing or busy.
    """
    try:
        with connect(settings, read_only=settings.target == "duckdb") as con:
            yield Reader(con, settings.target)
    except WarehouseError:
        raise
    except Exception as exc:
        if _busy(exc):
            raise WarehouseError(
                f"the warehouse {settings.warehouse} is busy: an extract or build is writing "
                "to it", hint="reload the page when it has finished") from exc
        if type(exc).__name__ in ("CatalogException", "UndefinedTable", "ProgrammingError"):
            raise WarehouseError(
                f"the warehouse has no report tables yet ({str(exc).splitlines()[0]})",
                hint="run `goldloop build` to build the marts") from exc
        raise
