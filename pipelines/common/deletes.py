"""The soft-delete flag: archived, voided, deleted or terminated records stay, flagged.

Every main raw table carries ``_goldloop_deleted`` (boolean, never null) so staging models can
tell a live record from a deleted one without knowing each vendor's status vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.destinations.exceptions import DestinationUndefinedEntity

DELETED_COLUMN = "_goldloop_deleted"

DELETED_COLUMNS: TTableSchemaColumns = {
    DELETED_COLUMN: {"name": DELETED_COLUMN, "data_type": "bool", "nullable": False},
}
"""Column hints to pass as ``columns=`` on every main resource."""


def flag_deleted(record: dict[str, Any], deleted: bool) -> dict[str, Any]:
    """Set the soft-delete flag on ``record`` (in place) and return it.

    >>> flag_deleted({"id": "1"}, True)
    {'id': '1', '_goldloop_deleted': True}
    """
    record[DELETED_COLUMN] = bool(deleted)
    return record


def previous_rows(table: str, key: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The rows already in the warehouse for ``ids`` (by ``key``), without dlt's own columns.

    For sources that report a deletion by id only (BambooHR ``Deleted``): the flagged row keeps
    the values it had instead of being merged over with nulls. Call inside a resource of a
    running pipeline; returns ``{}`` when the table does not exist yet.
    """
    if not ids:
        return {}
    pipeline = dlt.current.pipeline()
    found: dict[str, dict[str, Any]] = {}
    try:
        with pipeline.sql_client() as client:
            qualified = client.make_qualified_table_name(table)
            for i in range(0, len(ids), 500):
                batch = [str(x) for x in ids[i:i + 500]]
                marks = ", ".join(["%s"] * len(batch))
                with client.execute_query(
                        f"SELECT * FROM {qualified} WHERE {key} IN ({marks})", *batch) as cur:
                    names = [d[0] for d in cur.description]
                    for values in cur.fetchall():
                        row = {n: v for n, v in zip(names, values, strict=True)
                               if not n.startswith("_dlt")}
                        found[str(row[key])] = row
    except DestinationUndefinedEntity:
        return {}
    return found
