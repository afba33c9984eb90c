"""goldloop's dbt project as dagster-dbt sees it: the manifest, the executable, dbt's settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from goldloop.dbt import DBT_PROJECT_DIR, dbt_env
from goldloop.errors import ConfigError
from goldloop.settings import Settings

PARSE_COMMAND = ".venv/bin/dbt parse --project-dir dbt_project --profiles-dir dbt_project"


def dbt_project() -> DbtProject:
    """The dbt project; under ``dagster dev`` its manifest is refreshed with ``dbt parse``."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


def manifest_path(project: DbtProject) -> Path:
    """``target/manifest.json``, which the definitions need before they load."""
    path = Path(project.manifest_path)
    if not path.exists():
        raise ConfigError(f"no dbt manifest at {path}",
                          hint=f"run `{PARSE_COMMAND}` (part of `make install`)")
    return path


def dbt_executable() -> str:
    """The ``dbt`` next to the running Python (the venv's), else ``dbt`` on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """The dbt CLI resource on goldloop's project and profiles."""
    return DbtCliResource(project_dir=project, profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=dbt_executable())


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """The ``GOLDLOOP_*`` variables profiles.yml reads, set for one dbt invocation."""
    if settings.target == "postgres":
        from goldloop.warehouse import ensure_postgres_database

        ensure_postgres_database(settings.postgres_dsn)
    values = {**dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
