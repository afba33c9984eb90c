"""Run dbt on goldloop's project with the same settings as the rest of goldloop."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from goldloop.errors import GoldloopError
from goldloop.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
# what a manifest is parsed from: newer files here make it stale
PROJECT_SOURCES = ("models", "macros", "seeds", "snapshots", "tests", "analyses", "udfs",
                   "plugins", "dbt_project.yml", "profiles.yml")


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
    if command in ("build", "test"):  # failed builds too: their tests are the history
        from goldloop.quality.dbt_results import record_dbt_results

        record_dbt_results(settings, DBT_PROJECT_DIR / "target")
    if not result.success:
        failed = []
        for node in getattr(result.result, "results", None) or []:
            if str(getattr(node, "status", "")).lower() in ("error", "fail"):
                failed.append(f"{node.node.name}: {node.message}")
        detail = "; ".join(failed[:5]) or str(result.exception or "see the dbt log above")
        raise BuildError(f"dbt {command} failed: {detail}",
                         hint="read the dbt output above, fix the model or the data, rerun")


def newest_source_mtime(project_dir: Path = DBT_PROJECT_DIR) -> float:
    """The last time a file the manifest is parsed from changed (0.0 when there is none)."""
    newest = 0.0
    for name in PROJECT_SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else list(path.rglob("*")) if path.exists() else []
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Run ``dbt parse`` when ``target/manifest.json`` is missing or older than the project.

    Dagster's code location reads the manifest when it loads; a stale one names models the
    build no longer has (or misses new ones). Processes parse one at a time (a file lock).
    """
    manifest = project_dir / "target" / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with (manifest.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime >= newest_source_mtime(project_dir):
            return manifest
        dbt = Path(sys.executable).with_name("dbt")
        done = subprocess.run([str(dbt), "parse", "--quiet", "--project-dir", str(project_dir),
                               "--profiles-dir", str(project_dir)], cwd=project_dir.parent,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            raise BuildError(f"dbt parse failed in {project_dir}: "
                             f"{(done.stdout + done.stderr).strip()[-2000:]}",
                             hint="fix the dbt project (run `dbt parse` there to see the error)")
    return manifest
