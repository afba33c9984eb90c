"""Warehouse fixtures shared by the pipeline tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldloop.settings import Settings
from tests.pipelines.warehouses import duckdb_settings, postgres_settings


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """The same test on DuckDB and on Postgres (a fresh database)."""
    if request.param == "duckdb":
        yield duckdb_settings(tmp_path)
    else:
        with postgres_settings() as settings:
            yield settings


@pytest.fixture
def duckdb_warehouse(tmp_path: Path) -> Settings:
    """A DuckDB warehouse file in the test's temporary folder."""
    return duckdb_settings(tmp_path)
