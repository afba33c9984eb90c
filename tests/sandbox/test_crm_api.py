"""The HubSpot CRM emulator as a connector sees it: paging, search windows, batch writes, errors,
auth, rate limits, associations, owners, properties and webhooks from API writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.store import Doc
from sandbox.webhooks import hubspot_v3_signature
from tests.sandbox.test_crm_seed import NOW, READONLY, open_crm, small_world

CONTACTS = "/crm/v3/objects/contacts"


@pytest.fixture
def crm(tmp_path: Path) -> tuple[TestClient, SystemContext]:
    return open_crm(tmp_path)


def search_body(filters: list[dict[str, Any]], *, after: str = "0", limit: int = 200,
                sorts: list[Any] | None = None, properties: list[str] | None = None,
                ) -> dict[str, Any]:
    """A search shaped like the connector sends it (every field the spec marks required)."""
    return {"filterGroups": [{"filters": filters}] if filters else [], "after": after,
            "limit": limit, "properties": properties or ["email"],
            "sorts": sorts if sorts is not None else ["lastmodifieddate"]}


def walk_list(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        page = client.get(path, params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        records += body["results"]
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return records


def walk_search(client: TestClient, path: str, filters: list[dict[str, Any]], limit: int,
                **kw: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after = "0"
    while True:
        page = client.post(path, json=search_body(filters, after=after, limit=limit, **kw))
        assert page.status_code == 200, page.text
        body = page.json()
        records += body["results"]
        nxt = body.get("paging", {}).get("next", {}).get("after")
        if nxt is None:
            return records
        after = nxt


# -- list and get ------------------------------------------------------------------------------
def test_list_paging_walks_every_live_record_once(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    records = walk_list(client, CONTACTS, limit=7)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == ctx.store.count("contacts", "archived = 0")
    assert set(records[0]["properties"]) == {"createdate", "email", "firstname", "hs_object_id",
                                             "lastmodifieddate", "lastname"}
    assert all(r["archived"] is False for r in records)


def test_archived_true_lists_only_archived_records(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    archived = walk_list(client, CONTACTS, limit=2, archived="true")
    assert len(archived) == ctx.store.count("contacts", "archived = 1") > 0
    assert all(r["archived"] is True and r["archivedAt"] for r in archived)


def test_list_returns_requested_properties_with_nulls(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    page = client.get(CONTACTS, params={"limit": 1, "properties": "phone,email,not_a_property"})
    record = page.json()["results"][0]
    assert record["id"] == "1001"
    assert record["properties"] == {
        "phone": "+1 555 0000", "email": None, "hs_object_id": "1001",
        "createdate": record["createdAt"], "lastmodifieddate": record["updatedAt"]}
    repeated = client.get(CONTACTS, params=[("limit", "1"), ("properties", "phone"),
                                            ("properties", "city")])
    assert {"phone", "city"} <= set(repeated.json()["results"][0]["properties"])


def test_list_limit_is_capped_at_100(tmp_path: Path) -> None:
    client, _ = open_crm(tmp_path, small_world(150))
    assert len(client.get(CONTACTS, params={"limit": 500}).json()["results"]) == 100


def test_get_by_id_email_and_archived(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    one = client.get(f"{CONTACTS}/1002", params={"properties": "city"})
    assert one.status_code == 200 and one.json()["properties"]["city"] == "Springfield"
    by_email = client.get(f"{CONTACTS}/PERSON2@example.com", params={"idProperty": "email"})
    assert by_email.json()["id"] == "1003"
    gone = client.get(f"{CONTACTS}/1040")  # archived in the small world
    assert gone.status_code == 404 and gone.json()["category"] == "OBJECT_NOT_FOUND"
    assert client.get(f"{CONTACTS}/1040", params={"archived": "true"}).json()["archived"]
    bad = client.get(f"{CONTACTS}/1002", params={"idProperty": "firstname"})
    assert bad.status_code == 400 and "not a unique identifier" in bad.json()["message"]


def test_deals_answer_on_both_paths_with_associations(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    by_name = client.get("/crm/v3/objects/deals", params={"limit": 3}).json()
    by_id = client.get("/crm/v3/objects/0-3", params={"limit": 3}).json()
    assert by_name["results"] == by_id["results"]
    deal = client.get("/crm/v3/objects/deals/9000003",
                      params={"associations": "line_items,contacts"}).json()
    assert deal["properties"]["pipeline"] == "default"
    assert [a["type"] for a in deal["associations"]["line_items"]["results"]] == \
        ["deal_to_line_item"] * 3
    assert deal["associations"]["contacts"]["results"] == [{"id": "1003",
                                                            "type": "deal_to_contact"}]


# -- search ------------------------------------------------------------------------------------
def test_search_window_pages_every_match_once(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    since = NOW - 10**8 + 30 * 60_000
    gte = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(since)}]
    found = walk_search(client, f"{CONTACTS}/search", gte, limit=13)
    expected = ctx.store.count("contacts", "archived = 0 AND updated_ms >= ?", (since,))
    assert len(found) == len({r["id"] for r in found}) == expected
    times = [r["properties"]["lastmodifieddate"] for r in found]
    assert times == sorted(times)
    first = client.post(f"{CONTACTS}/search", json=search_body(gte, limit=5)).json()
    assert first["total"] == expected and first["paging"]["next"]["after"] == "5"


def test_search_sorts_descending_in_object_form_and_iso_values(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    window = [{"propertyName": "lastmodifieddate", "operator": "GTE",
               "value": "2024-12-30T00:00:00Z"},
              {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(NOW)}]
    body = search_body(window, limit=200, sorts=[{"propertyName": "lastmodifieddate",
                                                  "direction": "DESCENDING"}])
    result = client.post(f"{CONTACTS}/search", json=body).json()
    times = [r["properties"]["lastmodifieddate"] for r in result["results"]]
    assert times and times == sorted(times, reverse=True)
    assert all("2024-12-30" <= t < "2025-01-01" for t in times)
    string_desc = client.post(f"{CONTACTS}/search", json={**body, "sorts": ["-lastmodifieddate"]})
    assert string_desc.json()["results"] == result["results"]


def test_search_eq_on_email_and_other_operators(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    eq = [{"propertyName": "email", "operator": "EQ", "value": "PERSON12@EXAMPLE.COM"}]
    result = client.post(f"{CONTACTS}/search", json=search_body(eq)).json()
    assert [r["id"] for r in result["results"]] == ["1013"] and result["total"] == 1
    no_email = [{"propertyName": "email", "operator": "NOT_HAS_PROPERTY"}]
    missing = client.post(f"{CONTACTS}/search", json=search_body(no_email)).json()
    assert missing["total"] > 0 and all(r["properties"]["email"] is None
                                        for r in missing["results"])
    deals = client.post("/crm/v3/objects/deals/search", json=search_body(
        [{"propertyName": "amount", "operator": "GT", "value": "50"},
         {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon"]}],
        properties=["amount", "dealstage"], sorts=["hs_lastmodifieddate"])).json()
    assert deals["total"] > 0
    assert all(float(r["properties"]["amount"]) > 50 and
               r["properties"]["dealstage"] == "closedwon" for r in deals["results"])


def test_search_stops_at_10000_results(tmp_path: Path) -> None:
    client, ctx = open_crm(tmp_path, small_world(20))
    body = {"id": "x", "properties": {}, "createdAt": "2025-01-01T00:00:00.000Z",
            "updatedAt": "2025-01-01T00:00:00.000Z", "archived": False}
    ctx.store.put_many("contacts", [
        Doc(id=str(100_000 + i), updated_ms=NOW + i,
            body={**body, "id": str(100_000 + i), "properties": {"hs_object_id": str(i)}})
        for i in range(10_050)])
    gte = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(NOW)}]
    last_ok = client.post(f"{CONTACTS}/search", json=search_body(gte, after="9800"))
    assert last_ok.status_code == 200
    assert last_ok.json()["total"] == 10_050
    assert last_ok.json()["paging"]["next"]["after"] == "10000"
    beyond = client.post(f"{CONTACTS}/search", json=search_body(gte, after="10000"))
    assert beyond.status_code == 400
    error = beyond.json()
    assert error["category"] == "VALIDATION_ERROR" and error["status"] == "error"
    assert "10,000" in error["message"] and error["correlationId"]
    too_big = client.post(f"{CONTACTS}/search", json=search_body(gte, limit=201))
    assert too_big.status_code == 400


def test_search_rejects_unknown_properties(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    bad = [{"propertyName": "shoe_size", "operator": "EQ", "value": "9"}]
    response = client.post(f"{CONTACTS}/search", json=search_body(bad))
    assert response.status_code == 400 and "shoe_size" in response.json()["message"]


# -- writes ------------------------------------------------------------------------------------
def test_batch_upsert_creates_and_updates_by_email(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    before = ctx.store.count("contacts")
    response = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "person3@example.com", "properties": {"city": "Leeds"}},
        {"idProperty": "email", "id": "New.Person@Example.com",
         "properties": {"firstname": "New", "lastname": "Person"}},
    ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "COMPLETE" and body["startedAt"] and body["completedAt"]
    by_new = {r["new"]: r for r in body["results"]}
    assert by_new[False]["id"] == "1004" and by_new[False]["properties"]["city"] == "Leeds"
    assert by_new[True]["properties"]["email"] == "new.person@example.com"
    assert ctx.store.count("contacts") == before + 1
    stored = client.get(f"{CONTACTS}/1004", params={"properties": "city"}).json()
    assert stored["properties"]["city"] == "Leeds"
    assert stored["updatedAt"] > stored["createdAt"]


def test_batch_upsert_partial_failure_is_207(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    response = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": [
        {"idProperty": "email", "id": "person5@example.com", "properties": {"city": "York"}},
        {"idProperty": "email", "id": "not-an-email", "properties": {"firstname": "X"}},
    ]})
    assert response.status_code == 207
    body = response.json()
    assert body["numErrors"] == 1 and len(body["results"]) == 1
    error = body["errors"][0]
    assert error["category"] == "VALIDATION_ERROR" and "INVALID_EMAIL" in error["message"]
    assert error["context"] == {"propertyName": ["email"]}
    assert ctx.store.find_by_key("contacts", "not-an-email") == []


def test_batch_over_100_inputs_is_400_and_writes_nothing(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    before = ctx.store.count("contacts")
    inputs = [{"idProperty": "email", "id": f"bulk{i}@example.com", "properties": {}}
              for i in range(101)]
    response = client.post(f"{CONTACTS}/batch/upsert", json={"inputs": inputs})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert "at most 100" in response.json()["message"]
    assert ctx.store.count("contacts") == before
    dupes = [{"idProperty": "email", "id": "a@example.com", "properties": {}}] * 2
    assert client.post(f"{CONTACTS}/batch/upsert", json={"inputs": dupes}).status_code == 400
    assert ctx.store.count("contacts") == before


def test_batch_create_update_read_archive(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    created = client.post(f"{CONTACTS}/batch/create", json={"inputs": [
        {"properties": {"email": "fresh@example.com", "firstname": "Fresh"}, "associations": []},
        {"properties": {"email": "person7@example.com"}, "associations": []},  # taken
    ]})
    assert created.status_code == 207
    assert created.json()["errors"][0]["category"] == "CONFLICT"
    assert "Existing ID: 1008" in created.json()["errors"][0]["message"]
    new_id = created.json()["results"][0]["id"]
    updated = client.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": new_id, "properties": {"lastname": "Newman"}},
        {"id": "999999", "properties": {"lastname": "Nobody"}},
    ]})
    assert updated.status_code == 207
    assert updated.json()["errors"][0]["context"] == {"ids": ["999999"]}
    read = client.post(f"{CONTACTS}/batch/read", json={
        "inputs": [{"id": "fresh@example.com"}, {"id": "ghost@example.com"}],
        "idProperty": "email", "properties": ["lastname"], "propertiesWithHistory": []})
    assert read.status_code == 207
    assert read.json()["results"][0]["properties"]["lastname"] == "Newman"
    assert client.post(f"{CONTACTS}/batch/archive",
                       json={"inputs": [{"id": new_id}]}).status_code == 204
    assert ctx.store.get("contacts", new_id).archived  # type: ignore[union-attr]
    ok = client.post(f"{CONTACTS}/batch/update", json={"inputs": [
        {"id": "1002", "properties": {"phone": "+44 1"}}]})
    assert ok.status_code == 200 and ok.json()["results"][0]["properties"]["phone"] == "+44 1"


def test_single_record_create_patch_delete(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    created = client.post("/crm/v3/objects/companies", json={
        "properties": {"name": "Acme", "domain": "acme.example"},
        "associations": [{"to": {"id": "1002"},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": 280}]}]})
    assert created.status_code == 201, created.text
    company = created.json()["id"]
    links = client.get("/crm/v4/objects/contacts/1002/associations/companies").json()
    assert company in [link["toObjectId"] for link in links["results"]]
    patched = client.patch(f"/crm/v3/objects/companies/{company}",
                           json={"properties": {"city": "Paris"}})
    assert patched.status_code == 200 and patched.json()["properties"]["city"] == "Paris"
    no_such = client.patch("/crm/v3/objects/companies/1", json={"properties": {"city": "X"}})
    assert no_such.status_code == 404
    assert client.delete(f"/crm/v3/objects/companies/{company}").status_code == 204
    assert client.get(f"/crm/v3/objects/companies/{company}").status_code == 404
    deal = client.post("/crm/v3/objects/deals", json={"properties": {
        "dealname": "Big", "dealstage": "won", "amount": "ten"}, "associations": []})
    assert deal.status_code == 400
    assert "INVALID_OPTION" in deal.json()["message"] and "INVALID_FLOAT" in deal.json()["message"]


def test_line_item_amount_patch_by_email_and_text_search(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    item = client.post("/crm/v3/objects/line_items", json={
        "properties": {"name": "Bolt", "quantity": "4", "price": "2.50"}, "associations": []})
    assert item.status_code == 201
    amount = client.get(f"/crm/v3/objects/line_items/{item.json()['id']}",
                        params={"properties": "amount,price"}).json()["properties"]
    assert amount["amount"] == "10" and amount["price"] == "2.5"
    patched = client.patch(f"{CONTACTS}/Person8@example.com", params={"idProperty": "email"},
                           json={"properties": {"jobtitle": "Buyer"}})
    assert patched.status_code == 200 and patched.json()["id"] == "1009"
    token = [{"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "buy*"}]
    assert [r["id"] for r in client.post(f"{CONTACTS}/search",
                                         json=search_body(token)).json()["results"]] == ["1009"]
    text = client.post(f"{CONTACTS}/search", json={**search_body([]), "query": "last17"}).json()
    assert [r["id"] for r in text["results"]] == ["1018"]
    assert client.get(CONTACTS, params={"after": "abc"}).status_code == 400


def test_bad_property_writes_change_nothing(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    before = ctx.store.get("contacts", "1002")
    for properties in ({"shoe_size": "9"}, {"hs_object_id": "5"}, {"hubspot_owner_id": "1"},
                       {"email": "person3@example.com"}):
        response = client.patch(f"{CONTACTS}/1002", json={"properties": properties})
        assert response.status_code in (400, 409), properties
        assert response.json()["status"] == "error"
    assert ctx.store.get("contacts", "1002") == before


# -- errors, auth, limits ------------------------------------------------------------------------
def test_errors_have_hubspot_shape(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    before = ctx.store.count("contacts")
    malformed = client.post(f"{CONTACTS}/batch/create", content=b'{"inputs": [',
                            headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["category"] == "VALIDATION_ERROR"
    assert malformed.json()["message"].startswith("Invalid input JSON")
    wrong_type = client.post(f"{CONTACTS}/batch/create", json={"inputs": "all of them"})
    assert wrong_type.status_code == 400 and "inputs" in wrong_type.json()["message"]
    nested = client.post(CONTACTS, json={"properties": {"email": {"a": 1}}, "associations": []})
    assert nested.status_code == 400
    assert client.get(CONTACTS, params={"limit": "many"}).status_code == 400
    unknown = client.get("/crm/v3/nothing/here")
    assert unknown.status_code == 404 and unknown.json()["category"] == "OBJECT_NOT_FOUND"
    tickets = client.get("/crm/v3/objects/tickets")
    assert tickets.status_code == 404 and "tickets" in tickets.json()["message"]
    assert ctx.store.count("contacts") == before


def test_auth_401_and_403(crm: tuple[TestClient, SystemContext]) -> None:
    client, ctx = crm
    missing = client.get(CONTACTS, headers={"Authorization": ""})
    assert missing.status_code == 401
    assert missing.json()["category"] == "INVALID_AUTHENTICATION"
    wrong = client.get(CONTACTS, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    unauthenticated_garbage = client.post(f"{CONTACTS}/batch/create", content=b"{", headers={
        "Authorization": "Bearer nope", "Content-Type": "application/json"})
    assert unauthenticated_garbage.status_code == 401  # auth is checked before the body
    readonly = {"Authorization": f"Bearer {READONLY}"}
    assert client.get(CONTACTS, headers=readonly).status_code == 200
    denied = client.patch(f"{CONTACTS}/1002", json={"properties": {"city": "X"}},
                          headers=readonly)
    assert denied.status_code == 403
    body = denied.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == \
        ["crm.objects.contacts.write"]
    products = client.post("/crm/v3/objects/products", headers=readonly,
                           json={"properties": {"name": "P"}, "associations": []})
    assert products.status_code == 403
    assert ctx.store.get("contacts", "1002").body["properties"]["city"] == "Springfield"  # type: ignore[union-attr]


def test_burst_limit_answers_429_with_headers(tmp_path: Path) -> None:
    client, ctx = open_crm(tmp_path, limits=True)
    ctx.set_limits(Limits(crm_burst=3, crm_interval_ms=10_000, crm_daily=1000))
    first = client.get(CONTACTS)
    assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert first.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "999"
    client.get(CONTACTS)
    client.get(CONTACTS)
    limited = client.get(CONTACTS)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    body = limited.json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    ctx.set_limits(Limits(enabled=False))
    assert client.get(CONTACTS).status_code == 200


def test_search_has_its_own_per_second_limit(tmp_path: Path) -> None:
    client, ctx = open_crm(tmp_path, limits=True)
    ctx.set_limits(Limits(crm_search_per_second=2, crm_burst=1))
    codes = [client.post(f"{CONTACTS}/search", json=search_body([])).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


# -- associations, owners, properties -------------------------------------------------------------
def test_v4_associations_with_primary_company_and_paging(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    company = client.get("/crm/v4/objects/contacts/1002/associations/companies").json()
    assert company["results"] == [{"toObjectId": "5000002", "associationTypes": [
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
        {"category": "HUBSPOT_DEFINED", "typeId": 279}]}]
    pages: list[str] = []
    after: str | None = None
    while True:
        params = {"limit": 1, **({"after": after} if after else {})}
        body = client.get("/crm/v4/objects/deals/9000003/associations/line_items",
                          params=params).json()
        pages += [link["toObjectId"] for link in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    assert pages == ["12000007", "12000008", "12000009"]
    batch = client.post("/crm/v4/associations/contacts/companies/batch/read",
                        json={"inputs": [{"id": "1002"}, {"id": "1001"}]})
    assert batch.status_code == 207  # contact 1001 has no company
    assert batch.json()["results"][0]["from"] == {"id": "1002"}
    assert batch.json()["errors"][0]["context"] == {"fromObjectId": ["1001"]}
    assert client.get("/crm/v4/objects/contacts/424242/associations/companies").status_code \
        == 404


def test_owners_list_filter_and_get(crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    owners = client.get("/crm/v3/owners").json()["results"]
    assert [o["id"] for o in owners] == ["70000001", "70000002"]
    assert owners[0]["type"] == "PERSON" and owners[0]["userId"] == 26000001
    archived = client.get("/crm/v3/owners", params={"archived": "true"}).json()["results"]
    assert [o["email"] for o in archived] == ["rep2@goldloop.example"]
    filtered = client.get("/crm/v3/owners", params={"email": "REP1@goldloop.example"}).json()
    assert [o["id"] for o in filtered["results"]] == ["70000002"]
    assert client.get("/crm/v3/owners/70000002").json()["email"] == "rep1@goldloop.example"
    by_user = client.get("/crm/v3/owners/26000001", params={"idProperty": "userId"})
    assert by_user.json()["id"] == "70000001"
    assert client.get("/crm/v3/owners/1").status_code == 404


def test_custom_property_can_be_created_and_written(
        crm: tuple[TestClient, SystemContext]) -> None:
    client, _ = crm
    names = [p["name"] for p in client.get("/crm/v3/properties/contacts").json()["results"]]
    assert {"email", "lastmodifieddate", "erp_contact_id"} <= set(names)
    created = client.post("/crm/v3/properties/contacts", json={
        "name": "golden_id", "label": "Golden id", "type": "string", "fieldType": "text",
        "groupName": "contactinformation", "hasUniqueValue": True})
    assert created.status_code == 201 and created.json()["hasUniqueValue"] is True
    written = client.patch(f"{CONTACTS}/1002", json={"properties": {"golden_id": "G-1"}})
    assert written.status_code == 200
    found = client.get(f"{CONTACTS}/G-1", params={"idProperty": "golden_id"})
    assert found.json()["id"] == "1002"


def test_api_writes_send_signed_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, bytes, dict[str, str]]] = []
    monkeypatch.setattr("sandbox.context.send_in_background",
                        lambda url, body, headers: sent.append((url, body, dict(headers))))
    client, _ = open_crm(tmp_path, webhook_url="http://127.0.0.1:9/hooks")
    client.patch(f"{CONTACTS}/1002", json={"properties": {"city": "Oslo", "phone": "+47 1"}})
    client.patch(f"{CONTACTS}/1002", json={"properties": {"city": "Oslo"}})  # no change: no event
    assert len(sent) == 1
    url, body, headers = sent[0]
    assert url == "http://127.0.0.1:9/hooks"
    assert headers["X-HubSpot-Signature-v3"] == hubspot_v3_signature(
        "sandbox-hubspot-client-secret", "POST", url, body,
        int(headers["X-HubSpot-Request-Timestamp"]))
    events = json.loads(body)
    assert {(e["propertyName"], e["propertyValue"]) for e in events} == {
        ("city", "Oslo"), ("phone", "+47 1")}
    assert {e["subscriptionType"] for e in events} == {"contact.propertyChange"}
    assert {e["changeSource"] for e in events} == {"INTEGRATION"}
