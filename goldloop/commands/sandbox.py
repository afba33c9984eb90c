"""``goldloop sandbox ...``: the local emulators of the four systems (demo and test wiring)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from goldloop.settings import load_settings

app = typer.Typer(help="The local sandbox: emulators of the CRM, ERP, shop and HR systems.",
                  no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Sandbox data dir [default: $GOLDLOOP_SANDBOX_DIR or .goldloop/sandbox]")]


def _dir(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else load_settings().sandbox_dir


def _echo_summary(info: dict[str, Any]) -> None:
    typer.echo(f"sandbox {'running' if info['running'] else 'stopped'}: {info['data_dir']} "
               f"(seed {info['seed']}, {info['customers']:,} customers, "
               f"limits {'on' if info['limits']['enabled'] else 'off'})")
    for system, sysinfo in info["systems"].items():
        counts = ", ".join(
            f"{obj} {c['total']:,}" + (f" ({c['archived']:,} archived)" if c["archived"] else "")
            for obj, c in sysinfo["counts"].items()
        )
        typer.echo(f"  {system:<5} {sysinfo['base_url']}")
        if system == "shop":
            for name, shop in sysinfo["shops"].items():
                typer.echo(f"        {name}: {shop['base_url']}")
        typer.echo(f"        {counts}")


def write_dlt_secrets(data_dir: Path, target: Path = Path(".dlt/secrets.toml")) -> bool:
    """Write the sandbox credentials to ``.dlt/secrets.toml`` unless that file already exists."""
    from sandbox.control import dlt_secrets_toml

    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dlt_secrets_toml(data_dir))
    return True


@app.command()
def up(
    customers: Annotated[int, typer.Option(help="Real customers in the world (100..1,000,000)")]
    = 1000,
    seed: Annotated[int, typer.Option(help="World seed (same seed, same world)")] = 42,
    order_lines: Annotated[int | None, typer.Option(
        help="About this many shop order lines in all (default: ~2.7 per shop customer)")] = None,
    data_dir: DataDir = None,
    no_limits: Annotated[bool, typer.Option("--no-limits",
                                            help="Lift the vendors' rate limits")] = False,
    webhook_url: Annotated[str | None, typer.Option(help="Where mutate sends webhooks")] = None,
) -> None:
    """Seed (if the data dir is empty) and start the four systems in the background."""
    from sandbox.control import status
    from sandbox.control import up as start

    directory = _dir(data_dir)
    start(directory, customers=customers, seed=seed, order_lines=order_lines,
          limits_enabled=not no_limits,
          webhook_url=webhook_url, progress=lambda msg: typer.echo(f"  {msg}", err=True))
    if write_dlt_secrets(directory):
        typer.echo("  wrote .dlt/secrets.toml with the sandbox credentials", err=True)
    _echo_summary(status(directory))


@app.command()
def down(data_dir: DataDir = None,
         wipe: Annotated[bool, typer.Option(help="Also delete the world")] = False) -> None:
    """Stop the sandbox."""
    from sandbox.control import down as stop

    was = stop(_dir(data_dir), wipe=wipe)
    typer.echo("sandbox stopped" if was else "sandbox was not running")


@app.command()
def status(data_dir: DataDir = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Base URLs, credentials and record counts of each system."""
    from sandbox.control import as_json as dumps
    from sandbox.control import status as read

    info = read(_dir(data_dir))
    if as_json:
        typer.echo(dumps(info))
    else:
        _echo_summary(info)


@app.command()
def mutate(
    fraction: Annotated[float, typer.Option(help="Share of records to change, e.g. 0.01")] = 0.01,
    seed: Annotated[int | None, typer.Option(help="Seed for repeatable changes")] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Send webhooks here")] = None,
    data_dir: DataDir = None,
) -> None:
    """Apply realistic changes (updates, creates, archives) and send the matching webhooks."""
    from sandbox.control import mutate as apply

    result = apply(_dir(data_dir), fraction, seed=seed, webhook_url=webhook_url)
    typer.echo(json.dumps(result, indent=2, sort_keys=True))


@app.command()
def truth(out: Annotated[Path, typer.Option(help="CSV file to write")],
          data_dir: DataDir = None) -> None:
    """Write the ground truth: system,object,record_id,entity_id."""
    from sandbox.control import truth_rows, write_csv

    n = write_csv(out, ("system", "object", "record_id", "entity_id"), truth_rows(_dir(data_dir)))
    typer.echo(f"wrote {n:,} rows to {out}")


@app.command()
def breaks(out: Annotated[Path, typer.Option(help="CSV file to write")],
           data_dir: DataDir = None) -> None:
    """Write every seeded break: kind,system,record_id,detail."""
    from sandbox.control import break_rows, write_csv

    n = write_csv(out, ("kind", "system", "record_id", "detail"), break_rows(_dir(data_dir)))
    typer.echo(f"wrote {n:,} rows to {out}")


@app.command()
def faults(
    system: Annotated[str, typer.Argument(help="crm, erp, shop or hr")],
    error_rate: Annotated[float, typer.Option(help="Share of requests answered 503")] = 0.0,
    burst_429: Annotated[int, typer.Option(help="The next N requests answer 429")] = 0,
    latency_ms: Annotated[int, typer.Option(help="Added latency per request")] = 0,
    timeout_rate: Annotated[float, typer.Option(help="Share of requests that hang")] = 0.0,
    truncate_rate: Annotated[float, typer.Option(help="Share of bodies cut short")] = 0.0,
    drift: Annotated[str, typer.Option(
        help="none | new_field | renamed_field | changed_type")] = "none",
    drift_field: Annotated[str | None, typer.Option(help="Field the drift edits")] = None,
    data_dir: DataDir = None,
) -> None:
    """Set one system's fault knobs (all off when called with no options)."""
    from sandbox.control import set_faults

    knobs: dict[str, Any] = {
        "error_rate": error_rate, "burst_429": burst_429, "latency_ms": latency_ms,
        "timeout_rate": timeout_rate, "truncate_rate": truncate_rate, "drift": drift,
        "drift_field": drift_field,
    }
    typer.echo(json.dumps(set_faults(_dir(data_dir), system, knobs), indent=2))
