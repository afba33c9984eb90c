"""``goldloop build``: dbt build (staging → identity → golden marts → reconciliation)."""

from __future__ import annotations

from typing import Annotated

import typer

from goldloop.settings import load_settings


def build(
    select: Annotated[str | None, typer.Option(help="dbt node selection, e.g. staging.crm+")]
    = None,
) -> None:
    """Build and test the dbt models on the configured warehouse."""
    from goldloop.dbt import run_dbt

    run_dbt("build", load_settings(), ["--select", select] if select else [])
