"""Shared fixtures: a fresh dbt manifest, which the definitions need before they import."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldloop.dbt import ensure_manifest


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest the code location reads, fresh for this session (``dbt parse`` when
    it is missing or older than the project's files; xdist workers parse one at a time)."""
    return ensure_manifest()
