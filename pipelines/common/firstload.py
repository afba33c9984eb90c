"""First loads append: a table that is still empty gets its rows without the merge's extra passes.

A merge load copies every row into a staging table and then re-inserts it through a
de-duplicating window, which for the first full read of a large account costs more than the
read itself (a million CRM contacts: ~80 s of a ~7 min run, most of it the window spilling to
disk). Into an empty table a merge is an append, so resources whose table is empty when the run
starts ask for ``append`` for this run only (:func:`append_if_empty`); later runs merge as
declared.

One race can still put a key twice into such a load (HubSpot: a record restored while the first
read runs is listed live and archived). :func:`repair_duplicate_keys`, run after the load, keeps
the newest version of each key (the table's ``dedup_sort`` column) and reports what it could not
decide.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import dlt
from dlt.common.schema import Schema
from dlt.destinations.exceptions import DatabaseUndefinedRelation

MAX_REPAIRED_KEYS = 10_000


class _AppendKeepsDedupSort(logging.Filter):
    """Drops dlt's warning that an appended table's ``dedup_sort`` hint is ignored: expected
    for a first load, and the hint names the column :func:`repair_duplicate_keys` keeps."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ('"dedup_sort" column hint' in message
                    and 'write disposition "append"' in message)


def quiet_first_load_warnings() -> None:
    """Install the :class:`_AppendKeepsDedupSort` filter on dlt's logger (once)."""
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _AppendKeepsDedupSort) for f in dlt_logger.filters):
        dlt_logger.addFilter(_AppendKeepsDedupSort())


def _this_load() -> tuple[str | None, set[str]]:
    """The load id being extracted and the tables it drops first (a full refresh)."""
    try:
        package = dlt.current.load_package_state()
    except Exception:  # no package being extracted
        return None, set()
    dropped = {str(t.get("name")) for t in package["state"].get("dropped_tables") or []}
    return package["load_id"], dropped


_LOCK = threading.Lock()
_FILLED: dict[tuple[str, str], frozenset[str]] = {}  # (pipeline, load id) -> tables with rows


def _tables_with_rows(pipeline: dlt.Pipeline) -> frozenset[str]:
    """The data tables of ``pipeline`` that hold at least one row (one connection for all)."""
    if not pipeline.default_schema_name:
        return frozenset()
    filled: set[str] = set()
    with pipeline.sql_client() as client:
        for table in pipeline.default_schema.data_table_names():
            try:
                if client.execute_sql(
                        f"SELECT 1 FROM {client.make_qualified_table_name(table)} LIMIT 1"):
                    filled.add(table)
            except DatabaseUndefinedRelation:
                continue
    return frozenset(filled)


def table_is_empty(table: str) -> bool:
    """Whether ``table`` of the running pipeline's dataset has no rows (or does not exist, or
    this load drops it first).

    Call inside a resource of a running pipeline. The tables are looked at once per load (every
    resource of a source asks).
    """
    load_id, dropped = _this_load()
    if table in dropped:
        return True
    pipeline = dlt.current.pipeline()
    key = (pipeline.pipeline_name, load_id or "")
    with _LOCK:
        filled = _FILLED.get(key) if load_id else None
        if filled is None:
            filled = _tables_with_rows(pipeline)
            if load_id:
                _FILLED.clear()  # only the load being extracted matters
                _FILLED[key] = filled
    return table not in filled


def append_if_empty(table: str) -> bool:
    """Make the running resource append for this run when ``table`` is empty; True if it does.

    Call inside the resource before its first item. Every resource writing one table must call
    it (they all get the same answer): dlt keeps one write disposition per table in a load. The
    hints are set on the resource itself, not on its items, so transformers fed by it (their
    own tables) keep their own disposition.
    """
    if not table_is_empty(table):
        return False
    dlt.current.resource().apply_hints(write_disposition="append")
    return True


def duplicate_keys_sql(qualified: str, key: Sequence[str], marks: str) -> str:
    """SQL listing the keys stored more than once by the loads ``marks``.

    >>> duplicate_keys_sql("t", ["id"], "%s")
    'SELECT id FROM t WHERE _dlt_load_id IN (%s) GROUP BY id HAVING count(*) > 1'
    """
    cols = ", ".join(key)
    return (f"SELECT {cols} FROM {qualified} WHERE _dlt_load_id IN ({marks}) "
            f"GROUP BY {cols} HAVING count(*) > 1")


def repair_sql(qualified: str, key: str, newest: str, count: int) -> str:
    """SQL deleting, for ``count`` given keys, every row older than the key's newest version.

    >>> repair_sql("t", "id", "updated_at", 2)  # doctest: +NORMALIZE_WHITESPACE
    'DELETE FROM t AS o WHERE o.id IN (%s, %s) AND o.updated_at <
     (SELECT max(n.updated_at) FROM t AS n WHERE n.id = o.id)'
    """
    marks = ", ".join(["%s"] * count)
    return (f"DELETE FROM {qualified} AS o WHERE o.{key} IN ({marks}) AND o.{newest} < "
            f"(SELECT max(n.{newest}) FROM {qualified} AS n WHERE n.{key} = o.{key})")


def _column_with(columns: dict[str, Any], hint: str) -> list[str]:
    return [name for name, column in columns.items() if column.get(hint)]


def repair_duplicate_keys(client: Any, schema: Schema, load_ids: Sequence[str],
                          say: Callable[[str], None]) -> list[str]:
    """Keep one row per primary key in tables these loads appended; return warnings left.

    ``client``: an open sql client of the pipeline. Only root tables whose write disposition is
    ``append`` and that declare a primary key are checked (a first load); a load that stored no
    key twice costs one grouped count per table.
    """
    warnings: list[str] = []
    if not load_ids:
        return warnings
    marks = ", ".join(["%s"] * len(load_ids))
    for name, table in schema.tables.items():
        columns = table.get("columns", {})
        key = [client.escape_column_name(c) for c in _column_with(columns, "primary_key")]
        if (table.get("parent") or table.get("write_disposition") != "append" or not key
                or "_dlt_load_id" not in columns):
            continue
        qualified = client.make_qualified_table_name(name)
        try:
            twice = client.execute_sql(duplicate_keys_sql(qualified, key, marks), *load_ids)
        except DatabaseUndefinedRelation:
            continue
        if not twice:
            continue
        newest = [client.escape_column_name(c) for c in _column_with(columns, "dedup_sort")]
        if len(key) == 1 and newest and len(twice) <= MAX_REPAIRED_KEYS:
            values = [row[0] for row in twice]
            client.execute_sql(repair_sql(qualified, key[0], newest[0], len(values)), *values)
            twice = client.execute_sql(duplicate_keys_sql(qualified, key, marks), *load_ids)
            say(f"{client.dataset_name}.{name}: {len(values)} keys came twice in the first "
                "load; kept the newest version of each")
        if twice:
            warnings.append(
                f"{len(twice)} keys stored twice in {client.dataset_name}.{name} by the first "
                "load (same version listed twice): run the extract again with --full-refresh")
    return warnings
