"""One Xero resource's incremental read: If-Modified-Since from the cursor, map, skip seen rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from dlt.extract.incremental import Incremental
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.common.incremental import SeenWindow
from pipelines.common.prefetch import prefetch
from pipelines.erp.client import read_pages
from pipelines.erp.entities import CURSOR, Entity
from pipelines.erp.mapping import Record, map_record

PRUNE_EVERY_PAGES = 20


def read_changes(client: RESTClient, entity: Entity, updated: Incremental[datetime],
                 page_size: int, lag_seconds: float) -> Iterator[list[Record]]:
    """Pages of ``entity`` records changed since the cursor (minus the lag), ready to load.

    The lag window is read again on every run; :class:`SeenWindow` drops the records in it that
    were already loaded in the same version, so a run with no changes loads nothing. A backfill
    (``end_value`` set) is stateless and loads its whole window. The next page is fetched in a
    background thread while one is mapped.
    """
    window = SeenWindow.of_resource(lag_seconds) if updated.end_value is None else None
    try:
        pages = read_pages(client, entity, updated.start_value, page_size)
        for number, page in enumerate(prefetch(pages)):
            rows = [map_record(r, entity.status_field, entity.deleted_statuses) for r in page]
            if window is not None:
                rows = window.fresh(rows, entity.primary_key, CURSOR)
                if number % PRUNE_EVERY_PAGES == PRUNE_EVERY_PAGES - 1:
                    window.prune()  # pages come oldest first: keeps a long full load's window small
            if rows:
                yield rows
    finally:
        if window is not None:
            window.prune()
