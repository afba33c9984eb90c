"""``goldloop report``: the business users' site, served live or built as static files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from goldloop.dbt import DBT_PROJECT_DIR
from goldloop.settings import load_settings

app = typer.Typer(help="Reports business users read: reconciliation, customers, data quality, "
                       "compliance, data dictionary.", no_args_is_help=True)

DBT_TARGET = DBT_PROJECT_DIR / "target"
STATE_DIR = Path(".goldloop")
DbtTarget = Annotated[Path, typer.Option(
    "--dbt-target", help="dbt's target folder (manifest.json, run_results.json)")]
StateDir = Annotated[Path, typer.Option(
    "--state-dir", help="Where the background server's pid file and log live")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(
        help="Address to listen on; anything but loopback needs GOLDLOOP_REPORT_TOKEN")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8780,
    dbt_target: DbtTarget = DBT_TARGET,
    background: Annotated[bool, typer.Option(
        "--background", help="Start detached, print the URL and return (stop it with "
                             "`goldloop report stop`); when one already runs, print its URL")]
    = False,
    state_dir: StateDir = STATE_DIR,
) -> None:
    """Serve the report site (pages rendered from the warehouse on each request)."""
    from reports.server import TOKEN_ENV, check_bind
    from reports.server import serve as run

    token = check_bind(host, os.environ.get(TOKEN_ENV))
    needs = f"  (access token required: {TOKEN_ENV})" if token else ""
    if background:
        from reports.background import start

        load_settings()  # bad settings fail here, not in the detached process
        server, started = start(state_dir, host=host, port=port, dbt_target=dbt_target)
        how = (f"started in the background, pid {server.pid}" if started
               else f"already running, pid {server.pid}")
        typer.echo(f"goldloop reports: {server.url}{needs}  ({how}; log {server.log}; "
                   "stop: goldloop report stop)")
        return
    from reports.background import server_url

    typer.echo(f"goldloop reports: {server_url(host, port)}{needs}  — Ctrl+C to stop")
    run(load_settings(), host=host, port=port, token=token, dbt_target=dbt_target)


@app.command()
def stop(state_dir: StateDir = STATE_DIR) -> None:
    """Stop the report server started with `goldloop report serve --background`."""
    from reports.background import stop as stop_server

    server = stop_server(state_dir)
    if server is None:
        typer.echo(f"goldloop reports: no background server is running (state in {state_dir})")
    else:
        typer.echo(f"goldloop reports: stopped the server on {server.url} (pid {server.pid})")


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the site into")],
    max_pages: Annotated[int, typer.Option(
        help="Pages of each table to write (every row is in its CSV)")] = 5,
    max_customers: Annotated[int, typer.Option(
        help="Customer pages to write (the ones the other pages link to first)")] = 200,
    dbt_target: DbtTarget = DBT_TARGET,
) -> None:
    """Write the report site as static files that open from disk."""
    from reports.static_site import build as write

    summary = write(out, load_settings(), dbt_target=dbt_target, max_pages=max_pages,
                    max_customers=max_customers)
    typer.echo(f"wrote {summary.pages} pages and {summary.csvs} CSV files to {out} in "
               f"{summary.seconds:.1f} s; open {summary.index.resolve().as_uri()}")
