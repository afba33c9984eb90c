"""The orchestration-free runner ``goldloop extract`` calls: one dlt pipeline per system.

For each system: finish any load a killed run left pending, extract the source (full or
incremental, optionally inside a ``start``/``end`` window), normalise, load, record schema drift,
and summarise rows, requests and retries. A system that fails raises
:class:`goldloop.errors.SourceError` naming the system, the endpoint and the fix; nothing it half
extracted is reported as success (dlt commits state only with a completed load).
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from goldloop.errors import ConfigError, GoldloopError, SourceError
from goldloop.settings import Settings
from pipelines.common.collector import relaxed_gc
from pipelines.common.deletes import DELETED_COLUMN
from pipelines.common.destination import make_pipeline
from pipelines.common.drift import CHANGES_TABLE, detect_schema_changes, schema_snapshot
from pipelines.common.failures import source_error
from pipelines.common.firstload import quiet_first_load_warnings, repair_duplicate_keys
from pipelines.common.incremental import as_utc
from pipelines.common.lock import exclusive_extract
from pipelines.common.pacing import request_counts, reset_request_counts
from pipelines.common.summary import SystemSummary, TableSummary

SYSTEMS: tuple[str, ...] = ("crm", "erp", "shop", "hr")
PROGRESS_EVERY_SECONDS = 2.0

Progress = Callable[[str], None]


class ExtractFailed(SourceError):
    """One or more systems failed; ``summaries`` holds the systems that succeeded."""

    def __init__(self, message: str, *, hint: str | None, summaries: list[SystemSummary],
                 failures: dict[str, GoldloopError]) -> None:
        super().__init__(message, hint=hint)
        self.summaries = summaries
        self.failures = failures


def expand_systems(systems: Sequence[str]) -> list[str]:
    """The systems to extract, in the canonical order; ``all`` means every system.

    >>> expand_systems(["hr", "crm"])
    ['crm', 'hr']
    >>> expand_systems(["all"])
    ['crm', 'erp', 'shop', 'hr']
    """
    wanted = set(SYSTEMS) if "all" in systems or not systems else set(systems)
    unknown = sorted(wanted - set(SYSTEMS))
    if unknown:
        raise ConfigError(f"unknown system(s) {', '.join(unknown)}",
                          hint=f"choose from {', '.join(SYSTEMS)} or all")
    return [s for s in SYSTEMS if s in wanted]


# dlt settings goldloop runs with unless the user's dlt config says otherwise.
DLT_DEFAULTS: dict[str, Any] = {
    "data_writer.disable_compression": True,  # intermediate files are local and short-lived
    "normalize.parquet_normalizer.add_dlt_load_id": True,  # summaries count rows per load
    # DuckDB takes 80 % of RAM by default; a bounded buffer spills to disk instead (1M contacts:
    # peak RSS 1,358 MiB -> 898 MiB at the same wall).
    "destination.duckdb.credentials.global_config": {"memory_limit": "400MB"},
}


# dlt reads these from the environment when a pipeline starts, before any config provider.
ENV_DEFAULTS: dict[str, str] = {
    # dlt's telemetry is on by default wherever the project's .dlt/config.toml (which turns it
    # off) is not found, e.g. a run from another folder: goldloop never sends it
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}


def apply_dlt_defaults() -> None:
    """Set :data:`DLT_DEFAULTS` in dlt's in-process config and :data:`ENV_DEFAULTS` in the
    environment where nothing else set them; quiet dlt's expected first-load warnings."""
    for name, text in ENV_DEFAULTS.items():
        os.environ.setdefault(name, text)
    quiet_first_load_warnings()
    for key, value in DLT_DEFAULTS.items():
        if dlt.config.get(key) is None:
            dlt.config[key] = value


def loader_format(settings: Settings) -> Any:
    """The load file format: parquet into DuckDB (columnar, fast), csv (COPY) into Postgres.

    >>> loader_format(Settings()), loader_format(Settings(target="postgres"))
    ('parquet', 'csv')
    """
    return "parquet" if settings.target == "duckdb" else "csv"


def load_source(system: str, *, start: datetime | None, end: datetime | None) -> Any:
    """The dlt source of ``system`` (``pipelines.<system>.source``) bound to the window."""
    module = importlib.import_module(f"pipelines.{system}")
    factory = getattr(module, "source", None)
    if factory is None:
        raise ConfigError(f"pipelines.{system} has no `source` function",
                          hint=f"define @dlt.source(name={system!r}) def source(...)")
    return factory(start=as_utc(start), end=as_utc(end))


def _table_counts(pipeline: dlt.Pipeline, tables: Sequence[str],
                  client: Any = None) -> dict[str, int]:
    """Row counts of the given tables in the destination (missing tables count 0); ``client``:
    an open sql client of the pipeline to use (else one is opened)."""
    counts: dict[str, int] = {}
    if not tables:
        return counts
    try:
        with nullcontext(client) if client is not None else pipeline.sql_client() as sql:
            existing = {
                row[0] for row in sql.execute_sql(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    sql.dataset_name) or []
            }
            for table in tables:
                if table in existing:
                    qualified = sql.make_qualified_table_name(table)
                    rows = sql.execute_sql(f"SELECT count(*) FROM {qualified}")
                    counts[table] = int(rows[0][0]) if rows else 0
    except Exception:  # the dataset does not exist yet
        return {t: 0 for t in tables}
    return counts


def _root_of(tables: dict[str, Any], table: str) -> str:
    """The root table of a (possibly nested) table.

    >>> _root_of({"o": {}, "o__l": {"parent": "o"}, "o__l__t": {"parent": "o__l"}}, "o__l__t")
    'o'
    """
    while tables.get(table, {}).get("parent"):
        table = tables[table]["parent"]
    return table


def count_sql(tables: dict[str, Any], table: str, qualify: Callable[[str], str],
              marks: str) -> str | None:
    """SQL counting (rows, rows flagged deleted) that the loads ``marks`` left in ``table``.

    A root table carries ``_dlt_load_id``; a nested table (line items, variants) does not and is
    counted through its root rows of those loads (``_dlt_root_id``, or ``_dlt_parent_id`` one
    level down). None when neither applies.

    >>> t = {"o": {"columns": {"_dlt_load_id": {}, "_dlt_id": {}}},
    ...      "o__l": {"parent": "o", "columns": {"_dlt_root_id": {}}}}
    >>> print(count_sql(t, "o__l", lambda n: n, "%s"))
    SELECT count(*), 0 FROM o__l AS c JOIN o AS r ON c._dlt_root_id = r._dlt_id WHERE r._dlt_load_id IN (%s)
    """  # noqa: E501
    columns = tables.get(table, {}).get("columns", {})
    if "_dlt_load_id" in columns:
        flagged = (f"count(*) FILTER (WHERE {DELETED_COLUMN})" if DELETED_COLUMN in columns
                   else "0")
        return f"SELECT count(*), {flagged} FROM {qualify(table)} WHERE _dlt_load_id IN ({marks})"
    root = _root_of(tables, table)
    if root == table or "_dlt_load_id" not in tables.get(root, {}).get("columns", {}):
        return None
    if "_dlt_root_id" in columns:
        link = "_dlt_root_id"
    elif tables[table].get("parent") == root and "_dlt_parent_id" in columns:
        link = "_dlt_parent_id"
    else:
        return None
    return (f"SELECT count(*), 0 FROM {qualify(table)} AS c JOIN {qualify(root)} AS r "
            f"ON c.{link} = r._dlt_id WHERE r._dlt_load_id IN ({marks})")


def _load_counts(client: Any, schema_tables: dict[str, Any], tables: Sequence[str],
                 load_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(rows stored, rows flagged deleted) by the given loads, per table.

    Counting what the loads left in the warehouse (not what was extracted) keeps marker rows
    that only delete (``hard_delete``) and rows deduplicated by the merge out of the summary,
    and counts rows on every destination alike (dlt's csv writer, used for Postgres, reports
    cells rather than rows in its normalize metrics).
    """
    counts: dict[str, tuple[int, int]] = {}
    if not load_ids:
        return counts
    marks = ", ".join(["%s"] * len(load_ids))
    for table in tables:
        sql = count_sql(schema_tables, table, client.make_qualified_table_name, marks)
        if sql is None:
            continue
        try:
            rows = client.execute_sql(sql, *load_ids)
        except DatabaseUndefinedRelation:  # in the schema, never created (no data yet)
            continue
        counts[table] = (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
    return counts


def _data_tables(pipeline: dlt.Pipeline) -> list[str]:
    if not pipeline.default_schema_name:
        return []
    return [name for name in pipeline.default_schema.data_table_names()
            if name != CHANGES_TABLE]


def _root_tables(pipeline: dlt.Pipeline) -> set[str]:
    if not pipeline.default_schema_name:
        return set()
    return {name for name, table in pipeline.default_schema.tables.items()
            if not table.get("parent") and not name.startswith("_dlt")}


@contextmanager
def _ticker(system: str, progress: Progress | None) -> Iterator[None]:
    """Report the request count every few seconds while a long extract runs."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(PROGRESS_EVERY_SECONDS):
            counts = request_counts(system)
            progress(f"{system}: {counts.requests} requests, {counts.retries} retries so far")

    thread = threading.Thread(target=tick, name=f"goldloop-progress-{system}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def extract_system(system: str, *, settings: Settings, full_refresh: bool = False,
                   start: datetime | None = None, end: datetime | None = None,
                   progress: Progress | None = None,
                   pipelines_dir: Path | None = None) -> SystemSummary:
    """Extract and load one system; raise :class:`SourceError` if it fails.

    On Postgres the run holds the system's extract lock (:mod:`pipelines.common.lock`): a second
    run of the same system into the same warehouse fails at once instead of interleaving.
    """
    with ExitStack() as held:
        try:
            held.enter_context(exclusive_extract(system, settings))
        except GoldloopError:
            raise
        except Exception as exc:
            raise source_error(system, exc) from exc
        return _extract_locked(system, settings=settings, full_refresh=full_refresh, start=start,
                               end=end, progress=progress, pipelines_dir=pipelines_dir)


def _extract_locked(system: str, *, settings: Settings, full_refresh: bool,
                    start: datetime | None, end: datetime | None, progress: Progress | None,
                    pipelines_dir: Path | None) -> SystemSummary:
    say = progress or (lambda _msg: None)
    apply_dlt_defaults()
    began = time.monotonic()
    reset_request_counts(system)
    try:
        pipeline = make_pipeline(system, settings, pipelines_dir=pipelines_dir)
        source = load_source(system, start=start, end=end)
        with _ticker(system, progress), relaxed_gc():
            if pipeline.has_pending_data:
                say(f"{system}: finishing a load an earlier run left pending")
                pipeline.run()
            pipeline.sync_destination()
            before = schema_snapshot(pipeline)
            counts_before = _table_counts(pipeline, _data_tables(pipeline))
            say(f"{system}: extracting" + (" (full refresh)" if full_refresh else ""))
            pipeline.extract(source, refresh="drop_sources" if full_refresh else None,
                             loader_file_format=loader_format(settings))
            say(f"{system}: normalizing")
            pipeline.normalize()
            say(f"{system}: loading")
            load_info = pipeline.load()
            load_info.raise_on_failed_jobs()
    except Exception as exc:
        raise source_error(system, exc) from exc

    load_ids = list(load_info.loads_ids)
    changes = detect_schema_changes(pipeline, before, load_ids[-1]) if load_ids else []
    normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    loaded_rows: dict[str, int] = dict(normalized.row_counts) if normalized else {}
    tables = _data_tables(pipeline)
    repaired: list[str] = []
    counts_after: dict[str, int] = {}
    stored: dict[str, tuple[int, int]] = {}
    if tables:
        with pipeline.sql_client() as client:  # one connection for the checks and counts
            repaired = repair_duplicate_keys(client, pipeline.default_schema, load_ids, say)
            counts_after = _table_counts(pipeline, tables, client)
            stored = _load_counts(client, pipeline.default_schema.tables, tables, load_ids)
    if full_refresh:
        counts_before = {}
    roots = _root_tables(pipeline)
    summaries = []
    for table in tables:
        loaded, flagged = stored.get(table, (loaded_rows.get(table, 0), 0))
        inserted = counts_after.get(table, 0) - counts_before.get(table, 0)
        updated = max(loaded - inserted, 0) if table in roots else None
        summaries.append(TableSummary(table, loaded, updated, flagged, counts_after.get(table)))
    counts = request_counts(system)
    summary = SystemSummary(system, summaries, counts.requests, counts.retries, counts.throttled,
                            changes, round(time.monotonic() - began, 3), load_ids,
                            notes=repaired)
    say(f"{system}: done, {summary.rows_loaded} rows in {summary.seconds:.1f} s")
    for warning in summary.warnings:
        say(f"WARNING: {warning}")
    return summary


def extract(systems: Sequence[str], *, settings: Settings, full_refresh: bool = False,
            start: datetime | None = None, end: datetime | None = None,
            progress: Progress | None = None) -> list[SystemSummary]:
    """Extract each system into the warehouse; return one summary per system.

    Every system runs even when an earlier one fails; then :class:`ExtractFailed` (a
    :class:`SourceError`) names each failed system and carries the summaries of the others.
    """
    if start and end and as_utc(start) >= as_utc(end):  # type: ignore[operator]
        raise ConfigError(f"--start {start} is not before --end {end}",
                          hint="give a start earlier than the end")
    summaries: list[SystemSummary] = []
    failures: dict[str, GoldloopError] = {}
    for system in expand_systems(systems):
        try:
            summaries.append(extract_system(system, settings=settings, full_refresh=full_refresh,
                                            start=start, end=end, progress=progress))
        except GoldloopError as exc:
            if progress:
                progress(f"{system}: FAILED: {exc}")
            failures[system] = exc
    if failures:
        if len(failures) == 1:
            only = next(iter(failures.values()))
            raise ExtractFailed(only.message, hint=only.hint, summaries=summaries,
                                failures=failures)
        message = "; ".join(f"{e.message}" for e in failures.values())
        hints = "; ".join(f"{s}: {e.hint}" for s, e in failures.items() if e.hint)
        raise ExtractFailed(f"{len(failures)} systems failed: {message}", hint=hints or None,
                            summaries=summaries, failures=failures)
    return summaries
