"""When dbt's DuckDB checkpoints compact the warehouse: a dbt-duckdb plugin (see profiles.yml).

A DuckDB checkpoint "vacuums" every table it writes that holds deleted rows: it merges the row
groups the deletes left short and writes them again. An incremental build deletes and inserts
about 1 % of the rows of its big tables (records, keys, links, the customer marts and their
state), and vacuuming wrote about two thirds of each of them again at every build:
``int_customer_records`` at 300,000 customers with 1 % replaced, a 1.5 s checkpoint writing 215
of its 324 blocks, against 0.02 s and 6 blocks (the appended rows) without.

So each time dbt opens the warehouse, this plugin looks at the tables dbt builds (every schema
but dlt's ``raw_*``) and turns vacuuming off (``max_vacuum_tasks`` 0: a checkpoint writes what
is new and leaves deleted rows in place), unless one of them already holds
``vacuum_dead_fraction`` (default 0.2) of deleted rows among the rows it stores: then the build
vacuums as DuckDB does by default, and every table it writes to is compacted. A full refresh
writes its tables anew. The setting is the DuckDB instance's: dbt's connections share it,
other clients of the warehouse (dlt, reports) keep DuckDB's default.

>>> name, share = worst_table([("marts.customers", 110, 100), ("marts.orders", 100, 100)])
>>> name, round(share, 3)
('marts.customers', 0.091)
>>> worst_table([]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

logger = AdapterLogger("goldloop")

DEFAULT_DEAD_FRACTION = 0.2
# dlt's datasets (raw_crm, raw_crm_staging...): written by dlt, whose checkpoints vacuum
RAW_SCHEMAS = "raw\\_%"


def worst_table(tables: Iterable[tuple[str, int, int]]) -> tuple[str, float] | None:
    """The table with the largest share of deleted rows, from (name, stored rows, live rows)."""
    shares = [(1 - live / stored, name) for name, stored, live in tables if stored > 0]
    if not shares:
        return None
    share, name = max(shares)
    return name, share


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


class Plugin(BasePlugin):
    """Sets the DuckDB instance's vacuuming each time dbt opens the warehouse."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        fraction = plugin_config.get("vacuum_dead_fraction", DEFAULT_DEAD_FRACTION)
        try:
            self.dead_fraction = float(fraction)
        except (TypeError, ValueError):
            raise ValueError(
                f"goldloop_checkpoints: vacuum_dead_fraction {fraction!r} in profiles.yml is no"
                " number: give a share of deleted rows between 0 and 1, e.g. 0.2") from None

    def configure_connection(self, conn: Any) -> None:
        worst = worst_table(stored_and_live(conn))
        if worst is not None and worst[1] >= self.dead_fraction:
            logger.info(f"Compacting the warehouse this build: {worst[0]} holds"
                        f" {100 * worst[1]:.1f} % deleted rows (vacuum_dead_fraction"
                        f" {self.dead_fraction})")
            conn.execute("reset global max_vacuum_tasks")
        else:
            conn.execute("set global max_vacuum_tasks = 0")
