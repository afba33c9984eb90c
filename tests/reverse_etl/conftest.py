"""One small sandbox per test session (own free ports, limits off), a DuckDB warehouse per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldloop.settings import Settings
from sandbox import control
from sandbox.config import SYSTEMS, SandboxConfig
from tests.reverse_etl.helpers import SandboxReader
from tests.support import free_ports, postgres_database


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
    with postgres_database("goldloop_retl") as dsn:
        yield Settings(target="postgres", postgres_dsn=dsn)
