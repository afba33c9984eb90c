"""``goldloop demo``: the whole loop on the sandbox, as far as it is built, then where to look."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from goldloop.dbt import DBT_PROJECT_DIR
from goldloop.settings import Settings, load_settings


def _sandbox_up(settings: Settings, customers: int) -> None:
    from goldloop.commands.sandbox import _echo_summary, write_dlt_secrets
    from sandbox.control import status, up

    up(settings.sandbox_dir, customers=customers, seed=42,
       progress=lambda msg: typer.echo(f"  {msg}"))
    write_dlt_secrets(settings.sandbox_dir)
    _echo_summary(status(settings.sandbox_dir))


def _extract(settings: Settings, customers: int) -> None:
    from goldloop.commands.extract import print_summaries
    from pipelines.run import extract

    print_summaries(extract(["crm", "erp", "shop", "hr"], settings=settings,
                            progress=lambda msg: typer.echo(f"  {msg}")))


Step = Callable[[Settings, int], None]


def _build(settings: Settings, customers: int) -> None:
    from goldloop.dbt import run_dbt

    run_dbt("build", settings)


DEMO_SYNCS = ("crm_contacts", "erp_contacts", "deal_invoices")


def _sync(settings: Settings, customers: int) -> None:
    from goldloop.commands.sync import print_run_summary
    from reverse_etl.runner import run_sync
    from reverse_etl.spec import find_spec

    for name in DEMO_SYNCS:
        typer.echo(f"  sync {name}")
        print_run_summary(run_sync(find_spec(name), settings, approve=True).to_dict())
    typer.echo("  shop_customers is paced at Shopify's 2 requests/s per shop (one record per "
               "call): run it with `goldloop sync run shop_customers`")


def _steps() -> list[tuple[str, Step]]:
    """The loop's steps in order; a step joins once its package exists."""
    steps: list[tuple[str, Step]] = [("sandbox", _sandbox_up)]
    if importlib.util.find_spec("pipelines.run") is not None:
        steps.append(("extract", _extract))
    if (DBT_PROJECT_DIR / "dbt_project.yml").exists():
        steps.append(("build", _build))
    if importlib.util.find_spec("reverse_etl.runner") is not None:
        steps.append(("sync", _sync))
    return steps


def demo(
    customers: Annotated[int, typer.Option(help="Customers in the sandbox world")] = 2000,
) -> None:
    """Start the sandbox, run the loop on DuckDB and print where to look."""
    settings = load_settings()
    for name, step in _steps():
        typer.secho(f"== {name}", bold=True)
        step(settings, customers)
    typer.secho("\nWhere to look", bold=True)
    typer.echo(f"  sandbox status:   goldloop sandbox status   (data in {settings.sandbox_dir})")
    if Path(settings.warehouse).exists():
        typer.echo(f"  warehouse:        {settings.warehouse}  (duckdb {settings.warehouse} "
                   "-c 'show all tables')")
    typer.echo("  reverse ETL:      goldloop sync status   (goldloop sync plan crm_contacts)")
    typer.echo("  reports:          goldloop report serve  ->  http://127.0.0.1:8780/")
    typer.echo("  stop the sandbox: goldloop sandbox down")
