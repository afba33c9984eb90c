"""``goldloop sync ...``: reverse ETL, the golden records back into the CRM, the ERP and the shops.

``list`` the syncs, ``plan`` one (a dry run: counts and sample before/after diffs, nothing
written), ``run`` it (guards first; ``--approve`` lets a change above the threshold through),
``replay`` its dead letters, and see its ``status``. ``plan``, ``run``, ``replay`` and ``status``
take ``--json``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from goldloop.settings import load_settings

app = typer.Typer(help="Reverse ETL: push the sync_* models back into the CRM, ERP and shops.",
                  no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="The sync, e.g. crm_contacts (see `goldloop sync list`)")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]


def _dump(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _short(value: Any, width: int = 40) -> str:
    """A value as a diff line shows it.

    >>> _short(None), _short("x" * 50)[-3:]
    ('∅', '...')
    """
    if value is None:
        return "∅"
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@app.command("list")
def list_syncs(as_json: AsJson = False) -> None:
    """The syncs under reverse_etl/syncs/ with their source model and destination."""
    from reverse_etl.spec import load_all

    specs = load_all()
    rows = [{"name": s.name, "source": f"{s.source.schema_name}.{s.source.model}",
             "destination": f"{s.destination.system} {s.destination.object}",
             "mode": s.mode, "match": s.destination.match, "description": s.description}
            for s in specs]
    if as_json:
        _dump(rows)
        return
    for row in rows:
        typer.echo(f"{row['name']:<16} {row['source']:<28} → {row['destination']:<14} "
                   f"{row['mode']:<7} {row['description']}")


@app.command()
def plan(name: Name, as_json: AsJson = False,
         samples: Annotated[int, typer.Option(help="Sample changes per operation")] = 3) -> None:
    """Dry run: what a run would write (counts and sample before/after diffs); writes nothing."""
    from reverse_etl.runner import plan_sync
    from reverse_etl.spec import find_spec

    spec = find_spec(name)
    result = plan_sync(spec, load_settings())
    if as_json:
        _dump({**result.summary(), "samples": result.samples(samples)})
        return
    summary = result.summary()
    typer.echo(f"{spec.name}: {spec.source.schema_name}.{spec.source.model} "
               f"({summary['model_rows']:,} rows) → {spec.destination.system} "
               f"{spec.destination.object}; {summary['baseline']:,} synced before")
    for operation, count in summary["counts"].items():
        typer.echo(f"  {operation:<12} {count:>9,}")
    pct = summary["changed_percent"]
    limit = spec.guards.max_changed_percent
    if pct is None:
        typer.echo(f"  {summary['changed']:,} to write (first run: no change threshold)")
    else:
        verdict = "a run needs --approve" if pct > limit else "within the threshold"
        typer.echo(f"  {summary['changed']:,} to write = {pct:.1f} % of synced records "
                   f"(threshold {limit:g} %: {verdict})")
    for note in summary["notes"]:
        typer.echo(f"  note: {note}")
    for operation, items in result.samples(samples).items():
        typer.secho(f"sample {operation}:", bold=True)
        for item in items:
            typer.echo(f"  {item['key']}" + (f"  (destination id {item['destination_id']})"
                                             if item.get("destination_id") else ""))
            for diff in item.get("fields", []):
                typer.echo(f"      {diff['field']}: {_short(diff['before'])} → "
                           f"{_short(diff['after'])}")
            for extra in ("reason", "detail", "note"):
                if item.get(extra):
                    typer.echo(f"      {extra}: {item[extra]}")


def print_run_summary(summary: dict[str, Any]) -> None:
    typer.echo(f"{summary['sync']} {summary['kind']} {summary['run_id']}: {summary['status']}")
    order = ("processed", "inserted", "updated", "deleted", "unchanged", "rejected",
             "dead_lettered", "failed", "retried", "conflicts", "queued", "skipped", "dead")
    typer.echo("  " + ", ".join(f"{k} {summary[k]:,}" for k in order if summary.get(k)
                                or k in ("processed", "unchanged")))
    typer.echo(f"  {summary['requests']:,} requests ({summary['request_retries']:,} retried, "
               f"{summary['throttled']:,} throttled) in {summary['seconds']:.1f} s"
               + (f", {summary['records_per_second']:,.0f} records/s"
                  if summary["records_per_second"] else ""))
    for note in summary.get("notes", []):
        typer.echo(f"  note: {note}")
    if summary.get("message"):
        typer.echo(f"  {summary['message']}")


@app.command()
def run(name: Name, as_json: AsJson = False,
        approve: Annotated[bool, typer.Option(
            "--approve", help="Let a change above the sync's threshold through")] = False,
        ) -> None:
    """Plan, guard, write and commit one sync."""
    from reverse_etl.runner import run_sync
    from reverse_etl.spec import find_spec

    progress = None if as_json else (lambda msg: typer.echo(f"  {msg}", err=True))
    summary = run_sync(find_spec(name), load_settings(), approve=approve, progress=progress)
    if as_json:
        _dump(summary.to_dict())
    else:
        print_run_summary(summary.to_dict())
    if summary.failed or summary.rejected:
        raise typer.Exit(1)


@app.command()
def replay(name: Name, as_json: AsJson = False) -> None:
    """Send the sync's dead-lettered (and flagged) records again."""
    from reverse_etl.runner import replay_sync
    from reverse_etl.spec import find_spec

    progress = None if as_json else (lambda msg: typer.echo(f"  {msg}", err=True))
    summary = replay_sync(find_spec(name), load_settings(), progress=progress)
    if as_json:
        _dump(summary.to_dict())
    else:
        print_run_summary(summary.to_dict())
    if summary.failed or summary.rejected:
        raise typer.Exit(1)


@app.command()
def status(name: Annotated[str | None, typer.Argument(help="One sync (default: all)")] = None,
           as_json: AsJson = False) -> None:
    """Records per status, open dead letters and conflicts, and the latest runs."""
    from reverse_etl.runner import sync_status
    from reverse_etl.spec import find_spec, load_all

    specs = [find_spec(name)] if name else load_all()
    settings = load_settings()
    result = [sync_status(settings, spec) for spec in specs]
    if as_json:
        _dump(result if name is None else result[0])
        return
    for item in result:
        records = ", ".join(f"{k} {v:,}" for k, v in item["records"].items()) or "never run"
        typer.echo(f"{item['sync']}: {records}; dead letters {item['dead_letters']:,}, "
                   f"open conflicts {item['open_conflicts']:,}")
        for run_row in item["runs"][:3]:
            s = run_row.get("summary") or {}
            typer.echo(f"  {run_row['started_at']} {run_row['kind']:<6} {run_row['status']:<8} "
                       f"inserted {s.get('inserted', 0):,} updated {s.get('updated', 0):,} "
                       f"rejected {s.get('rejected', 0):,}"
                       + (f"  {run_row['message']}" if run_row.get("message") else ""))
