"""One sandbox world per test session, extracted and built with dbt (see world.py)."""

from __future__ import annotations

import pytest

from tests.dbt.world import BuiltWorld, build_world

CUSTOMERS = 500
SEED = 42


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltWorld:
    """A 500-customer sandbox world extracted into DuckDB and built by ``dbt build``."""
    return build_world(tmp_path_factory.mktemp("dbt_world"), customers=CUSTOMERS, seed=SEED)
