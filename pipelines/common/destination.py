"""Where a system's raw data lands: one dlt pipeline per system into the configured warehouse.

The destination follows :class:`goldloop.settings.Settings` (a DuckDB file by default, Postgres
by configuration), the dataset is ``raw_<system>``, and the pipeline's local working state lives in
``.goldloop/dlt/<target>/<warehouse>`` so two warehouses never share incremental state.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import dlt
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from goldloop.settings import Settings
from goldloop.warehouse import ensure_postgres_database, postgres_database

DEFAULT_PIPELINES_ROOT = Path(".goldloop/dlt")


def pipeline_name(system: str) -> str:
    """The dlt pipeline name of one system.

    >>> pipeline_name("crm")
    'goldloop_crm'
    """
    return f"goldloop_{system}"


def dataset_name(system: str) -> str:
    """The raw dataset (schema) of one system.

    >>> dataset_name("hr")
    'raw_hr'
    """
    return f"raw_{system}"


def warehouse_key(settings: Settings) -> str:
    """A short, stable folder name for the warehouse the settings point at.

    >>> warehouse_key(Settings(warehouse=Path("/tmp/x/goldloop.duckdb")))[:9]
    'goldloop-'
    >>> warehouse_key(Settings(target="postgres"))[:9]
    'goldloop-'
    """
    if settings.target == "duckdb":
        where = str(settings.warehouse.expanduser().resolve())
        stem = settings.warehouse.stem
    else:
        where = settings.postgres_dsn
        stem = postgres_database(settings.postgres_dsn)
    return f"{stem}-{hashlib.sha1(where.encode()).hexdigest()[:8]}"


def default_pipelines_dir(settings: Settings) -> Path:
    """``.goldloop/dlt/<target>/<warehouse key>``: dlt's local state for this warehouse."""
    return DEFAULT_PIPELINES_ROOT / settings.target / warehouse_key(settings)


def make_destination(settings: Settings) -> Any:
    """The dlt destination for the settings (creates the Postgres database when missing)."""
    if settings.target == "duckdb":
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(settings.warehouse))
    ensure_postgres_database(settings.postgres_dsn)
    credentials = PostgresCredentials()
    credentials.parse_native_representation(settings.postgres_dsn)
    if credentials.password is None:  # trust/peer auth: dlt requires the field, empty is fine
        credentials.password = ""
    return dlt.destinations.postgres(credentials)


def make_pipeline(system: str, settings: Settings, *, pipelines_dir: Path | None = None,
                  dev_mode: bool = False) -> dlt.Pipeline:
    """The dlt pipeline ``goldloop_<system>`` loading into ``raw_<system>`` of the warehouse."""
    where = pipelines_dir or default_pipelines_dir(settings)
    where.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=pipeline_name(system),
        destination=make_destination(settings),
        dataset_name=dataset_name(system),
        pipelines_dir=str(where),
        dev_mode=dev_mode,
    )
