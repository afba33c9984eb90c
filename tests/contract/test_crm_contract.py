"""The CRM emulator against HubSpot's published OpenAPI files: every request here is shaped the
way a connector sends it, and both the request and the emulator's answer must match the spec.

The spec copies are patched (see ``hubspot_patch``): ``example`` keys stripped, the shared error
response's ``*/*`` media type read as JSON (both listed in specs/README.md), and record property
values allowed to be ``null``, which HubSpot returns for a requested property that has no value
although its spec types the values as plain strings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from starlette.testclient import TestClient

from sandbox.config import Limits
from sandbox.context import SystemContext
from tests.contract.openapi_check import check, load_spec, rename_media_type, strip_key
from tests.sandbox.test_crm_seed import NOW, generated_world, open_crm

HOST = "http://127.0.0.1:18101"
RECORD_SCHEMAS = ("SimplePublicObject", "SimplePublicObjectWithAssociations",
                  "SimplePublicUpsertObject")

# (spec file, path segment) for every object path the emulator serves
OBJECT_SPECS = [
    ("contacts.json", "contacts"), ("companies.json", "companies"), ("deals.json", "0-3"),
    ("deals.objects-deals-path.json", "deals"), ("lineItems.json", "line_items"),
    ("products.json", "products"),
]


def hubspot_patch(spec: dict[str, Any]) -> None:
    """Fix the HubSpot files' known defects in a copy (see the module docstring)."""
    strip_key(spec, "example")
    rename_media_type(spec, "*/*", "application/json")
    schemas = spec.get("components", {}).get("schemas", {})
    for name in RECORD_SCHEMAS:
        values = schemas.get(name, {}).get("properties", {}).get("properties", {})
        if "additionalProperties" in values:
            values["additionalProperties"]["nullable"] = True


@functools.cache
def spec(name: str) -> OpenAPI:
    return load_spec(f"hubspot/{name}", hubspot_patch, HOST)


def assert_valid(spec_name: str, response: httpx.Response, status: int, *,
                 bad_request: bool = False) -> dict[str, Any]:
    """The response has ``status`` and the exchange matches ``spec_name``; returns the body.

    With ``bad_request`` the request must break the spec (a deliberate client error) while the
    answer still matches it.
    """
    assert response.status_code == status, response.text
    problems = check(spec(spec_name), response, host_url=HOST)
    if bad_request:
        assert any(p.startswith("request:") for p in problems), "the request was valid"
        problems = [p for p in problems if not p.startswith("request:")]
    assert problems == [], "\n".join(problems)
    return response.json() if response.content else {}


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, SystemContext]]:
    client, ctx = open_crm(Path(tmp_path_factory.mktemp("crm_contract")))
    yield client, ctx
    client.close()


def search_request(modified: str, after: str = "0") -> dict[str, Any]:
    """An incremental search exactly as the connector sends it (all five required fields)."""
    return {"filterGroups": [{"filters": [
                {"propertyName": modified, "operator": "GTE", "value": str(NOW - 10**9)},
                {"propertyName": modified, "operator": "LT", "value": str(NOW + 10**9)}]}],
            "sorts": [modified], "properties": ["hs_object_id", modified], "limit": 5,
            "after": after}


def _properties(segment: str) -> dict[str, str]:
    return {
        "contacts": {"email": f"contract-{segment}@example.com", "firstname": "Con"},
        "companies": {"name": "Contract Co", "domain": "contract.example"},
        "0-3": {"dealname": "Contract deal", "dealstage": "qualifiedtobuy", "amount": "10"},
        "deals": {"dealname": "Contract deal 2", "pipeline": "default"},
        "line_items": {"name": "Line", "quantity": "2", "price": "5.5"},
        "products": {"name": "Contract product", "hs_sku": "C-1", "price": "9"},
    }[segment]


@pytest.mark.parametrize(("spec_name", "segment"), OBJECT_SPECS)
def test_object_reads_match_the_spec(crm: tuple[TestClient, SystemContext], spec_name: str,
                                     segment: str) -> None:
    client, _ = crm
    base = f"/crm/v3/objects/{segment}"
    page = assert_valid(spec_name, client.get(base, params={
        "limit": 3, "properties": "hs_object_id,createdate,name,email,city"}), 200)
    record_id = page["results"][0]["id"]
    assert_valid(spec_name, client.get(base, params={"after": page["paging"]["next"]["after"],
                                                     "limit": 2, "archived": "false"}), 200)
    assert_valid(spec_name, client.get(f"{base}/{record_id}", params={"properties": "city"}),
                 200)
    modified = "lastmodifieddate" if segment == "contacts" else "hs_lastmodifieddate"
    found = assert_valid(spec_name, client.post(f"{base}/search",
                                                json=search_request(modified)), 200)
    assert found["total"] > 0
    assert_valid(spec_name, client.post(f"{base}/search",
                                        json=search_request(modified, after="5")), 200)
    assert_valid(spec_name, client.post(f"{base}/batch/read", json={
        "inputs": [{"id": record_id}], "properties": ["createdate"],
        "propertiesWithHistory": []}), 200)
    assert_valid(spec_name, client.post(f"{base}/batch/read", json={
        "inputs": [{"id": record_id}, {"id": "1"}], "properties": [],
        "propertiesWithHistory": []}), 207)


@pytest.mark.parametrize(("spec_name", "segment"), OBJECT_SPECS)
def test_object_writes_match_the_spec(crm: tuple[TestClient, SystemContext], spec_name: str,
                                      segment: str) -> None:
    client, _ = crm
    base = f"/crm/v3/objects/{segment}"
    props = _properties(segment)
    created = assert_valid(spec_name, client.post(base, json={"properties": props,
                                                               "associations": []}), 201)
    record_id = created["id"]
    assert_valid(spec_name, client.patch(f"{base}/{record_id}",
                                         json={"properties": {"description": "changed"}}
                                         if segment not in ("contacts", "0-3", "deals")
                                         else {"properties": {"hubspot_owner_id": "70000001"}}),
                 200)
    batch = assert_valid(spec_name, client.post(f"{base}/batch/create", json={"inputs": [
        {"properties": {k: v + "2" if k != "price" else v for k, v in props.items()
                        if k not in ("email", "dealstage", "pipeline", "amount", "quantity")},
         "associations": []}]}), 201)
    second = batch["results"][0]["id"]
    assert_valid(spec_name, client.post(f"{base}/batch/update", json={"inputs": [
        {"id": second, "properties": {"hubspot_owner_id": "70000002"}}]}
        if segment in ("contacts", "companies", "0-3", "deals") else {"inputs": [
        {"id": second, "properties": {"name": "renamed"}}]}), 200)
    assert_valid(spec_name, client.post(f"{base}/batch/update", json={"inputs": [
        {"id": "1", "properties": {}}]}), 207)
    assert_valid(spec_name, client.post(f"{base}/batch/upsert", json={"inputs": [
        {"id": second, "idProperty": "hs_object_id", "properties": {}}]}), 200)
    assert_valid(spec_name, client.post(f"{base}/batch/archive",
                                        json={"inputs": [{"id": second}]}), 204)
    assert_valid(spec_name, client.delete(f"{base}/{record_id}"), 204)


@pytest.mark.parametrize(("spec_name", "segment"), OBJECT_SPECS)
def test_object_errors_match_the_spec(crm: tuple[TestClient, SystemContext], spec_name: str,
                                      segment: str) -> None:
    client, _ = crm
    base = f"/crm/v3/objects/{segment}"
    assert_valid(spec_name, client.get(f"{base}/1"), 404)
    modified = "lastmodifieddate" if segment == "contacts" else "hs_lastmodifieddate"
    assert_valid(spec_name, client.post(f"{base}/search",
                                        json=search_request(modified, after="9999")), 400)
    assert_valid(spec_name, client.get(base, headers={"Authorization": "Bearer wrong"}), 401)
    assert_valid(spec_name, client.post(f"{base}/batch/create", json={"inputs": [
        {"properties": {"not_a_property": "x"}, "associations": []}] * 101}), 400)
    assert_valid(spec_name, client.patch(f"{base}/1", json={"properties": {}}), 404)


def test_contact_upserts_and_partial_failures_match_the_spec(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    base = "/crm/v3/objects/contacts"
    body = assert_valid("contacts.json", client.post(f"{base}/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "person3@example.com", "properties": {"city": "Bath"}},
        {"idProperty": "email", "id": "upsert.new@example.com", "properties": {}}]}), 200)
    assert sorted(r["new"] for r in body["results"]) == [False, True]
    partial = assert_valid("contacts.json", client.post(f"{base}/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "person4@example.com", "properties": {"city": "Ely"}},
        {"idProperty": "email", "id": "broken@", "properties": {}}]}), 207)
    assert partial["numErrors"] == 1
    assert_valid("contacts.json", client.post(f"{base}/batch/create", json={"inputs": [
        {"properties": {"email": "person5@example.com"}, "associations": []}]}), 207)
    assert_valid("contacts.json", client.get(f"{base}/person6@example.com",
                                             params={"idProperty": "email"}), 200)
    assert_valid("contacts.json", client.get(base, params={"archived": "true", "limit": 2}), 200)
    assert_valid("contacts.json", client.patch(
        f"{base}/1002", json={"properties": {"city": "X"}},
        headers={"Authorization": "Bearer pat-sandbox-crm-readonly"}), 403)
    assert_valid("contacts.json", client.post(
        f"{base}/batch/create", content=b"{nope", headers={"Content-Type": "application/json"}),
        400, bad_request=True)
    assert_valid("contacts.json", client.get(base, params={"limit": "ten"}), 400,
                 bad_request=True)


def test_rate_limited_answers_match_the_spec(tmp_path: Path) -> None:
    client, ctx = open_crm(tmp_path, limits=True)
    ctx.set_limits(Limits(crm_burst=1, crm_search_per_second=1))
    assert_valid("contacts.json", client.get("/crm/v3/objects/contacts"), 200)
    assert_valid("contacts.json", client.get("/crm/v3/objects/contacts"), 429)
    search = "/crm/v3/objects/contacts/search"
    assert_valid("contacts.json", client.post(search, json=search_request("lastmodifieddate")),
                 200)
    assert_valid("contacts.json", client.post(search, json=search_request("lastmodifieddate")),
                 429)


def test_owners_match_the_spec(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    page = assert_valid("crmOwners.json", client.get("/crm/v3/owners", params={"limit": 1}), 200)
    assert_valid("crmOwners.json", client.get("/crm/v3/owners", params={
        "limit": 1, "after": page["paging"]["next"]["after"]}), 200)
    assert_valid("crmOwners.json", client.get("/crm/v3/owners", params={
        "email": "rep0@goldloop.example", "archived": "false"}), 200)
    assert_valid("crmOwners.json", client.get("/crm/v3/owners/70000001"), 200)
    assert_valid("crmOwners.json", client.get("/crm/v3/owners/26000003",
                                              params={"idProperty": "userId",
                                                      "archived": "true"}), 200)
    assert_valid("crmOwners.json", client.get("/crm/v3/owners/12"), 404)


def test_associations_match_the_spec(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    spec_name = "associations.v4.json"
    page = assert_valid(spec_name, client.get(
        "/crm/v4/objects/deals/9000003/associations/line_items", params={"limit": 2}), 200)
    assert_valid(spec_name, client.get(
        "/crm/v4/objects/deals/9000003/associations/line_items",
        params={"limit": 2, "after": page["paging"]["next"]["after"]}), 200)
    assert_valid(spec_name, client.get("/crm/v4/objects/contacts/1002/associations/companies"),
                 200)
    assert_valid(spec_name, client.post("/crm/v4/associations/deals/contacts/batch/read",
                                        json={"inputs": [{"id": "9000001"}, {"id": "9000002"}]}),
                 200)
    assert_valid(spec_name, client.post("/crm/v4/associations/contacts/companies/batch/read",
                                        json={"inputs": [{"id": "1002"}, {"id": "1001"}]}), 207)
    assert_valid(spec_name, client.get("/crm/v4/objects/contacts/1/associations/companies"),
                 404)


def test_properties_match_the_spec(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    spec_name = "properties.json"
    assert_valid(spec_name, client.get("/crm/v3/properties/contacts"), 200)
    assert_valid(spec_name, client.get("/crm/v3/properties/deals/dealstage"), 200)
    assert_valid(spec_name, client.post("/crm/v3/properties/companies", json={
        "name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select",
        "groupName": "companyinformation",
        "options": [{"label": "Gold", "value": "gold", "hidden": False}]}), 201)
    assert_valid(spec_name, client.get("/crm/v3/properties/deals/nothing"), 404)


def test_generic_objects_spec_accepts_the_same_answers(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    assert_valid("objects.json", client.get("/crm/v3/objects/line_items",
                                            params={"limit": 2}), 200)
    assert_valid("objects.json", client.post("/crm/v3/objects/companies/search",
                                             json=search_request("hs_lastmodifieddate")), 200)


def test_every_generated_record_matches_the_spec(tmp_path: Path) -> None:
    """The generator's messy world, read in full the way the connector reads it."""
    client, ctx = open_crm(tmp_path, generated_world())
    for spec_name, segment in OBJECT_SPECS:
        modified = "lastmodifieddate" if segment == "contacts" else "hs_lastmodifieddate"
        for archived in ("false", "true"):
            after: str | None = None
            while True:
                params = {"limit": 100, "archived": archived,
                          "properties": f"email,phone,name,amount,price,closedate,{modified}",
                          **({"after": after} if after else {})}
                page = assert_valid(spec_name, client.get(f"/crm/v3/objects/{segment}",
                                                          params=params), 200)
                after = page.get("paging", {}).get("next", {}).get("after")
                if after is None:
                    break
        everything = {**search_request(modified), "limit": 200}
        everything["filterGroups"][0]["filters"] = [
            {"propertyName": modified, "operator": "GTE", "value": "0"}]
        found = assert_valid(spec_name, client.post(f"/crm/v3/objects/{segment}/search",
                                                    json=everything), 200)
        table = "deals" if segment == "0-3" else segment
        assert found["total"] == ctx.store.count(table, "archived = 0") > 0
    assert_valid("crmOwners.json", client.get("/crm/v3/owners", params={"archived": "true"}),
                 200)
