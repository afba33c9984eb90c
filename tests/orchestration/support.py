"""Test support of the Dagster layer: dagster-dbt's target folders (the rest: tests.support)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import REPO

MANIFEST = REPO / "dbt_project" / "target" / "manifest.json"


def dbt_target_dir(root: Path) -> str:
    """A folder for dagster-dbt's per-run target folders (``DBT_TARGET_PATH``), outside the repo.

    Seeded with the project's ``partial_parse.msgpack`` so dbt skips a full parse.
    """
    target = root / "dbt_target"
    target.mkdir(parents=True, exist_ok=True)
    partial = MANIFEST.parent / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy(partial, target / partial.name)
    return str(target)
