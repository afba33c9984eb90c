"""``goldloop quality ...``: Great Expectations suites on the marts and sync feeds, recorded.

``run`` validates the suites and appends every result to ``quality.check_results`` (exit code 1
when a blocking check fails: the syncs reading that model will stop); ``record-dbt`` appends the
last dbt build's test results to the same table; ``list`` shows the suites and their checks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from goldloop.settings import load_settings

app = typer.Typer(help="Data quality: expectation suites on the marts and sync feeds, and the "
                  "recorded history of every check.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]
MARKS = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "error": "ERR "}


def _dump(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


@app.command()
def run(
    suite: Annotated[list[str] | None, typer.Option(
        "--suite", help="Only this suite (a model name); repeat for several")] = None,
    as_json: AsJson = False,
    record: Annotated[bool, typer.Option(
        "--record/--no-record", help="Append the results to quality.check_results")] = True,
) -> None:
    """Validate the suites on the warehouse, record the results, print pass/fail per suite."""
    from goldloop.quality.run import run_suites

    result = run_suites(load_settings(), suite or None, record=record)
    if as_json:
        _dump(result.to_dict())
    else:
        for suite_result in result.suites:
            counts = suite_result.counts()
            shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            typer.echo(f"{MARKS[suite_result.status]} {suite_result.suite.relation:<30} {shown}")
            for outcome in suite_result.outcomes:
                if outcome.status != "pass":
                    typer.echo(f"       {outcome.status:<5} {outcome.severity:<8} "
                               f"{outcome.check_name}: {outcome.message or ''}")
        recorded = (f"{result.recorded:,} results recorded in quality.check_results"
                    if record else "nothing recorded (--no-record)")
        typer.echo(f"run {result.run_id}: {recorded}")
        if result.blocked:
            typer.echo("a blocking check fails: syncs reading those models will stop", err=True)
    if result.blocked:
        sys.exit(1)  # SystemExit, not typer.Exit: cli.main runs click without standalone mode


@app.command("record-dbt")
def record_dbt(
    target_path: Annotated[Path | None, typer.Option(
        help="dbt's target folder (default: dbt_project/target)")] = None,
    as_json: AsJson = False,
) -> None:
    """Append the last dbt build's test results to quality.check_results (once per build)."""
    from goldloop.quality.dbt_results import DEFAULT_TARGET, record_dbt_results

    folder = target_path or DEFAULT_TARGET
    written = record_dbt_results(load_settings(), folder)
    if as_json:
        _dump({"target_path": str(folder), "recorded": written})
    else:
        typer.echo(f"{written:,} dbt test results recorded from {folder}"
                   + ("" if written else " (none new: no build there, or already recorded)"))


@app.command("list")
def list_suites(as_json: AsJson = False) -> None:
    """The suites: the model each checks, and every check with its severity."""
    from goldloop.quality.suites import SUITES

    rows: list[dict[str, Any]] = [
        {"suite": s.name, "model": s.relation, "blocking": s.blocking,
         "description": s.description,
         "checks": [{"name": c.name, "severity": s.severity_of(c), "expects": c.description}
                    for c in s.checks]} for s in SUITES]
    if as_json:
        _dump(rows)
        return
    for row in rows:
        typer.secho(f"{row['suite']} ({row['model']}): {row['description']}", bold=True)
        for check in row["checks"]:
            typer.echo(f"  {check['severity']:<8} {check['name']:<40} {check['expects']}")
