"""goldloop's dbt project as dagster-dbt sees it: the manifest, the executable, dbt's settings."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from goldloop.dbt import DBT_PROJECT_DIR, dbt_env
from goldloop.errors import ConfigError
from goldloop.settings import Settings, patched_environ

PARSE_COMMAND = ".venv/bin/dbt parse --project-dir dbt_project --profiles-dir dbt_project"
PARTIAL_PARSE = "partial_parse.msgpack"


def dbt_project(project_dir: Path | None = None) -> DbtProject:
    """The dbt project (default ``dbt_project/``); under ``dagster dev`` its manifest is
    refreshed with ``dbt parse``."""
    folder = project_dir or DBT_PROJECT_DIR
    project = DbtProject(project_dir=folder, profiles_dir=folder)
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
    return DbtCliResource(project_dir=project, profiles_dir=str(project.profiles_dir),
                          dbt_executable=dbt_executable())


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """The ``GOLDLOOP_*`` variables profiles.yml reads, and dbt's test selection (no unit
    tests; data tests with all their models), set for one dbt invocation (dagster-dbt's own
    test selection, when it subsets checks, still wins)."""
    if settings.target == "postgres":
        from goldloop.warehouse import ensure_postgres_database

        ensure_postgres_database(settings.postgres_dsn)
    values = {**dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
              # a test runs in the step that builds all of its models (or after them): the
              # customer step must not run the orders' tests that refer to customers
              "DBT_INDIRECT_SELECTION": "buildable",
              # unit tests check the SQL against fixtures, not the data: CI runs them (as dbt
              # recommends), a data run would only wait for them before each model
              "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
    with patched_environ(values):
        yield


def shared_target_path(project_dir: Path) -> Path:
    """The folder dagster-dbt copies ``partial_parse.msgpack`` from into each run's own target
    folder: ``DBT_TARGET_PATH`` (relative to the project) or the project's ``target/``."""
    configured = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return configured if configured.is_absolute() else project_dir / configured


def keep_partial_parse(run_target: Path, shared_target: Path) -> bool:
    """Copy a run's fresh ``partial_parse.msgpack`` to where the next run picks it up.

    dbt reparses the whole project when the saved parse was made with another profile (another
    warehouse path, another thread count): keeping the last run's parse lets the next run of
    the same deployment skip that. Written atomically; False when the run left none.
    """
    source = run_target / PARTIAL_PARSE
    if not source.exists() or run_target.resolve() == shared_target.resolve():
        return False
    shared_target.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=shared_target, prefix=".partial_parse-",
                                     delete=False) as tmp:
        temporary = Path(tmp.name)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, shared_target / PARTIAL_PARSE)
    finally:
        temporary.unlink(missing_ok=True)
    return True
