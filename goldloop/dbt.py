"""Run dbt on goldloop's project with the same settings as the rest of goldloop."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from goldloop.errors import GoldloopError
from goldloop.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


class BuildError(GoldloopError):
    """dbt could not build the models (a model failed or an error-severity test failed)."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment dbt's profiles.yml reads (an absolute warehouse path).

    >>> dbt_env(Settings())["GOLDLOOP_TARGET"]
    'duckdb'
    """
    return {
        "GOLDLOOP_TARGET": settings.target,
        "GOLDLOOP_WAREHOUSE": str(settings.warehouse.expanduser().resolve()),
        "GOLDLOOP_POSTGRES_DSN": settings.postgres_dsn,
    }


def run_dbt(command: str, settings: Settings, args: Sequence[str] = ()) -> None:
    """Run ``dbt <command>`` in-process on goldloop's project.

    Raises :class:`BuildError` when a model or an error-severity test fails.
    """
    from dbt.cli.main import dbtRunner

    if settings.target == "postgres":
        from goldloop.warehouse import ensure_postgres_database

        ensure_postgres_database(settings.postgres_dsn)
    os.environ.update(dbt_env(settings))
    result = dbtRunner().invoke([
        command, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        *args,
    ])
    if not result.success:
        failed = []
        for node in getattr(result.result, "results", None) or []:
            if str(getattr(node, "status", "")).lower() in ("error", "fail"):
                failed.append(f"{node.node.name}: {node.message}")
        detail = "; ".join(failed[:5]) or str(result.exception or "see the dbt log above")
        raise BuildError(f"dbt {command} failed: {detail}",
                         hint="read the dbt output above, fix the model or the data, rerun")
