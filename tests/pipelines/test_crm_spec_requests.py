"""One client, two servers: every request the HubSpot connector sends is valid against
HubSpot's published OpenAPI files (list, search with all five required fields, v4 batch read,
owners), on a full run and on an incremental run."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
import pytest
from openapi_core import OpenAPI

from pipelines.run import extract
from tests.contract.openapi_check import check, load_spec
from tests.contract.test_crm_contract import hubspot_patch
from tests.pipelines.sandbox_server import serve_system
from tests.pipelines.test_crm_extract import crm_world
from tests.pipelines.warehouses import duckdb_settings

HOST = "http://127.0.0.1:18101"
SPEC_BY_PREFIX = {
    "/crm/v3/objects/contacts": "contacts.json",
    "/crm/v3/objects/companies": "companies.json",
    "/crm/v3/objects/deals": "deals.objects-deals-path.json",
    "/crm/v3/objects/line_items": "lineItems.json",
    "/crm/v3/objects/products": "products.json",
    "/crm/v3/owners": "crmOwners.json",
    "/crm/v4/associations": "associations.v4.json",
}


@functools.cache
def spec(name: str) -> OpenAPI:
    return load_spec(f"hubspot/{name}", hubspot_patch, HOST)


def problems_of(request: httpx.Request) -> list[str]:
    path = request.url.path
    name = next(v for k, v in SPEC_BY_PREFIX.items() if path.startswith(k))
    as_sent = httpx.Request(request.method, HOST + path + (
        f"?{request.url.query.decode()}" if request.url.query else ""),
        headers=request.headers, content=request.content)
    return check(spec(name), httpx.Response(200, request=as_sent), host_url=HOST,
                 request_only=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_request_of_a_full_and_an_incremental_run_matches_the_spec(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = duckdb_settings(tmp_path)
    with serve_system("crm", crm_world(), tmp_path / "sandbox") as crm:
        monkeypatch.setenv("SOURCES__CRM__BASE_URL", crm.base_url)
        monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", crm.credentials.crm_token)
        monkeypatch.setenv("SOURCES__CRM__REQUESTS_PER_SECOND", "0")
        monkeypatch.setenv("SOURCES__CRM__SEARCH_REQUESTS_PER_SECOND", "0")
        extract(["crm"], settings=settings)
        crm.mutate(0.05)
        extract(["crm"], settings=settings)
        sent = list(crm.requests)
    kinds = {(r.method, r.url.path.rsplit("/", 1)[-1]) for r in sent}
    assert ("POST", "search") in kinds and ("POST", "read") in kinds
    assert ("GET", "contacts") in kinds and ("GET", "owners") in kinds
    problems = {f"{r.method} {r.url.path}: {p}" for r in sent for p in problems_of(r)}
    assert problems == set()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_check_rejects_a_search_without_a_required_field() -> None:
    bad = httpx.Request("POST", f"{HOST}/crm/v3/objects/contacts/search",
                        json={"filterGroups": [], "limit": 200, "properties": [], "sorts": []})
    assert any("after" in p for p in problems_of(bad))
