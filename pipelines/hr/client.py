"""BambooHR reads: the employee dataset (bulk, paged), the change feed, filtered bulk reads.

HTTP Basic with the API key as user name and ``x`` as password; ``Accept: application/json`` on
every request; the hr paced session (10 requests/s by default: BambooHR publishes no quota).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from pipelines.common.pacing import paced_session
from pipelines.hr.records import FIELDS

DATASET = "employee"
PAGE_SIZE = 1000  # the Datasets API maximum
IDS_PER_FILTER = 200  # employee ids per ``employeeId in (...)`` filter


def make_client(base_url: str, api_key: str) -> RESTClient:
    """A REST client for one BambooHR company (``.../api/v1``)."""
    return RESTClient(
        base_url=base_url.rstrip("/"),
        auth=HttpBasicAuth(api_key, "x"),
        headers={"Accept": "application/json"},
        session=paced_session("hr"),
    )


def api_root(base_url: str) -> str:
    """The company's API root without the version (the datasets API lives under ``/api/v2``).

    >>> api_root("https://x.bamboohr.com/api/v1/")
    'https://x.bamboohr.com/api'
    """
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def quote(value: str) -> str:
    """An OData string literal.

    >>> quote("O'Neil")
    "'O''Neil'"
    """
    return "'" + value.replace("'", "''") + "'"


def dataset_pages(client: RESTClient, base_url: str,
                  filter_text: str | None = None) -> Iterator[list[dict[str, Any]]]:
    """Rows of the employee dataset (``{"employeeId": ..}`` dicts), 1,000 a page."""
    body: dict[str, Any] = {
        "fields": list(FIELDS), "filter": filter_text, "orderBy": "employeeId asc",
        "page": 1, "pageSize": PAGE_SIZE,
    }
    paginator = PageNumberPaginator(base_page=1, page=1, total_path="meta.totalPages",
                                    page_body_path="page")
    url = f"{api_root(base_url)}/v2/datasets/{DATASET}/data"
    for page in client.paginate(url, method="POST", json=body, paginator=paginator,
                                data_selector="data"):
        yield [_flat(item) for item in page]


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    """A dataset item's ``fields`` plus anything else an API release adds beside them.

    >>> _flat({"fields": {"employeeId": "1"}, "note": "new"})
    {'note': 'new', 'employeeId': '1'}
    """
    fields = item.get("fields")
    if not isinstance(fields, dict):
        return item
    return {**{k: v for k, v in item.items() if k != "fields"}, **fields}


def employees_by_id(client: RESTClient, base_url: str,
                    ids: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
    """Dataset rows of the given employees, in filtered bulk reads."""
    for i in range(0, len(ids), IDS_PER_FILTER):
        batch = ids[i:i + IDS_PER_FILTER]
        text = "employeeId in (" + ",".join(quote(str(x)) for x in batch) + ")"
        yield from dataset_pages(client, base_url, text)


def changed_since(client: RESTClient, since_iso: str) -> tuple[str | None, dict[str, dict]]:
    """``(latest, {id: {"id", "action", "lastChanged"}})`` of ``GET employees/changed``."""
    response = client.get("/employees/changed", params={"since": since_iso})
    response.raise_for_status()
    payload = response.json()
    employees = payload.get("employees") or {}
    if isinstance(employees, list):  # tolerate a list instead of the documented map
        employees = {str(e.get("id")): e for e in employees}
    return payload.get("latest"), {str(k): v for k, v in employees.items()}
