"""When dbt's DuckDB checkpoints compact the warehouse: a dbt-duckdb plugin (see profiles.yml).

A DuckDB checkpoint "vacuums" every table it writes that holds deleted rows: it merges the row
groups the deletes left short and writes them again. An incremental build deletes and inserts
about 1 % of the rows of its big tables (records, keys, links, the customer marts and their
state), and vacuuming wrote about two thirds of each of them again at every build:
``int_customer_records`` at 300,000 customers with 1 % replaced, a 1.5 s checkpoint writing 215
of its 324 blocks, against 0.02 s and 6 blocks (the appended rows) without.

So each time dbt opens the warehouse, this plugin looks at the tables dbt builds (every schema
but dlt's ``raw_*``) and turns vacuuming off (``max_vacuum_tasks`` 0: a checkpoint writes what
is new and leaves deleted rows in place), until the deleted rows reach ``vacuum_dead_fraction``
(default 0.2) of all the rows those tables store, or ``vacuum_table_dead_fraction`` (default
0.5) of one table's: then the build vacuums as DuckDB does by default, and every table it
writes to is compacted. At 1,000,000 customers a build after a 1 % change leaves 1.3 % of the
stored rows deleted (10.5 % of the ERP contact feed's, which reworks the customers sharing a
name or number too), so about one build in ten compacts. A full refresh writes its tables
anew. The setting is the DuckDB instance's: dbt's connections share it, other clients of the
warehouse (dlt, reports) keep DuckDB's default.

>>> tables = [("marts.feed", 160, 100), ("marts.orders", 1000, 990)]
>>> compaction_reason(tables, overall=0.2, per_table=0.5) is None
True
>>> compaction_reason(tables, overall=0.05, per_table=0.5)
'deleted rows are 6.0 % of the rows stored (vacuum_dead_fraction 0.05)'
>>> compaction_reason(tables, overall=0.2, per_table=0.3)
'marts.feed holds 37.5 % deleted rows (vacuum_table_dead_fraction 0.3)'
>>> compaction_reason([], overall=0.2, per_table=0.5) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

logger = AdapterLogger("goldloop")

DEFAULT_DEAD_FRACTION = 0.2
DEFAULT_TABLE_DEAD_FRACTION = 0.5
# dlt's datasets (raw_crm, raw_crm_staging...): written by dlt, whose checkpoints vacuum
RAW_SCHEMAS = "raw\\_%"


def compaction_reason(tables: Iterable[tuple[str, int, int]], *, overall: float,
                      per_table: float) -> str | None:
    """Why this build compacts, from (name, stored rows, live rows) of each table, or None:
    the deleted rows reach ``overall`` of all stored rows, or ``per_table`` of one table's."""
    tables = [(name, stored, live) for name, stored, live in tables if stored > 0]
    stored_rows = sum(stored for _, stored, _ in tables)
    if not stored_rows:
        return None
    share = 1 - sum(live for _, _, live in tables) / stored_rows
    if share >= overall:
        return (f"deleted rows are {100 * share:.1f} % of the rows stored"
                f" (vacuum_dead_fraction {overall})")
    worst, name = max((1 - live / stored, name) for name, stored, live in tables)
    if worst >= per_table:
        return (f"{name} holds {100 * worst:.1f} % deleted rows"
                f" (vacuum_table_dead_fraction {per_table})")
    return None


def stored_and_live(conn: Any) -> list[tuple[str, int, int]]:
    """(schema.table, rows stored with the deleted ones, rows) of the tables dbt builds in the
    warehouse ``conn`` is attached to (DuckDB's estimated_size counts deleted rows)."""
    tables = conn.execute(
        "select schema_name, table_name, estimated_size from duckdb_tables()"
        " where database_name = current_database() and not temporary"
        " and schema_name not like ? escape '\\' and estimated_size > 0",
        [RAW_SCHEMAS]).fetchall()
    if not tables:
        return []
    counts = " union all ".join(
        f"select {i} as i, (select count(*) from \"{schema}\".\"{table}\") as live"
        for i, (schema, table, _) in enumerate(tables))
    live = dict(conn.execute(counts).fetchall())
    return [(f"{schema}.{table}", int(stored), int(live[i]))
            for i, (schema, table, stored) in enumerate(tables)]


def _fraction(plugin_config: dict[str, Any], key: str, default: float) -> float:
    value = plugin_config.get(key, default)
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        fraction = -1.0
    if not 0 < fraction <= 1:
        raise ValueError(
            f"goldloop_checkpoints: {key} {value!r} in profiles.yml is no share of deleted rows:"
            f" give a number above 0 and at most 1, e.g. {default}")
    return fraction


class Plugin(BasePlugin):
    """Sets the DuckDB instance's vacuuming each time dbt opens the warehouse."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.overall = _fraction(plugin_config, "vacuum_dead_fraction", DEFAULT_DEAD_FRACTION)
        self.per_table = _fraction(plugin_config, "vacuum_table_dead_fraction",
                                   DEFAULT_TABLE_DEAD_FRACTION)

    def configure_connection(self, conn: Any) -> None:
        reason = compaction_reason(stored_and_live(conn), overall=self.overall,
                                   per_table=self.per_table)
        if reason is not None:
            logger.info(f"Compacting the warehouse this build: {reason}")
            conn.execute("reset global max_vacuum_tasks")
        else:
            conn.execute("set global max_vacuum_tasks = 0")
