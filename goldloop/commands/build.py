"""``goldloop build``: dbt build (staging → identity → golden marts → reconciliation)."""

from __future__ import annotations

from typing import Annotated

import typer

from goldloop.settings import load_settings


def build_args(select: str | None, full_refresh: bool, full_tests: bool = False) -> list[str]:
    """dbt's arguments for ``goldloop build``.

    >>> build_args(None, False), build_args("staging.crm+", True)
    ([], ['--select', 'staging.crm+', '--full-refresh'])
    >>> build_args(None, False, full_tests=True)
    ['--vars', '{full_tests: true}']
    """
    return ((["--select", select] if select else [])
            + (["--full-refresh"] if full_refresh else [])
            + (["--vars", "{full_tests: true}"] if full_tests else []))


def build(
    select: Annotated[str | None, typer.Option(help="dbt node selection, e.g. staging.crm+")]
    = None,
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="rebuild the incremental models from scratch (staging of "
        "contacts, customer records, clusters, order lines) and retrain the Splink model")]
    = False,
    full_tests: Annotated[bool, typer.Option(
        "--full-tests", help="test every row; by default the tests of staging and of the "
        "tables built by dlt load read the rows loaded since they last passed")]
    = False,
) -> None:
    """Build and test the dbt models on the configured warehouse."""
    from goldloop.dbt import run_dbt

    run_dbt("build", load_settings(), build_args(select, full_refresh, full_tests))
