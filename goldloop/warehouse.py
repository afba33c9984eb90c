"""The warehouse connection: a DuckDB file by default, Postgres by configuration.

Both dlt (loading) and dbt (modelling) read the same :class:`goldloop.settings.Settings`, so the
raw datasets and the models land in the same place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from goldloop.errors import WarehouseError
from goldloop.settings import Settings


def postgres_database(dsn: str) -> str:
    """The database name of a Postgres DSN.

    >>> postgres_database("postgresql://postgres@127.0.0.1:5432/goldloop")
    'goldloop'
    """
    name = urlsplit(dsn).path.lstrip("/")
    if not name:
        raise WarehouseError(f"GOLDLOOP_POSTGRES_DSN {dsn!r} names no database",
                             hint="end the DSN with /<database>, e.g. .../goldloop")
    return name


def ensure_postgres_database(dsn: str) -> None:
    """Create the DSN's database if it does not exist yet (connects to ``postgres`` to do so)."""
    import psycopg2

    name = postgres_database(dsn)
    admin = urlunsplit(urlsplit(dsn)._replace(path="/postgres"))
    try:
        conn = psycopg2.connect(admin, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        raise WarehouseError(f"cannot reach Postgres at {redact_dsn(dsn)}: {exc}".strip(),
                             hint="start PostgreSQL or fix GOLDLOOP_POSTGRES_DSN") from exc
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def redact_dsn(dsn: str) -> str:
    """A DSN without its password, for messages.

    >>> redact_dsn("postgresql://u:secret@h:5432/db")
    'postgresql://u:***@h:5432/db'
    """
    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn


@contextlib.contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[Any]:
    """A DB-API connection to the warehouse (DuckDB or psycopg2), closed on exit."""
    if settings.target == "duckdb":
        import duckdb

        if read_only and not settings.warehouse.exists():
            raise WarehouseError(f"no warehouse at {settings.warehouse}",
                                 hint="run `goldloop extract all` first")
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(settings.warehouse), read_only=read_only)
    else:
        import psycopg2

        ensure_postgres_database(settings.postgres_dsn)
        con = psycopg2.connect(settings.postgres_dsn)
        con.autocommit = True
    try:
        yield con
    finally:
        con.close()


def query(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one read query and return all rows (``?`` placeholders on DuckDB, ``%s`` on Postgres)."""
    with connect(settings, read_only=settings.target == "duckdb") as con:
        cur = con.cursor()
        cur.execute(sql, tuple(params))
        return [tuple(row) for row in cur.fetchall()]
