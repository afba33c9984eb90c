"""Warehouses for pipeline tests: DuckDB in ``tmp_path``, or a fresh Postgres database.

Postgres tests skip only when Postgres at 127.0.0.1:5432 is unreachable and
``GOLDLOOP_REQUIRE_POSTGRES`` is unset; with it set, an unreachable Postgres fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from goldloop.settings import Settings
from goldloop.warehouse import connect

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def duckdb_settings(tmp_path: Path) -> Settings:
    return Settings(target="duckdb", warehouse=tmp_path / "warehouse" / "goldloop.duckdb")


@contextmanager
def postgres_settings() -> Iterator[Settings]:
    """A fresh, uniquely named database, dropped afterwards."""
    import psycopg2

    try:
        admin = psycopg2.connect(ADMIN_DSN, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if os.environ.get("GOLDLOOP_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            raise
        pytest.skip(f"Postgres at 127.0.0.1:5432 is unreachable: {exc}".strip())
    admin.autocommit = True
    name = f"goldloop_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(target="postgres",
                       postgres_dsn=f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def rows(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """All rows of one query on the warehouse (read-write connection: DuckDB may be open)."""
    with connect(settings) as con:
        cur = con.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def scalar(settings: Settings, sql: str) -> Any:
    return rows(settings, sql)[0][0]
