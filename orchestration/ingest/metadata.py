"""What a user sees on a raw-table materialisation, from the pipeline's run summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipelines.common.summary import SystemSummary


def belongs_to(table: str, root: str) -> bool:
    """Whether ``table`` is ``root`` or one of its dlt child tables.

    >>> belongs_to("orders__line_items", "orders"), belongs_to("orders_x", "orders")
    (True, False)
    """
    return table == root or table.startswith(f"{root}__")


def describe_window(start: datetime | None, end: datetime | None, full_refresh: bool) -> str:
    """One phrase for what the run read.

    >>> describe_window(None, None, False)
    'incremental (changes since the last load)'
    """
    if full_refresh:
        return "full refresh (every record, tables rebuilt)"
    if start is None and end is None:
        return "incremental (changes since the last load)"
    return f"changes from {start.isoformat() if start else 'the start'} to " \
           f"{end.isoformat() if end else 'now'}"


def table_metadata(summary: SystemSummary, root: str, *, window: str) -> dict[str, Any]:
    """Rows loaded/updated/flagged deleted of ``root`` (and child tables), schema changes, budget.

    >>> from pipelines.common.summary import TableSummary
    >>> s = SystemSummary("shop", [TableSummary("orders", 3, 1, 1, 10),
    ...                            TableSummary("orders__line_items", 7, None, 0, 30)], requests=4)
    >>> m = table_metadata(s, "orders", window="w")
    >>> m["rows_loaded"], m["dagster/row_count"], m["child_rows_loaded"]
    (3, 10, {'orders__line_items': 7})
    """
    mine = [t for t in summary.tables if belongs_to(t.table, root)]
    main = next((t for t in mine if t.table == root), None)
    changes = [c.warning(summary.system) for c in summary.schema_changes
               if belongs_to(c.table_name, root)]
    metadata: dict[str, Any] = {
        "table": f"raw_{summary.system}.{root}",
        "window": window,
        "rows_loaded": main.rows_loaded if main else 0,
        "rows_updated": main.rows_updated if main and main.rows_updated is not None else 0,
        "rows_flagged_deleted": main.rows_flagged_deleted if main else 0,
        "child_rows_loaded": {t.table: t.rows_loaded for t in mine if t.table != root},
        "schema_changes": len(changes),
        "schema_change_details": "\n".join(changes) or "none",
        "system_requests": summary.requests,
        "system_retries": summary.retries,
        "system_throttled": summary.throttled,
        "system_seconds": summary.seconds,
        "load_ids": ", ".join(summary.load_ids) or "none",
    }
    if main and main.rows_total is not None:
        metadata["dagster/row_count"] = main.rows_total
    return metadata
