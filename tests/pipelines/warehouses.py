"""Warehouses for pipeline tests: DuckDB in ``tmp_path``, or a fresh Postgres database.

Postgres tests skip only when Postgres at 127.0.0.1:5432 is unreachable and
``GOLDLOOP_REQUIRE_POSTGRES`` is unset; with it set, an unreachable Postgres fails them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from goldloop.settings import Settings
from goldloop.warehouse import connect
from tests.support import postgres_database


def duckdb_settings(tmp_path: Path) -> Settings:
    return Settings(target="duckdb", warehouse=tmp_path / "warehouse" / "goldloop.duckdb")


@contextmanager
def postgres_settings() -> Iterator[Settings]:
    """A fresh, uniquely named database, dropped afterwards."""
    with postgres_database("goldloop_test") as dsn:
        yield Settings(target="postgres", postgres_dsn=dsn)


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """All rows of one query on the warehouse (read-write connection: DuckDB may be open)."""
    with connect(settings) as con:
        cur = con.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def scalar(settings: Settings, sql: str) -> Any:
    return rows(settings, sql)[0][0]
