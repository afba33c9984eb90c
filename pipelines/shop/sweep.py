"""Finding customers Shopify deleted for real: a cheap ``fields=id`` sweep against the warehouse.

Shopify removes a deleted customer from every list and sends no tombstone, so an incremental read
can never see the delete. The sweep lists every customer id of a shop (``fields=id``, 250 per
request), compares them with the live customers ``raw_shop.customers`` holds for that shop, and
re-loads each missing one as its last known row with ``_goldloop_deleted = true``. It runs when
``delete_sweep`` is true, never when false, and by default once every ``sweep_every_hours`` and
whenever the resource state is new: a full refresh (``refresh="drop_sources"``) drops and reloads
the tables, so the sweep then re-loads every customer missing upstream, flagged before or not,
reading the old table before the load replaces it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.common.deletes import DELETED_COLUMN
from pipelines.shop.mapping import record_id
from pipelines.shop.paging import ShopifyLinkPaginator

Row = dict[str, Any]
TABLE = "customers"
LAST_SWEEP = "last_sweep_at"


def sweep_due(state: dict[str, Any], enabled: bool | None, every_hours: float,
              now: datetime) -> bool:
    """Whether to sweep in this run.

    >>> from datetime import UTC
    >>> now = datetime(2026, 1, 2, tzinfo=UTC)
    >>> sweep_due({}, None, 24, now), sweep_due({}, False, 24, now)
    (True, False)
    >>> sweep_due({"last_sweep_at": "2026-01-01T12:00:00+00:00"}, None, 24, now)
    False
    >>> sweep_due({"last_sweep_at": "2026-01-01T12:00:00+00:00"}, True, 24, now)
    True
    """
    if enabled is not None:
        return enabled
    last = state.get(LAST_SWEEP)
    if last is None:
        return True
    return now - datetime.fromisoformat(last) >= timedelta(hours=every_hours)


def missing_ids(known: set[str], present: set[str]) -> list[str]:
    """The warehouse ids the shop no longer lists, sorted.

    >>> missing_ids({"n/1", "n/2", "n/3"}, {"n/1", "n/3", "n/4"})
    ['n/2']
    """
    return sorted(known - present)


def listed_ids(client: RESTClient, shop: str, page_size: int) -> set[str]:
    """``record_id`` of every customer the shop lists now (only ids asked for)."""
    present: set[str] = set()
    pages = client.paginate("customers.json", params={"limit": page_size, "fields": "id"},
                            paginator=ShopifyLinkPaginator(), data_selector="customers")
    for page in pages:
        present.update(record_id(shop, row["id"]) for row in page)
    return present


def _known_ids(client: Any, table: str, shop: str, include_flagged: bool) -> set[str]:
    live_only = "" if include_flagged else f" AND NOT {DELETED_COLUMN}"
    rows = client.execute_sql(f"SELECT record_id FROM {table} WHERE shop = %s{live_only}", shop)
    return {str(r[0]) for r in rows or []}


def _rows(client: Any, table: str, ids: list[str]) -> Iterator[Row]:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        with client.execute_query(
            f"SELECT * FROM {table} WHERE record_id IN ({marks})", *chunk
        ) as cursor:
            names = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                yield {name: value for name, value in zip(names, values, strict=True)
                       if not name.startswith("_dlt_")}


def deleted_customers(client: RESTClient, shop: str, page_size: int,
                      include_flagged: bool = False) -> Iterator[Row]:
    """The last known rows of the shop's customers deleted since they were loaded, flagged.

    Reads the warehouse of the running pipeline; yields nothing before the first load. With
    ``include_flagged`` rows flagged earlier are yielded again: a full refresh replaces the
    tables, and they must survive it.
    """
    pipeline = dlt.current.pipeline()
    if not pipeline.default_schema_name:  # nothing was ever loaded
        return
    try:
        with pipeline.sql_client() as sql:
            table = sql.make_qualified_table_name(TABLE)
            known = _known_ids(sql, table, shop, include_flagged)
            if not known:
                return
            gone = missing_ids(known, listed_ids(client, shop, page_size))
            for row in _rows(sql, table, gone):
                row[DELETED_COLUMN] = True
                yield row
    except DatabaseUndefinedRelation:
        return
