"""``goldloop demo``: the whole loop on the sandbox through Dagster, then where to look.

The loop runs as the ``goldloop_loop`` Dagster job in this process (the same assets, checks and
syncs ``make dev`` shows), recorded in ``$DAGSTER_HOME``'s instance (``.goldloop/dagster`` by
default), so the run appears in the UI afterwards.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from goldloop.errors import GoldloopError
from goldloop.settings import Settings, load_settings

# Shopify takes one customer per call at 2 requests/s per shop: minutes for the demo world, so
# the demo leaves that sync to `goldloop sync run shop_customers` (or the UI).
DEMO_SKIPS = frozenset({"sync/shop_customers"})
DAGSTER_HOME = Path(".goldloop/dagster")
DEV_INSTANCE = Path(__file__).resolve().parents[2] / "orchestration" / "dagster.dev.yaml"


def _sandbox_up(settings: Settings, customers: int) -> None:
    from goldloop.commands.sandbox import _echo_summary, write_dlt_secrets
    from sandbox.control import status, up

    up(settings.sandbox_dir, customers=customers, seed=42,
       progress=lambda msg: typer.echo(f"  {msg}"))
    write_dlt_secrets(settings.sandbox_dir)
    _echo_summary(status(settings.sandbox_dir))


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, or ``make dev``'s instance folder (created with its dagster.yaml).

    The demo's runs land where ``make dev`` looks, so the UI shows them.
    """
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = DAGSTER_HOME.resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and DEV_INSTANCE.exists():
        config.write_text(DEV_INSTANCE.read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def demo_selection(keys: list[str]) -> list[str]:
    """Every asset of the loop except the ones the demo leaves out.

    >>> demo_selection(["crm/contacts", "dbt/customers", "sync/shop_customers"])
    ['crm/contacts', 'dbt/customers']
    """
    return [key for key in keys if key not in DEMO_SKIPS]


# Dagster's console lines:
# "<time> - dagster - <LEVEL> - <job> - <run id> - [<pid> - ]<step> - <text>"
_DAGSTER_LINE = re.compile(
    r" - dagster - (?P<level>[A-Z]+) - [^ ]+ - [0-9a-f-]{36} - (?:\d+ - )?(?P<step>[\w.]+) - "
    r"(?P<text>.*)$")
_STEP_DONE = re.compile(r'STEP_SUCCESS - Finished execution of step "[^"]+" in (?P<took>.+)\.$')
_STEP_FAILED = re.compile(r"STEP_FAILURE - (?P<text>.*)$")
# dbt's own lines: "<n> of <total> <STATUS> <what> ...."
_DBT_LINE = re.compile(r"^(?P<n>\d+) of (?P<total>\d+) (?P<status>PASS|OK|WARN|ERROR|FAIL|SKIP)"
                       r"\b(?P<what>.*?)[ .]*(?:\[.*)?$")
DBT_EVERY = 50


def progress_line(line: str) -> str | None:
    """The part of one Dagster log line a person running the demo wants to see, if any.

    >>> progress_line("2026-11-25 19:19:14 +0000 - dagster - INFO - goldloop_loop - "
    ...               "5f35aa06-7a9d-40fa-89c9-f750108732cc - ingest_hr - hr: done, 25 rows")
    'ingest_hr: hr: done, 25 rows'
    >>> progress_line("2026-11-25 19:19:14 +0000 - dagster - DEBUG - goldloop_loop - "
    ...               "5f35aa06-7a9d-40fa-89c9-f750108732cc - 6394 - ingest_hr - STEP_SUCCESS - "
    ...               'Finished execution of step "ingest_hr" in 4.19s.')
    'ingest_hr: done in 4.19s'
    >>> progress_line("145 of 351 START test unique_deals_deal_id ....... [RUN]") is None
    True
    >>> progress_line("150 of 351 PASS unique_deals_deal_id ....... [PASS in 0.4s]")
    'dbt build: 150 of 351 done'
    >>> progress_line("7 of 351 WARN 2 not_null_orders_x ....... [WARN 2 in 0.4s]")
    'dbt build: WARN 2 not_null_orders_x'
    """
    match = _DAGSTER_LINE.search(line)
    if match is None:
        dbt = _DBT_LINE.search(line)
        if dbt is None:
            return None
        if dbt["status"] in ("WARN", "ERROR", "FAIL"):
            return f"dbt build: {dbt['status']}{dbt['what']}"
        n, total = int(dbt["n"]), int(dbt["total"])
        return f"dbt build: {n} of {total} done" if n % DBT_EVERY == 0 or n == total else None
    step, text = match["step"], match["text"]
    if (done := _STEP_DONE.search(text)) is not None:
        return f"{step}: done in {done['took']}"
    if (failed := _STEP_FAILED.search(text)) is not None:
        return f"{step}: FAILED {failed['text']}"
    if match["level"] in ("INFO", "WARNING", "ERROR", "CRITICAL") and "dbt" not in step:
        return f"{step}: {text}"
    return None


@contextmanager
def output_into(log: Path, echo: Callable[[str], object]) -> Iterator[None]:
    """Send this process's stdout/stderr (and its children's) to ``log`` while the block runs;
    ``echo`` gets the progress lines picked from it (see :func:`progress_line`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    stop = threading.Event()

    def follow() -> None:
        with log.open(errors="replace") as lines:
            while True:
                line = lines.readline()
                if line:
                    if (shown := progress_line(line.rstrip("\n"))) is not None:
                        echo(shown)
                elif stop.is_set():
                    return
                else:
                    time.sleep(0.2)

    with log.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            stop.set()
            follower.join(timeout=5)
            os.close(saved[0])
            os.close(saved[1])


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (Dagster wraps the cause in long tracebacks).

    >>> one_line(ValueError("bad thing\\nStack Trace: ..."))
    'bad thing'
    """
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0][:300]


def _loop(settings: Settings) -> None:
    from goldloop.dbt import ensure_manifest

    ensure_manifest()  # the code location reads it when it loads
    from orchestration.definitions import defs
    from orchestration.jobs import LOOP_JOB
    from orchestration.loop import run_loop

    home = dagster_home()
    keys = sorted(key.to_user_string()
                  for key in defs.resolve_job_def(LOOP_JOB).asset_layer.selected_asset_keys)
    log = home / "demo-loop.log"
    typer.echo(f"  Dagster job {LOOP_JOB}: {len(keys)} assets (instance {home}; "
               f"full log {log})")
    original = os.fdopen(os.dup(1), "w", buffering=1)
    try:
        with output_into(log, lambda line: original.write(f"  {line}\n")):
            result = run_loop(assets=demo_selection(keys))
    except Exception as exc:
        raise GoldloopError(f"the loop run failed: {one_line(exc)}",
                            hint=f"read {log} (or the run in the Dagster UI: make dev), fix, "
                            "rerun `goldloop demo`") from exc
    finally:
        original.close()
    done = {e.asset_key for e in result.get_asset_materialization_events()}
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = not_passing(checks)
    typer.echo(f"  run {result.run_id}: {len(done)} assets materialised, "
               f"{len(checks)} checks ({len(failed)} not passing)")
    for line in failed:
        typer.echo(f"    {line}")


def not_passing(evaluations: list[Any]) -> list[str]:
    """One line per check that did not pass: ``<asset> <check> (<severity>)``, sorted.

    >>> from types import SimpleNamespace as E
    >>> from dagster import AssetCheckSeverity, AssetKey
    >>> not_passing([E(asset_key=AssetKey(["dbt", "orders_vs_invoices"]), check_name="breaks_open",
    ...                passed=False, severity=AssetCheckSeverity.WARN),
    ...              E(asset_key=AssetKey(["dbt", "orders"]), check_name="unique", passed=True,
    ...                severity=AssetCheckSeverity.ERROR)])
    ['dbt/orders_vs_invoices breaks_open (warn)']
    """
    return sorted(f"{e.asset_key.to_user_string()} {e.check_name} ({e.severity.value.lower()})"
                  for e in evaluations if not getattr(e, "passed", True))


def _report(settings: Settings) -> str:
    """Start the report site in the background (or find it running); return where to look."""
    from goldloop.dbt import DBT_PROJECT_DIR
    from reports.background import DEFAULT_STATE_DIR, start

    try:
        server, started = start(DEFAULT_STATE_DIR, dbt_target=DBT_PROJECT_DIR / "target")
    except GoldloopError as exc:
        typer.echo(f"  report site not started: {exc}")
        return "goldloop report serve --background"
    typer.echo(f"  report site {'started' if started else 'already running'}: {server.url} "
               f"(pid {server.pid})")
    return f"{server.url}   (stop: goldloop report stop)"


def demo(
    customers: Annotated[int, typer.Option(help="Customers in the sandbox world")] = 2000,
) -> None:
    """Start the sandbox, run the loop through Dagster on DuckDB and print where to look."""
    settings = load_settings()
    typer.secho("== sandbox", bold=True)
    _sandbox_up(settings, customers)
    typer.secho("== loop (Dagster: extract → dbt build + checks → quality → syncs)", bold=True)
    _loop(settings)
    typer.secho("== report site", bold=True)
    url = _report(settings)
    typer.secho("\nWhere to look", bold=True)
    typer.echo(f"  reports:          {url}")
    typer.echo("  Dagster UI:       make dev  ->  http://127.0.0.1:3000/  (this run is in its "
               "history)")
    if Path(settings.warehouse).exists():
        typer.echo(f"  warehouse:        {settings.warehouse}  (duckdb {settings.warehouse} "
                   "-c 'show all tables')")
    typer.echo("  reverse ETL:      goldloop sync status   (goldloop sync plan crm_contacts; "
               "goldloop sync run shop_customers)")
    typer.echo(f"  sandbox:          goldloop sandbox status   (data in {settings.sandbox_dir})")
    typer.echo("  stop everything:  goldloop report stop; goldloop sandbox down")
