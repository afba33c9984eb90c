"""Orchestration's own tables: the webhook inbox and the run-failure alerts.

On Postgres they live in the warehouse, schema ``orchestration``. On DuckDB they live in a SQLite
file beside the warehouse (``warehouse/goldloop.orchestration.sqlite``): DuckDB admits one
writing process at a time and a load or a dbt build holds the file for minutes, while the webhook
receiver must store an event and answer within a second and the sensors must read while runs
write. SQLite in WAL mode gives both, durably (``synchronous=FULL``).

No Dagster import here: the webhook receiver uses this module on its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from goldloop.errors import WarehouseError
from goldloop.settings import Settings

SCHEMA = "orchestration"
Dialect = Literal["sqlite", "postgres"]

_SQLITE_DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS webhook_inbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        object_id TEXT,
        occurred_at TEXT,
        received_at TEXT NOT NULL,
        payload TEXT NOT NULL,
        claimed_by TEXT,
        claimed_at TEXT,
        UNIQUE (system, event_id))""",
    """CREATE TABLE IF NOT EXISTS run_alerts (
        alert_id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL UNIQUE,
        job_name TEXT NOT NULL,
        failed_at TEXT NOT NULL,
        message TEXT NOT NULL,
        failed_steps TEXT NOT NULL,
        notified INTEGER NOT NULL DEFAULT 0,
        notify_error TEXT)""",
)

_POSTGRES_DDL: tuple[str, ...] = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.webhook_inbox (
        seq BIGSERIAL PRIMARY KEY,
        system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        object_id TEXT,
        occurred_at TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        payload TEXT NOT NULL,
        claimed_by TEXT,
        claimed_at TIMESTAMPTZ,
        UNIQUE (system, event_id))""",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.run_alerts (
        alert_id BIGSERIAL PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        job_name TEXT NOT NULL,
        failed_at TIMESTAMPTZ NOT NULL,
        message TEXT NOT NULL,
        failed_steps TEXT NOT NULL,
        notified BOOLEAN NOT NULL DEFAULT FALSE,
        notify_error TEXT)""",
)

_READY: set[str] = set()  # locations whose tables exist (created once per process)


def sqlite_path(settings: Settings) -> Path:
    """The SQLite file beside a DuckDB warehouse.

    >>> sqlite_path(Settings()).as_posix()
    'warehouse/goldloop.orchestration.sqlite'
    """
    return settings.warehouse.with_name(f"{settings.warehouse.stem}.orchestration.sqlite")


def describe(settings: Settings) -> str:
    """Where the tables are, for messages (no password).

    >>> describe(Settings())
    'warehouse/goldloop.orchestration.sqlite'
    """
    if settings.target == "duckdb":
        return sqlite_path(settings).as_posix()
    from goldloop.warehouse import redact_dsn

    return f"{redact_dsn(settings.postgres_dsn)} schema {SCHEMA}"


@dataclass
class StateStore:
    """One open connection to the tables, with ``?`` placeholders on both dialects."""

    connection: Any
    dialect: Dialect

    def table(self, name: str) -> str:
        """The table's name as SQL (schema-qualified on Postgres)."""
        return f"{SCHEMA}.{name}" if self.dialect == "postgres" else name

    def stamp(self, when: datetime | None) -> Any:
        """A timestamp as the dialect stores it (ISO text in SQLite)."""
        if when is None or self.dialect == "postgres":
            return when
        return when.astimezone(UTC).isoformat()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor."""
        if self.dialect == "postgres":
            sql = sql.replace("?", "%s")
        cursor = self.connection.cursor()
        cursor.execute(sql, tuple(params))
        return cursor

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of one query."""
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, committed durably on success, rolled back on error."""
        if self.dialect == "sqlite":
            self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.rollback()
            raise
        self.connection.commit()


def _open_sqlite(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30.0, isolation_level=None,
                          check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA busy_timeout=30000")
    return con


def _open_postgres(dsn: str, *, ensure_database: bool) -> Any:
    import psycopg2

    from goldloop.warehouse import ensure_postgres_database, redact_dsn

    if ensure_database:
        ensure_postgres_database(dsn)
    try:
        con = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise WarehouseError(f"cannot reach Postgres at {redact_dsn(dsn)}: {exc}".strip(),
                             hint="start PostgreSQL or fix GOLDLOOP_POSTGRES_DSN") from exc
    con.autocommit = False
    return con


@contextmanager
def connect_state(settings: Settings) -> Iterator[StateStore]:
    """The orchestration tables of the configured warehouse (created on first use)."""
    if settings.target == "duckdb":
        path = sqlite_path(settings).expanduser().resolve()
        store = StateStore(_open_sqlite(path), "sqlite")
        location, ddl = f"sqlite:{path}", _SQLITE_DDL
    else:
        location, ddl = f"postgres:{settings.postgres_dsn}", _POSTGRES_DDL
        store = StateStore(_open_postgres(settings.postgres_dsn,
                                          ensure_database=location not in _READY), "postgres")
    try:
        if location not in _READY:
            with store.transaction():
                for statement in ddl:
                    store.execute(statement)
            _READY.add(location)
        yield store
    finally:
        store.connection.close()
