"""HubSpot CRM v3 → ``raw_crm``: contacts, companies, deals, line items, products, owners.

Each object has two resources loading into one table (merge on ``id``), as Arrow tables (dlt's
fast path: no per-row normalisation):

- ``<object>``: the live records. The first run lists them all (``limit=100`` + ``after``); later
  runs search ``<modified property> GTE cursor - lag`` ascending (``limit=200``), windowed under the
  10,000-result cap. The cursor is dlt's ``incremental("updated_at", lag=...)``; a lag window keeps
  (id, timestamp) pairs already loaded so a rerun loads nothing twice.
- ``<object>_archived``: ``archived=true`` lists (HubSpot's only way to see deletes), filtered by
  ``incremental("archived_at")``, flagged ``_goldloop_deleted``. They are swept on the first run
  and then every ``archived_sweep_every_hours`` (default 24, :mod:`pipelines.crm.sweep`): a record
  archived in between is flagged by the next sweep.

Into a table that is still empty (the first run, a full refresh) both resources append instead
of merging (:mod:`pipelines.common.firstload`); a key that came twice keeps its newest version
(``updated_at``).

The links of contacts and deals (v4 batch reads, by a transformer on each loaded batch) land in
``raw_crm.associations`` (``from_type, from_id, to_type, to_id, type, type_id, label``): each
loaded record's links replace its previous ones (merge key ``from_type, from_id``, through one
marker row per record), so removed links disappear with the next change of the record; into an
empty table (a first load) the links are appended without markers. The v4 results become Arrow
columns in C (:func:`pipelines.crm.records.associations_table`). ``start``/``end`` bound the
cursor for backfills.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient

from pipelines.common.firstload import append_if_empty
from pipelines.common.incremental import DEFAULT_LAG_SECONDS, SeenWindow, iso_ms, to_epoch_ms
from pipelines.common.prefetch import prefetch
from pipelines.crm.client import (
    list_pages,
    make_client,
    owner_pages,
    read_associations,
    search_changed,
)
from pipelines.crm.objects import OBJECTS, CrmObject
from pipelines.crm.records import (
    ASSOCIATION_COLUMNS,
    OWNER_COLUMNS,
    associations_table,
    column_hints,
    owner_row,
    records_table,
)
from pipelines.crm.sweep import DEFAULT_SWEEP_EVERY_HOURS, mark_swept, sweep_due

ASSOCIATIONS_TABLE = "associations"
ASSOCIATION_KEY = ["from_type", "from_id", "to_type", "to_id", "type_id"]


RECORDS_PER_TABLE = 5000  # records per Arrow table: dlt's per-item overhead stays small


def _batches(pages: Iterable[list[dict[str, Any]]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Regroup pages into lists of about ``size`` records.

    >>> [len(b) for b in _batches([[1] * 60, [1] * 60, [1] * 10], 100)]
    [120, 10]
    """
    batch: list[dict[str, Any]] = []
    for page in pages:
        batch.extend(page)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _live_records(client: RESTClient, obj: CrmObject, lag_seconds: float,
                  end: datetime | None,
                  updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
                      "updated_at")) -> Iterator[pa.Table]:
    window = SeenWindow.of_resource(lag_seconds)
    start = updated_at.start_value
    if start is None:
        pages = list_pages(client, obj, archived=False)
    else:
        pages = search_changed(client, obj, to_epoch_ms(start),
                               to_epoch_ms(end) if end else None)
    append_if_empty(obj.name)
    try:
        for batch in prefetch(_batches(pages, RECORDS_PER_TABLE)):
            table = window.fresh_table(records_table(batch, obj), "id", "updated_at")
            if table.num_rows:
                yield table
    finally:
        window.prune()


def _archived_records(client: RESTClient, obj: CrmObject, lag_seconds: float,
                      sweep: bool | None, every_hours: float,
                      archived_at: dlt.sources.incremental[datetime] = dlt.sources.incremental(
                          "archived_at")) -> Iterator[pa.Table]:
    state = dlt.current.resource_state()
    now = datetime.now(UTC)
    if not sweep_due(state, sweep, every_hours, now):
        return
    window = SeenWindow(state, lag_seconds)
    append_if_empty(obj.name)
    try:
        pages = list_pages(client, obj, archived=True)
        for batch in prefetch(_batches(pages, RECORDS_PER_TABLE)):
            table = window.fresh_table(records_table(batch, obj), "id", "archived_at")
            if table.num_rows:
                yield table
        mark_swept(state, now)
    finally:
        window.prune()


def _associations(client: RESTClient, obj: CrmObject) -> Any:
    """A transformer: the current links of each live record its parent resource yields.

    Into an empty table (a first load) the links are appended, without the marker rows that
    replace a record's old links on merge.
    """

    def links_of(table: pa.Table) -> Iterator[pa.Table]:
        ids = table.filter(pc.invert(pc.fill_null(table.column("archived"), False))
                           ).column("id").to_pylist()
        if ids:
            first = append_if_empty(ASSOCIATIONS_TABLE)
            links = {to: read_associations(client, obj.name, to, ids) for to in obj.associations}
            yield associations_table(obj.name, ids, links, markers=not first)

    return links_of


def _owners(client: RESTClient, lag_seconds: float,
            updated_at: dlt.sources.incremental[str] = dlt.sources.incremental(
                "updated_at")) -> Iterator[list[dict[str, Any]]]:
    window = SeenWindow.of_resource(lag_seconds)
    try:
        for page in chain(owner_pages(client, archived=False), owner_pages(client, archived=True)):
            rows = window.fresh((owner_row(o) for o in page), "id", "updated_at")
            if rows:
                yield rows
    finally:
        window.prune()


def _window(start: datetime | None, end: datetime | None) -> tuple[Any, Any]:
    """(initial, end) cursor values of a backfill window (an end alone starts at the epoch)."""
    if start is None and end is not None:
        start = datetime(1970, 1, 1, tzinfo=UTC)
    return start, end


def _cursor(name: str, start: datetime | None, end: datetime | None,
            lag_seconds: float) -> dlt.sources.incremental[datetime]:
    """A timestamp cursor (Arrow tables) bounded by the backfill window, with the lag."""
    initial, final = _window(start, end)
    return dlt.sources.incremental(name, initial_value=initial, end_value=final,
                                   lag=lag_seconds, on_cursor_value_missing="include")


def _text_cursor(name: str, start: datetime | None, end: datetime | None,
                 lag_seconds: float) -> dlt.sources.incremental[str]:
    """An ISO-string cursor (JSON rows) bounded by the backfill window, with the lag."""
    initial, final = _window(start, end)
    return dlt.sources.incremental(
        name, initial_value=iso_ms(initial) if initial else None,
        end_value=iso_ms(final) if final else None, lag=lag_seconds,
        on_cursor_value_missing="include")


@dlt.source(name="crm", max_table_nesting=1)
def source(
    base_url: str = dlt.config.value,
    access_token: str = dlt.secrets.value,
    start: datetime | None = None,
    end: datetime | None = None,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
    archived_sweep: bool | None = None,
    archived_sweep_every_hours: float = DEFAULT_SWEEP_EVERY_HOURS,
) -> list[DltResource]:
    """The HubSpot CRM source.

    Args:
        base_url: ``sources.crm.base_url`` (``https://api.hubapi.com`` live, the sandbox's by
            default in .dlt/config.toml).
        access_token: ``sources.crm.access_token``, a private-app token with the read scopes.
        start / end: optional backfill window on the last-modified cursor.
        lag_seconds: how far back each incremental run re-reads (late commits).
        archived_sweep: list archived records (deletes) on every run (true) or never
            (false); unset, they are listed on the first run and then on a cadence.
        archived_sweep_every_hours: the cadence (``sources.crm.archived_sweep_every_hours``);
            see :mod:`pipelines.crm.sweep`.
    """
    resources: list[DltResource] = []
    for obj in OBJECTS:
        live = dlt.resource(
            _live_records, name=obj.name, table_name=obj.name, primary_key="id",
            write_disposition="merge", columns=column_hints(obj),
        )(make_client(base_url, access_token), obj, lag_seconds, end,
          updated_at=_cursor("updated_at", start, end, lag_seconds))
        resources.append(live)
        if obj.associations:
            resources.append(dlt.transformer(
                _associations(make_client(base_url, access_token), obj),
                name=f"{obj.name}_associations", table_name=ASSOCIATIONS_TABLE,
                write_disposition="merge", primary_key=ASSOCIATION_KEY,
                merge_key=["from_type", "from_id"], columns=ASSOCIATION_COLUMNS,
                parallelized=True, data_from=live,
            ))
        if archived_sweep is not False:
            resources.append(dlt.resource(
                _archived_records, name=f"{obj.name}_archived", table_name=obj.name,
                primary_key="id", write_disposition="merge", columns=column_hints(obj),
            )(make_client(base_url, access_token), obj, lag_seconds, archived_sweep,
              archived_sweep_every_hours,
              archived_at=_cursor("archived_at", start, end, lag_seconds)))
    resources.append(dlt.resource(
        _owners, name="owners", table_name="owners", primary_key="id",
        write_disposition="merge", columns=OWNER_COLUMNS,
    )(make_client(base_url, access_token), lag_seconds,
      updated_at=_text_cursor("updated_at", start, end, lag_seconds)))
    return resources
