"""Talking to Xero: the tenant-scoped REST client, page-numbered paging, If-Modified-Since reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    PageNumberPaginator,
    SinglePagePaginator,
)

from goldloop.errors import ConfigError
from pipelines.erp.dates import if_modified_since
from pipelines.erp.entities import ORDER, Entity

MAX_PAGE_SIZE = 1000  # Xero's documented ceiling for pageSize (unconfirmed: keep configurable)
TENANT_HEADER = "xero-tenant-id"

# Defaults: the local sandbox's Xero (its credentials open nothing real).
SANDBOX_BASE_URL = "http://127.0.0.1:18102/api.xro/2.0"
SANDBOX_ACCESS_TOKEN = "xero-sandbox-access-token"


class XeroPaginator(PageNumberPaginator):
    """``page=1, 2, ...`` until ``pagination.pageCount`` (Xero's envelope) or an empty page.

    A short page is not taken as the last one: a server may cap ``pageSize`` below the ask.
    """

    def __init__(self) -> None:
        super().__init__(base_page=1, page=1, page_param="page", total_path=None,
                         stop_after_empty_page=True)

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if not self.has_next_page:
            return
        payload = response.json()
        pagination = payload.get("pagination") if isinstance(payload, dict) else None
        page_count = pagination.get("pageCount") if isinstance(pagination, dict) else None
        if isinstance(page_count, int) and self.current_value > page_count:
            self._has_next_page = False


def connections_url_for(base_url: str) -> str:
    """Xero identity's ``/connections`` on the API's host (where tenant ids are listed).

    >>> connections_url_for("https://api.xero.com/api.xro/2.0")
    'https://api.xero.com/connections'
    """
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/connections"


def pick_tenant(connections: Any, connections_url: str) -> str:
    """The one organisation the token is connected to; several or none is a configuration error.

    >>> pick_tenant([{"tenantId": "t1", "tenantType": "ORGANISATION", "tenantName": "A"}], "u")
    't1'
    """
    tenants = [c for c in connections if isinstance(c, dict) and c.get("tenantId")
               and c.get("tenantType", "ORGANISATION") == "ORGANISATION"] \
        if isinstance(connections, list) else []
    if len(tenants) == 1:
        return str(tenants[0]["tenantId"])
    names = ", ".join(f"{t.get('tenantName')} ({t['tenantId']})" for t in tenants)
    raise ConfigError(
        f"the Xero token is connected to {len(tenants)} organisations at {connections_url}"
        + (f": {names}" if names else ""),
        hint="set sources.erp.tenant_id (env SOURCES__ERP__TENANT_ID) to the tenant to read",
    )


def discover_tenant(session: requests.Session, connections_url: str, access_token: str) -> str:
    """Ask Xero identity which tenant the token may read (``GET /connections``)."""
    response = session.get(connections_url, headers={"Authorization": f"Bearer {access_token}",
                                                     "Accept": "application/json"})
    response.raise_for_status()
    return pick_tenant(response.json(), connections_url)


def make_client(base_url: str, access_token: str, tenant_id: str,
                session: requests.Session) -> RESTClient:
    """A REST client for one Xero tenant: bearer token, tenant header, JSON answers."""
    return RESTClient(
        base_url=base_url.rstrip("/"),
        headers={TENANT_HEADER: tenant_id, "Accept": "application/json"},
        auth=BearerTokenAuth(access_token),
        session=session,
    )


def request_params(entity: Entity, page_size: int) -> dict[str, Any]:
    """The query of one list read: the entity's filters, oldest change first, page size.

    >>> from pipelines.erp.entities import CONTACTS, ITEMS
    >>> request_params(CONTACTS, 500)
    {'includeArchived': 'true', 'order': 'UpdatedDateUTC ASC', 'pageSize': 500}
    >>> request_params(ITEMS, 500)
    {'order': 'UpdatedDateUTC ASC'}
    """
    params: dict[str, Any] = {**entity.params, "order": ORDER}
    if entity.paged:
        params["pageSize"] = page_size
    return params


def read_pages(client: RESTClient, entity: Entity, since: datetime | None,
               page_size: int = MAX_PAGE_SIZE) -> Iterator[list[dict[str, Any]]]:
    """Every page of ``entity`` changed since ``since`` (all of it when None), oldest first."""
    headers = {"If-Modified-Since": if_modified_since(since)} if since is not None else None
    paginator: BasePaginator = (XeroPaginator() if entity.paged
                                else SinglePagePaginator())
    for page in client.paginate(entity.path, params=request_params(entity, page_size),
                                headers=headers, paginator=paginator,
                                data_selector=entity.envelope):
        yield list(page)
