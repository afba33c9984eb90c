"""BambooHR → ``raw_hr.employees``: the fields a golden employee needs, merged on ``id``.

The first run pulls the whole employee dataset (``POST /api/v2/datasets/employee/data``, 1,000 a
page) plus the ids the change feed reports ``Deleted`` since the epoch. Later runs ask
``GET employees/changed?since=<cursor - lag>`` (a map keyed by employee id), then read the
inserted and updated employees in filtered bulk calls (``employeeId in (...)``).
Employees reported ``Deleted`` keep their last known values and get ``_goldloop_deleted``;
terminated employees (``status`` Inactive, with a ``termination_date``) are flagged too, so no
leaver looks live.
The cursor is dlt's ``incremental("last_changed", lag=...)``; ``latest`` from the change feed
is kept in the resource state next to it. ``start``/``end`` bound the cursor for backfills.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.common.deletes import previous_rows
from pipelines.common.incremental import DEFAULT_LAG_SECONDS, SeenWindow, iso_ms, to_epoch_ms
from pipelines.hr.client import changed_since, dataset_pages, employees_by_id, make_client
from pipelines.hr.records import COLUMNS, deleted_row, to_row

TABLE = "employees"
EPOCH = "1970-01-01T00:00:00.000Z"


def _deleted_rows(window: SeenWindow, ids: list[str], changes: dict[str, dict[str, Any]],
                  fallback: str) -> list[dict[str, Any]]:
    """Rows for employees BambooHR reports ``Deleted``: last known values, flagged."""
    before = previous_rows(TABLE, "id", ids)
    rows = [deleted_row(i, changes[i].get("lastChanged") or fallback, before.get(i)) for i in ids]
    for row in rows:
        window.remember(row["id"], to_epoch_ms(row["last_changed"]))
    return rows


def _employees(client: RESTClient, base_url: str, lag_seconds: float,
               last_changed: dlt.sources.incremental[str] = dlt.sources.incremental(
                   "last_changed")) -> Iterator[list[dict[str, Any]]]:
    window = SeenWindow.of_resource(lag_seconds)
    start = last_changed.start_value
    since = iso_ms(start) if start is not None else EPOCH
    try:
        latest, changes = changed_since(client, since)
        dlt.current.resource_state()["latest"] = latest
        fresh = {
            employee_id: change for employee_id, change in changes.items()
            if change.get("lastChanged") is None
            or window.is_new(employee_id, to_epoch_ms(iso_ms(change["lastChanged"])))
        }
        deleted = [i for i, c in fresh.items() if str(c.get("action")).lower() == "deleted"]
        if start is None:  # first run: the whole dataset, plus the deleted the feed knows
            pages = dataset_pages(client, base_url)
        else:
            pages = employees_by_id(client, base_url, [i for i in fresh if i not in deleted])
        for page in pages:
            rows = window.fresh((to_row(r) for r in page), "id", "last_changed")
            if rows:
                yield rows
        if deleted:
            yield _deleted_rows(window, deleted, fresh, latest or since)
    finally:
        window.prune()


@dlt.source(name="hr", max_table_nesting=0)
def source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    start: datetime | None = None,
    end: datetime | None = None,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
) -> list[DltResource]:
    """The BambooHR source.

    Args:
        base_url: ``sources.hr.base_url``, ``https://<company>.bamboohr.com/api/v1`` live.
        api_key: ``sources.hr.api_key`` (HTTP Basic user name; the password is ``x``).
        start / end: optional backfill window on ``lastChanged``.
        lag_seconds: how far back each incremental run re-reads.
    """
    client = make_client(base_url, api_key)
    cursor = dlt.sources.incremental(
        "last_changed",
        initial_value=iso_ms(start) if start else (iso_ms(0) if end else None),
        end_value=iso_ms(end) if end else None,
        lag=lag_seconds,
        on_cursor_value_missing="include",
    )
    employees = dlt.resource(
        _employees, name=TABLE, table_name=TABLE, primary_key="id",
        write_disposition="merge", columns=COLUMNS,
    )(client, base_url, lag_seconds, last_changed=cursor)
    return [employees]
