"""A small sandbox world extracted into a DuckDB warehouse and built with dbt, for the dbt tests.

The whole loop as a user runs it, minus the CLI: ``sandbox.control.up`` on free ports with the
limits off, ``pipelines.run.extract_system`` for each system into ``<tmp>/warehouse.duckdb``,
then ``dbt build`` of ``dbt_project/`` as a subprocess (the venv's dbt, target and logs in tmp).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from goldloop.settings import Settings, patched_environ
from tests.support import free_ports, source_env

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
SYSTEMS = ("crm", "erp", "shop", "hr")
SHOPS = ("northwind", "southwind")


@dataclass
class BuiltWorld:
    """What the fixture made: the warehouse, the sandbox's truth and breaks, dbt's results."""

    warehouse: Path
    truth: list[tuple[str, str, str, str]]  # (system, object, record_id, entity_id)
    breaks: list[tuple[str, str, str, str]]  # (kind, system, record_id, detail)
    build: subprocess.CompletedProcess[str]
    run_results: dict[str, Any]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query against the built warehouse (read-only)."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return [tuple(row) for row in con.execute(sql, list(params)).fetchall()]
        finally:
            con.close()


def extract_world(root: Path, *, customers: int, seed: int,
                  settings: Settings | None = None) -> tuple[Path, list, list]:
    """Seed and serve a sandbox under ``root``, extract all four systems, stop the sandbox.

    Loads into ``settings``' warehouse (default: ``<root>/warehouse.duckdb``). Returns the DuckDB
    path, the truth rows and the break rows.
    """
    from pipelines.run import extract_system
    from sandbox import control

    data_dir = root / "sandbox"
    warehouse = root / "warehouse.duckdb"
    ports = dict(zip(SYSTEMS, free_ports(len(SYSTEMS)), strict=True))
    config = control.up(data_dir, customers=customers, seed=seed, ports=ports,
                        limits_enabled=False)
    try:
        settings = settings or Settings(warehouse=warehouse)
        with patched_environ(source_env(config)):
            for system in SYSTEMS:
                extract_system(system, settings=settings, pipelines_dir=root / "dlt")
        return warehouse, control.truth_rows(data_dir), control.break_rows(data_dir)
    finally:
        control.down(data_dir)


def dbt(command: str, *args: str, root: Path, warehouse: Path | None = None,
        postgres_dsn: str | None = None, timeout: float = 600,
        project_dir: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    """Run the venv's ``dbt <command>`` on ``project_dir`` (dbt_project/) with target and logs
    under ``root``.

    On the DuckDB file ``warehouse``, or on Postgres when ``postgres_dsn`` is given.
    """
    executable = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PWD": str(REPO)}
    if postgres_dsn is not None:
        # a server answers many small queries at once: more threads than DuckDB's default
        env.update(GOLDLOOP_TARGET="postgres", GOLDLOOP_POSTGRES_DSN=postgres_dsn,
                   GOLDLOOP_DBT_THREADS="8")
    else:
        env.update(GOLDLOOP_TARGET="duckdb", GOLDLOOP_WAREHOUSE=str(warehouse))
    return subprocess.run(
        [str(executable), command, "--project-dir", str(project_dir),
         "--profiles-dir", str(project_dir), "--target-path", str(root / "target"),
         "--log-path", str(root / "logs"), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def copy_project(destination: Path) -> Path:
    """A copy of dbt_project/ (sources only, no build output) at ``destination``.

    For tests that change what a steward edits (seeds) without touching the real project.
    """
    shutil.copytree(PROJECT_DIR, destination,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__"))
    return destination


def build_world(root: Path, *, customers: int = 500, seed: int = 42) -> BuiltWorld:
    """Extract a sandbox world of ``customers`` and ``dbt build`` it."""
    warehouse, truth, breaks = extract_world(root, customers=customers, seed=seed)
    build = dbt("build", root=root, warehouse=warehouse)
    results_file = root / "target" / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return BuiltWorld(warehouse, truth, breaks, build, run_results)


