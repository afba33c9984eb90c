"""Resources: goldloop's settings and the alert webhook, resolved when a run starts.

Every field is optional: unset fields come from the ``GOLDLOOP_*`` environment of the run
(:func:`goldloop.settings.load_settings`), never from the environment at import. Bind a field
with ``dagster.EnvVar("NAME")`` to make a deployment require that variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource

from goldloop.settings import Settings, load_settings

ALERT_WEBHOOK_ENV = "GOLDLOOP_ALERT_WEBHOOK_URL"


class GoldloopResource(ConfigurableResource):
    """Where goldloop's data lives: the warehouse (DuckDB file or Postgres) and dlt's state.

    Attributes:
        target: ``duckdb`` or ``postgres`` (default: ``GOLDLOOP_TARGET``, else duckdb).
        warehouse: DuckDB file (default: ``GOLDLOOP_WAREHOUSE``).
        postgres_dsn: Postgres DSN (default: ``GOLDLOOP_POSTGRES_DSN``).
        pipelines_dir: dlt's local working folder (default ``.goldloop/dlt/<target>/<key>``).
    """

    target: str | None = None
    warehouse: str | None = None
    postgres_dsn: str | None = None
    pipelines_dir: str | None = None

    def settings(self) -> Settings:
        """The validated settings: the environment's, overridden by the fields that are set."""
        base = load_settings()
        overrides: dict[str, Any] = {
            name: value for name, value in (
                ("target", self.target), ("warehouse", self.warehouse),
                ("postgres_dsn", self.postgres_dsn)) if value
        }
        if not overrides:
            return base
        return Settings.model_validate({**base.model_dump(), **overrides})

    def pipelines_path(self) -> Path | None:
        """The dlt working folder, when one is configured."""
        return Path(self.pipelines_dir) if self.pipelines_dir else None


class AlertResource(ConfigurableResource):
    """Where run-failure alerts go besides the alert table: a Slack-compatible webhook URL.

    Attributes:
        webhook_url: incoming-webhook URL (default: ``GOLDLOOP_ALERT_WEBHOOK_URL``; none: the
            alert is only recorded).
    """

    webhook_url: str | None = None
    timeout_seconds: float = 5.0

    def url(self) -> str | None:
        """The configured URL, if any."""
        return self.webhook_url or os.environ.get(ALERT_WEBHOOK_ENV) or None
