"""Settings of goldloop, read from the environment at call time and validated once.

Nothing here reads the environment at import; call :func:`load_settings` where the value is needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

from goldloop.errors import ConfigError

DEFAULT_WAREHOUSE = "warehouse/goldloop.duckdb"
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/goldloop"
DEFAULT_SANDBOX_DIR = ".goldloop/sandbox"

Target = Literal["duckdb", "postgres"]


class Settings(BaseModel, frozen=True):
    """Where goldloop keeps its data and which warehouse it talks to."""

    target: Target = "duckdb"
    warehouse: Path = Path(DEFAULT_WAREHOUSE)
    postgres_dsn: str = DEFAULT_POSTGRES_DSN
    sandbox_dir: Path = Path(DEFAULT_SANDBOX_DIR)
    require_postgres: bool = False

    @field_validator("postgres_dsn")
    @classmethod
    def _dsn_is_postgres(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        return value


_ENV = {
    "target": "GOLDLOOP_TARGET",
    "warehouse": "GOLDLOOP_WAREHOUSE",
    "postgres_dsn": "GOLDLOOP_POSTGRES_DSN",
    "sandbox_dir": "GOLDLOOP_SANDBOX_DIR",
    "require_postgres": "GOLDLOOP_REQUIRE_POSTGRES",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate goldloop's settings from ``environ`` (default: the process environment).

    >>> load_settings({"GOLDLOOP_TARGET": "postgres"}).target
    'postgres'
    >>> load_settings({}).warehouse.as_posix()
    'warehouse/goldloop.duckdb'
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {
        field: env[name] for field, name in _ENV.items() if env.get(name, "") != ""
    }
    if "require_postgres" in raw:
        raw["require_postgres"] = str(raw["require_postgres"]).lower() not in ("0", "false", "no")
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_ENV[str(err['loc'][0])]}: {err['msg']}" for err in exc.errors() if err["loc"]
        )
        raise ConfigError(
            f"invalid goldloop settings: {problems}",
            hint="set GOLDLOOP_TARGET to duckdb or postgres and "
            "GOLDLOOP_POSTGRES_DSN to a postgresql:// URL",
        ) from exc


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored on exit (one dbt invocation, a benchmark or a
    test sets goldloop's settings this way).

    >>> with patched_environ({"GOLDLOOP_EXAMPLE": "1"}):
    ...     os.environ["GOLDLOOP_EXAMPLE"]
    '1'
    >>> "GOLDLOOP_EXAMPLE" in os.environ
    False
    """
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
