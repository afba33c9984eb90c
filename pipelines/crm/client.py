"""HubSpot CRM v3 reads: list paging, windowed search, v4 association batch reads.

All requests go through one dlt ``RESTClient`` on the crm paced session (190 requests / 10 s,
search 4 / s) with a private-app bearer token.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any

from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from goldloop.errors import SourceError
from pipelines.common.incremental import to_epoch_ms
from pipelines.common.pacing import paced_session
from pipelines.crm.objects import CrmObject

LIST_LIMIT = 100  # HubSpot's maximum page size for list endpoints
SEARCH_LIMIT = 200  # ... and for search
SEARCH_CAP = 10_000  # a search serves at most this many results (after + limit)
ASSOCIATION_BATCH = 1000  # inputs per v4 association batch read
# compiled once: dlt would parse a JSONPath string again for every page
RESULTS = compile_path("results")


def make_client(base_url: str, access_token: str) -> RESTClient:
    """A REST client for one HubSpot account."""
    return RESTClient(
        base_url=base_url.rstrip("/"),
        auth=BearerTokenAuth(access_token),
        headers={"Accept": "application/json"},
        session=paced_session("crm"),
    )


def _raise_for_status(response: Any) -> None:
    response.raise_for_status()


def list_pages(client: RESTClient, obj: CrmObject, *, archived: bool) -> Iterator[list[dict]]:
    """Every record of ``obj`` (live or archived), a page of up to 100 at a time."""
    params = {
        "limit": LIST_LIMIT,
        "properties": ",".join(obj.all_properties()),
        "archived": "true" if archived else "false",
    }
    paginator = JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after")
    for page in client.paginate(f"/crm/v3/objects/{obj.name}", params=params,
                                paginator=paginator, data_selector=RESULTS):
        yield list(page)


def owner_pages(client: RESTClient, *, archived: bool) -> Iterator[list[dict]]:
    """Every owner (live or archived), a page of up to 100 at a time."""
    paginator = JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after")
    params = {"limit": LIST_LIMIT, "archived": "true" if archived else "false"}
    for page in client.paginate("/crm/v3/owners", params=params, paginator=paginator,
                                data_selector=RESULTS):
        yield list(page)


def search_body(obj: CrmObject, filters: list[dict[str, Any]], sort: str,
                after: str) -> dict[str, Any]:
    """A search request with every field the spec marks required.

    ``sorts`` uses the spec's string form (``"prop"`` ascending); HubSpot documents objects too.

    >>> from pipelines.crm.objects import PRODUCTS
    >>> sorted(search_body(PRODUCTS, [], "hs_lastmodifieddate", "0"))
    ['after', 'filterGroups', 'limit', 'properties', 'sorts']
    """
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [sort],
        "properties": list(obj.all_properties()),
        "limit": SEARCH_LIMIT,
        "after": after,
    }


def _search_window(client: RESTClient, obj: CrmObject, filters: list[dict[str, Any]],
                   sort: str) -> Generator[list[dict], None, bool]:
    """One search, paged until exhausted or until the next page would pass the 10,000 cap.

    Returns True when the cap cut the window short (more results remain).
    """
    fetched = 0
    after = "0"
    while True:
        response = client.post(f"/crm/v3/objects/{obj.name}/search",
                               json=search_body(obj, filters, sort, after))
        _raise_for_status(response)
        payload = response.json()
        results = payload.get("results") or []
        fetched += len(results)
        if results:
            yield results
        nxt = ((payload.get("paging") or {}).get("next") or {}).get("after")
        if not nxt or not results:
            return False
        if fetched + SEARCH_LIMIT > SEARCH_CAP:
            return True
        after = str(nxt)


def _ms(record: dict[str, Any], obj: CrmObject) -> int:
    value = (record.get("properties") or {}).get(obj.modified_property) or record["updatedAt"]
    return to_epoch_ms(int(value) if str(value).isdigit() else value)


def search_changed(client: RESTClient, obj: CrmObject, start_ms: int,
                   end_ms: int | None) -> Iterator[list[dict]]:
    """Records of ``obj`` modified at or after ``start_ms`` (and before ``end_ms``), ascending.

    A search serves 10,000 results at most: when a window fills up, the next one starts at the
    last timestamp seen (records sharing it come again; the merge and the lag window drop them).
    If one millisecond alone fills a window, that millisecond is paged by record id instead.
    """
    mod = obj.modified_property
    upper = [{"propertyName": mod, "operator": "LT", "value": str(end_ms)}] if end_ms else []
    cursor, operator = start_ms, "GTE"
    while True:
        filters = [{"propertyName": mod, "operator": operator, "value": str(cursor)}, *upper]
        last_ms = cursor
        pages = _search_window(client, obj, filters, mod)
        while True:
            try:
                page = next(pages)
            except StopIteration as done:
                truncated = bool(done.value)
                break
            last_ms = _ms(page[-1], obj)
            yield page
        if not truncated:
            return
        if last_ms > cursor:
            cursor, operator = last_ms, "GTE"
        else:  # a full window of one instant: page it by id, then move past it
            yield from _search_one_instant(client, obj, cursor)
            operator = "GT"


def _search_one_instant(client: RESTClient, obj: CrmObject, at_ms: int) -> Iterator[list[dict]]:
    """Every record modified exactly at ``at_ms``, in windows ordered by record id."""
    mod = obj.modified_property
    last_id: int | None = None
    while True:
        filters = [{"propertyName": mod, "operator": "EQ", "value": str(at_ms)}]
        if last_id is not None:
            filters.append({"propertyName": "hs_object_id", "operator": "GT",
                            "value": str(last_id)})
        before = last_id
        pages = _search_window(client, obj, filters, "hs_object_id")
        while True:
            try:
                page = next(pages)
            except StopIteration as done:
                truncated = bool(done.value)
                break
            last_id = int(page[-1]["id"])
            yield page
        if not truncated:
            return
        if last_id == before:
            raise SourceError(f"crm: search on {obj.name} at {at_ms} made no progress",
                              hint="report this: the search API returned full windows of nothing")


def read_associations(client: RESTClient, from_type: str, to_type: str,
                      ids: Sequence[str]) -> list[dict[str, Any]]:
    """The v4 batch-read results for ``ids`` (``{from: {id}, to: [link, ...]}``; records
    without links are absent)."""
    results: list[dict[str, Any]] = []
    for i in range(0, len(ids), ASSOCIATION_BATCH):
        batch = ids[i:i + ASSOCIATION_BATCH]
        response = client.post(f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                               json={"inputs": [{"id": str(x)} for x in batch]})
        _raise_for_status(response)
        results.extend(response.json().get("results") or [])
    return results
