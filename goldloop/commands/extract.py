"""``goldloop extract``: run the dlt pipelines of one or every system into the warehouse."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from goldloop.settings import load_settings

if TYPE_CHECKING:
    from pipelines.common.summary import SystemSummary


class Which(StrEnum):
    crm = "crm"
    erp = "erp"
    shop = "shop"
    hr = "hr"
    all = "all"


def print_summaries(summaries: list[SystemSummary], as_json: bool = False) -> None:
    """Print the per-table summary (text for people, JSON for scripts)."""
    from pipelines.common.summary import render_text

    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in summaries], indent=2, default=str))
    else:
        typer.echo(render_text(summaries))


def extract(
    system: Annotated[Which, typer.Argument(help="crm, erp, shop, hr or all")] = Which.all,
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="Drop this source's state and tables, then load everything",
    )] = False,
    start: Annotated[datetime | None, typer.Option(
        help="Window start (UTC, ISO 8601) for a backfill")] = None,
    end: Annotated[datetime | None, typer.Option(
        help="Window end (UTC, ISO 8601) for a backfill")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Extract CRM, ERP, shop and HR into raw_<system> datasets (incremental by default)."""
    from pipelines.run import ExtractFailed
    from pipelines.run import extract as run

    settings = load_settings()
    progress = None if as_json else (lambda msg: typer.echo(f"  {msg}", err=True))
    try:
        summaries = run([system.value], settings=settings, full_refresh=full_refresh,
                        start=start, end=end, progress=progress)
    except ExtractFailed as exc:
        if exc.summaries:
            print_summaries(exc.summaries, as_json)
        raise
    print_summaries(summaries, as_json)
