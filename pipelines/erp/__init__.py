"""The erp source: Xero's contacts, invoices (+ line items), payments, items and credit notes.

Every resource reads ``If-Modified-Since`` the last ``UpdatedDateUTC`` loaded (minus a lag window)
with ``order=UpdatedDateUTC ASC``, pages with ``page``/``pageSize``, and merges on Xero's id.
Archived contacts, deleted or voided invoices and credit notes, and deleted payments stay in the
warehouse with ``_goldloop_deleted = true``; Items Xero deletes for real are found by a one-request
sweep (:mod:`pipelines.erp.sweep`). Configuration (``sources.erp.*``): ``base_url``,
``access_token`` and ``tenant_id`` (secrets; without a tenant id the one organisation the token
reaches is looked up at ``connections_url``), ``page_size``, ``lag_seconds``,
``item_delete_sweep``; the defaults point at the local sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.common.typing import TSecretStrValue
from dlt.extract.resource import DltResource

from pipelines.common.deletes import DELETED_COLUMNS
from pipelines.common.incremental import DEFAULT_LAG_SECONDS, as_utc
from pipelines.common.pacing import paced_session
from pipelines.erp.client import (
    MAX_PAGE_SIZE,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_BASE_URL,
    connections_url_for,
    discover_tenant,
    make_client,
)
from pipelines.erp.entities import CONTACTS, CREDIT_NOTES, CURSOR, INVOICES, ITEMS, PAYMENTS
from pipelines.erp.mapping import Record
from pipelines.erp.reader import read_changes
from pipelines.erp.sweep import SWEPT, deleted_items

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# the newest version of a record wins when one load holds it twice
HINTS: TTableSchemaColumns = {
    **DELETED_COLUMNS, CURSOR: {"name": CURSOR, "dedup_sort": "desc"},
}


@dlt.source(name="erp")
def source(
    base_url: str = SANDBOX_BASE_URL,
    access_token: TSecretStrValue = SANDBOX_ACCESS_TOKEN,
    tenant_id: TSecretStrValue | None = None,
    connections_url: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page_size: int = MAX_PAGE_SIZE,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
    item_delete_sweep: bool = True,
) -> list[DltResource]:
    """Xero's sales records of one tenant; ``start``/``end`` bound a backfill window (UTC).

    Without ``tenant_id`` the tenant is looked up at ``connections_url`` (Xero identity's
    ``GET /connections`` on the API host), which must list exactly one organisation.
    ``item_delete_sweep``: list every Item on each run to flag the ones Xero deleted (one
    request; never inside a backfill window).
    """
    session = paced_session("erp")
    tenant = tenant_id or discover_tenant(
        session, connections_url or connections_url_for(base_url), access_token)
    client = make_client(base_url, access_token, tenant, session)
    begin = as_utc(start) or (EPOCH if end is not None else None)

    def cursor() -> dlt.sources.incremental[datetime]:
        return dlt.sources.incremental(CURSOR, initial_value=begin, end_value=as_utc(end),
                                       lag=lag_seconds, row_order="asc")

    @dlt.resource(name="contacts", primary_key=CONTACTS.primary_key, write_disposition="merge",
                  columns=HINTS)
    def contacts(updated: dlt.sources.incremental[datetime] = cursor()) -> Iterator[list[Record]]:
        """Customers and suppliers, archived ones included."""
        yield from read_changes(client, CONTACTS, updated, page_size, lag_seconds)

    @dlt.resource(name="invoices", primary_key=INVOICES.primary_key, write_disposition="merge",
                  columns=HINTS)
    def invoices(updated: dlt.sources.incremental[datetime] = cursor()) -> Iterator[list[Record]]:
        """Sales invoices and purchase bills (``type``), line items in ``invoices__line_items``."""
        yield from read_changes(client, INVOICES, updated, page_size, lag_seconds)

    @dlt.resource(name="payments", primary_key=PAYMENTS.primary_key, write_disposition="merge",
                  columns=HINTS)
    def payments(updated: dlt.sources.incremental[datetime] = cursor()) -> Iterator[list[Record]]:
        """Payments against invoices and credit notes."""
        yield from read_changes(client, PAYMENTS, updated, page_size, lag_seconds)

    @dlt.resource(name="items", primary_key=ITEMS.primary_key, write_disposition="merge",
                  columns=HINTS)
    def items(updated: dlt.sources.incremental[datetime] = cursor()) -> Iterator[list[Record]]:
        """Products and services (one unpaged answer)."""
        yield from read_changes(client, ITEMS, updated, page_size, lag_seconds)

    @dlt.resource(name="credit_notes", primary_key=CREDIT_NOTES.primary_key,
                  write_disposition="merge", columns=HINTS)
    def credit_notes(
        updated: dlt.sources.incremental[datetime] = cursor(),
    ) -> Iterator[list[Record]]:
        """Credit notes, with their line items and allocations to invoices."""
        yield from read_changes(client, CREDIT_NOTES, updated, page_size, lag_seconds)

    @dlt.resource(name="item_deletes", table_name="items", primary_key=ITEMS.primary_key,
                  write_disposition="merge", columns=HINTS)
    def item_deletes() -> Iterator[dict[str, Any]]:
        """Items Xero deleted, re-loaded flagged (a full pass by design: a deleted Item has no
        change time to follow)."""
        state = dlt.current.resource_state()
        # no earlier sweep: a new pipeline, or a full refresh about to replace the table, so
        # items flagged before are carried over too
        yield from deleted_items(client, include_flagged=not state.get(SWEPT))
        state[SWEPT] = True

    resources: list[Any] = [contacts, invoices, payments, items, credit_notes]
    if item_delete_sweep and end is None:
        resources.append(item_deletes)
    return resources
