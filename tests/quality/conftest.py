"""Warehouses for the quality tests: small hand-made marts (fast), and the real built world.

``world`` is the report tests' session world (tests/dbt/world.py's ``build_world``, 100
customers, built once per session and shared with tests/reports): tests copy its DuckDB file
before writing to it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from goldloop.settings import Settings
from goldloop.warehouse import connect
from tests.reports.conftest import world  # noqa: F401  (the shared session world)

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/goldloop_h3"

# model → (columns DDL, good rows): the columns the suites read, nothing more
GOOD_MARTS: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
    "customers": ("customer_id varchar, email varchar, has_marketing_consent boolean", [
        ("c1", "ann@example.com", True), ("c2", "bob@example.org", False),
        ("c3", None, False)]),
    "sync_crm__contacts": (
        "sync_key varchar, email varchar, crm_record_id varchar, hs_email_optout varchar", [
            ("c1", "ann@example.com", "101", "false"), ("c2", "bob@example.org", None, "true"),
            ("c3", None, "103", "true")]),
}


def create_marts(settings: Settings,
                 marts: Mapping[str, tuple[str, Sequence[tuple[Any, ...]]]] = GOOD_MARTS) -> None:
    """(Re)create the ``marts`` tables ``marts`` describes, with their rows."""
    mark = "?" if settings.target == "duckdb" else "%s"
    with connect(settings) as con:
        cur = con.cursor()
        cur.execute("create schema if not exists marts")
        for model, (columns, rows) in marts.items():
            cur.execute(f"drop table if exists marts.{model}")
            cur.execute(f"create table marts.{model} ({columns})")
            for row in rows:
                cur.execute(f"insert into marts.{model} values "
                            f"({', '.join([mark] * len(row))})", row)


def execute(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement (``?`` placeholders on DuckDB, ``%s`` on Postgres); rows if any."""
    with connect(settings) as con:
        cur = con.cursor()
        cur.execute(sql, tuple(params))
        return [tuple(r) for r in cur.fetchall()] if cur.description else []


@pytest.fixture
def duckdb_marts(tmp_path: Path) -> Settings:
    """A DuckDB warehouse with good small ``customers`` and ``sync_crm__contacts`` marts."""
    settings = Settings(target="duckdb", warehouse=tmp_path / "warehouse.duckdb")
    create_marts(settings)
    return settings


@pytest.fixture
def postgres_marts() -> Iterator[Settings]:
    """Database goldloop_h3 with fresh ``marts`` (good rows) and no ``quality`` schema; skips
    only when Postgres is unreachable and GOLDLOOP_REQUIRE_POSTGRES is unset."""
    import psycopg2

    from goldloop.warehouse import ensure_postgres_database

    try:
        psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        if os.environ.get("GOLDLOOP_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            raise
        pytest.skip(f"Postgres at 127.0.0.1:5432 is unreachable: {exc}".strip())
    ensure_postgres_database(POSTGRES_DSN)
    settings = Settings(target="postgres", postgres_dsn=POSTGRES_DSN)
    for schema in ("marts", "quality", "reverse_etl"):
        execute(settings, f"drop schema if exists {schema} cascade")
    create_marts(settings)
    yield settings


@pytest.fixture
def world_copy(world: Any, tmp_path: Path) -> Settings:  # noqa: F811  (world: the fixture)
    """A private copy of the built world's warehouse, to write quality results into."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    return Settings(target="duckdb", warehouse=copy)
