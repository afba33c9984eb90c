"""Finding Items Xero deleted: the whole (unpaged) Items list compared with the warehouse.

Xero deletes an Item for real (no ``ARCHIVED`` status, no tombstone): a deleted Item drops out of
``GET /Items`` and an ``If-Modified-Since`` read can never see it go. Items are one unpaged answer,
so the sweep costs a single request: it lists every ItemID, compares them with the live items
``raw_erp.items`` holds, and re-loads each missing one as its last known row with
``_goldloop_deleted = true``. It runs on every run unless ``item_delete_sweep`` is false. When the
resource state is new (a new pipeline, or a full refresh about to replace the tables) items
flagged earlier are re-loaded too, read from the old table before the load replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.common.deletes import DELETED_COLUMN
from pipelines.erp.client import read_pages
from pipelines.erp.entities import ITEMS

Row = dict[str, Any]
TABLE = "items"
KEY_COLUMN = "item_id"  # ItemID as dlt names it in the warehouse
SWEPT = "swept_at_least_once"


def missing_ids(known: Iterable[str], present: Iterable[str]) -> list[str]:
    """The warehouse ids Xero no longer lists, sorted (GUIDs compared case-insensitively).

    >>> missing_ids(["A1", "b2", "c3"], ["a1", "C3", "d4"])
    ['b2']
    """
    listed = {p.lower() for p in present}
    return sorted(k for k in known if k.lower() not in listed)


def listed_item_ids(client: RESTClient) -> set[str]:
    """``ItemID`` of every item Xero lists now (one request: Items are not paged)."""
    return {str(item[ITEMS.primary_key]) for page in read_pages(client, ITEMS, None)
            for item in page}


def _known_ids(sql: Any, table: str, include_flagged: bool) -> list[str]:
    live_only = "" if include_flagged else f" WHERE NOT {DELETED_COLUMN}"
    return [str(r[0]) for r in sql.execute_sql(f"SELECT {KEY_COLUMN} FROM {table}{live_only}")
            or []]


def _rows(sql: Any, table: str, ids: list[str]) -> Iterator[Row]:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join(["%s"] * len(chunk))
        with sql.execute_query(
                f"SELECT * FROM {table} WHERE {KEY_COLUMN} IN ({marks})", *chunk) as cursor:
            names = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                yield {name: value for name, value in zip(names, values, strict=True)
                       if not name.startswith("_dlt_")}


def deleted_items(client: RESTClient, include_flagged: bool = False) -> Iterator[Row]:
    """The last known rows of the items Xero deleted since they were loaded, flagged.

    Reads the warehouse of the running pipeline; yields nothing before the first load of
    ``items``. With ``include_flagged`` rows flagged earlier come again (a full refresh replaces
    the table and they must survive it).
    """
    pipeline = dlt.current.pipeline()
    if not pipeline.default_schema_name:  # nothing was ever loaded
        return
    try:
        with pipeline.sql_client() as sql:
            table = sql.make_qualified_table_name(TABLE)
            known = _known_ids(sql, table, include_flagged)
            if not known:
                return
            gone = missing_ids(known, listed_item_ids(client))
            for row in _rows(sql, table, gone):
                row[DELETED_COLUMN] = True
                yield row
    except DatabaseUndefinedRelation:
        return
