"""One small sandbox per test session (own free ports, limits off), a DuckDB warehouse per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldloop.settings import Settings
from sandbox import control
from sandbox.config import SYSTEMS, SandboxConfig
from tests.reverse_etl.helpers import SandboxReader, free_ports


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxConfig]:
    """A 100-customer sandbox on free ports with the published limits lifted."""
    data_dir = tmp_path_factory.mktemp("reverse_etl_sandbox")
    ports = dict(zip(SYSTEMS, free_ports(len(SYSTEMS)), strict=True))
    config = control.up(data_dir, customers=100, seed=11, ports=ports, limits_enabled=False)
    try:
        yield config
    finally:
        control.down(data_dir, timeout=1.0)  # the server takes ~10 s to honour SIGTERM


@pytest.fixture
def reader(sandbox: SandboxConfig) -> Iterator[SandboxReader]:
    found = SandboxReader(sandbox)
    try:
        yield found
    finally:
        for system in ("crm", "erp", "shop"):
            found.faults(system)  # every test leaves the faults off
        found.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Settings:
    """A fresh DuckDB warehouse for one test."""
    return Settings(target="duckdb", warehouse=tmp_path / "warehouse.duckdb")


@pytest.fixture
def postgres() -> Iterator[Settings]:
    """A fresh Postgres database, dropped afterwards; skips only when Postgres is unreachable
    and GOLDLOOP_REQUIRE_POSTGRES is unset."""
    import psycopg2

    admin_dsn = "postgresql://postgres@127.0.0.1:5432/postgres"
    try:
        admin = psycopg2.connect(admin_dsn, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if os.environ.get("GOLDLOOP_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            raise
        pytest.skip(f"Postgres at 127.0.0.1:5432 is unreachable: {exc}".strip())
    admin.autocommit = True
    name = f"goldloop_retl_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(target="postgres",
                       postgres_dsn=f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
