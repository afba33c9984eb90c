"""Shared fixtures: a fresh dbt manifest, which the definitions need before they import."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.orchestration.support import MANIFEST, REPO

DBT_DIR = REPO / "dbt_project"
_SOURCES = ("models", "macros", "seeds", "snapshots", "tests", "udfs", "dbt_project.yml",
            "profiles.yml")


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _SOURCES:
        path = DBT_DIR / name
        files = [path] if path.is_file() else list(path.rglob("*")) if path.exists() else []
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project's files."""
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    with (MANIFEST.parent / ".orchestration-tests.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers parse one at a time
        if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _newest_source_mtime():
            dbt = Path(sys.executable).with_name("dbt")
            subprocess.run([str(dbt), "parse", "--quiet", "--project-dir", str(DBT_DIR),
                            "--profiles-dir", str(DBT_DIR)], cwd=REPO, check=True,
                           capture_output=True, text=True, timeout=300)
    return MANIFEST


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest the code location reads, fresh for this session."""
    return ensure_manifest()

