"""The orchestration-free runner ``goldloop extract`` calls: one dlt pipeline per system.

For each system: finish any load a killed run left pending, extract the source (full or
incremental, optionally inside a ``start``/``end`` window), normalise, load, record schema drift,
and summarise rows, requests and retries. A system that fails raises
:class:`goldloop.errors.SourceError` naming the system, the endpoint and the fix; nothing it half
extracted is reported as success (dlt commits state only with a completed load).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt

from goldloop.errors import ConfigError, GoldloopError, SourceError
from goldloop.settings import Settings
from pipelines.common.deletes import DELETED_COLUMN
from pipelines.common.destination import make_pipeline
from pipelines.common.drift import CHANGES_TABLE, detect_schema_changes, schema_snapshot
from pipelines.common.failures import source_error
from pipelines.common.incremental import as_utc
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


def apply_dlt_defaults() -> None:
    """Set :data:`DLT_DEFAULTS` in dlt's in-process config where nothing else set them."""
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


def _table_counts(pipeline: dlt.Pipeline, tables: Sequence[str]) -> dict[str, int]:
    """Row counts of the given tables in the destination (missing tables count 0)."""
    counts: dict[str, int] = {}
    if not tables:
        return counts
    try:
        with pipeline.sql_client() as client:
            existing = {
                row[0] for row in client.execute_sql(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    client.dataset_name) or []
            }
            for table in tables:
                if table in existing:
                    qualified = client.make_qualified_table_name(table)
                    rows = client.execute_sql(f"SELECT count(*) FROM {qualified}")
                    counts[table] = int(rows[0][0]) if rows else 0
    except Exception:  # the dataset does not exist yet
        return {t: 0 for t in tables}
    return counts


def _load_counts(pipeline: dlt.Pipeline, tables: Sequence[str],
                 load_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """(rows stored, rows flagged deleted) by the given loads, per table with ``_dlt_load_id``.

    Counting what the loads left in the warehouse (not what was extracted) keeps marker rows
    that only delete (``hard_delete``) and rows deduplicated by the merge out of the summary.
    """
    counts: dict[str, tuple[int, int]] = {}
    if not load_ids:
        return counts
    schema = pipeline.default_schema
    marks = ", ".join(["%s"] * len(load_ids))
    with pipeline.sql_client() as client:
        for table in tables:
            columns = schema.tables.get(table, {}).get("columns", {})
            if "_dlt_load_id" not in columns:
                continue
            flagged = (f"count(*) FILTER (WHERE {DELETED_COLUMN})" if DELETED_COLUMN in columns
                       else "0")
            qualified = client.make_qualified_table_name(table)
            rows = client.execute_sql(
                f"SELECT count(*), {flagged} FROM {qualified} WHERE _dlt_load_id IN ({marks})",
                *load_ids)
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
    """Extract and load one system; raise :class:`SourceError` if it fails."""
    say = progress or (lambda _msg: None)
    apply_dlt_defaults()
    began = time.monotonic()
    reset_request_counts(system)
    try:
        pipeline = make_pipeline(system, settings, pipelines_dir=pipelines_dir)
        source = load_source(system, start=start, end=end)
        with _ticker(system, progress):
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
    counts_after = _table_counts(pipeline, tables)
    if full_refresh:
        counts_before = {}
    stored = _load_counts(pipeline, tables, load_ids)
    roots = _root_tables(pipeline)
    summaries = []
    for table in tables:
        loaded, flagged = stored.get(table, (loaded_rows.get(table, 0), 0))
        inserted = counts_after.get(table, 0) - counts_before.get(table, 0)
        updated = max(loaded - inserted, 0) if table in roots else None
        summaries.append(TableSummary(table, loaded, updated, flagged, counts_after.get(table)))
    counts = request_counts(system)
    summary = SystemSummary(system, summaries, counts.requests, counts.retries, counts.throttled,
                            changes, round(time.monotonic() - began, 3), load_ids)
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
