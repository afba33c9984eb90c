"""Per-record outcomes parsed from each vendor's answers (HubSpot 207, Xero ValidationErrors,
Shopify 422), batch splitting and retries: the writers against scripted HTTP answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from reverse_etl.connections import Connection
from reverse_etl.destinations.crm import CrmContactsWriter
from reverse_etl.destinations.erp import ErpContactsWriter
from reverse_etl.destinations.shop import ShopCustomersWriter
from reverse_etl.plan import Change
from reverse_etl.spec import SyncSpec, find_spec

Handler = Callable[[httpx.Request], httpx.Response]


def fast(spec: SyncSpec) -> SyncSpec:
    """No pacing and no backoff waits: scripted answers need neither."""
    retry = spec.retry.model_copy(update={"backoff_seconds": 0.0, "max_retries": 2})
    return spec.with_pace(0).model_copy(update={"retry": retry})


def client(handler: Handler, seen: list[httpx.Request]) -> httpx.Client:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)
    return httpx.Client(transport=httpx.MockTransport(record))


def contact(key: str, email: str, destination_id: str | None = None) -> Change:
    return Change(key, "update" if destination_id else "insert", destination_id,
                  {"email": email, "firstname": key.upper(), "city": None}, f"h-{key}")


def crm_writer(handler: Handler, seen: list[httpx.Request]) -> CrmContactsWriter:
    return CrmContactsWriter(fast(find_spec("crm_contacts")),
                             Connection("crm", "http://crm.test", "tok"),
                             client=client(handler, seen))


def hubspot_result(email: str, record_id: str) -> dict[str, Any]:
    return {"id": record_id, "properties": {"email": email}, "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-02-01T10:00:00.000Z", "archived": False}


def test_hubspot_207_errors_land_on_their_records_by_context_ids() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(207, json={"status": "COMPLETE", "results": [
            hubspot_result("a@x.io", "11")], "numErrors": 1, "errors": [{
                "status": "error", "category": "OBJECT_NOT_FOUND", "message": "gone",
                "context": {"ids": ["22"]}}]})

    seen: list[httpx.Request] = []
    writer = crm_writer(handler, seen)
    outcomes = writer.write("update", [contact("a", "a@x.io", "11"), contact("b", "b@x.io", "22")])
    assert [(o.key, o.status, o.reason) for o in outcomes] == [
        ("a", "ok", None), ("b", "rejected", "OBJECT_NOT_FOUND: gone")]
    assert outcomes[0].destination_updated_at is not None
    sent = json.loads(seen[0].content)
    assert sent["inputs"][0] == {"id": "11", "properties": {"email": "a@x.io",
                                                            "firstname": "A"}}  # null skipped
    assert seen[0].url.path == "/crm/v3/objects/contacts/batch/update"


def test_hubspot_ambiguous_errors_are_resolved_one_input_at_a_time() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        ok = [hubspot_result(i["id"], "1") for i in inputs if not i["id"].startswith("bad")]
        errors = [{"status": "error", "category": "VALIDATION_ERROR", "message":
                   'Property values were not valid: [{"isValid":false,"message":"Email address '
                   f'{i["id"]} is invalid","error":"INVALID_EMAIL","name":"email"}}]',
                   "context": {}} for i in inputs if i["id"].startswith("bad")]
        return httpx.Response(207 if errors else 200,
                              json={"status": "COMPLETE", "results": ok, "errors": errors})

    seen: list[httpx.Request] = []
    outcomes = crm_writer(handler, seen).write("upsert", [
        contact("a", "a@x.io"), contact("b", "bad1"), contact("c", "bad2")])
    assert [(o.key, o.status) for o in outcomes] == [
        ("a", "ok"), ("b", "rejected"), ("c", "rejected")]
    assert outcomes[1].reason == ("VALIDATION_ERROR: email: Email address bad1 is invalid "
                                  "(INVALID_EMAIL)")
    assert [len(json.loads(r.content)["inputs"]) for r in seen] == [3, 1, 1]
    assert json.loads(seen[0].content)["inputs"][0]["idProperty"] == "email"


def test_a_batch_rejected_whole_is_split_until_the_bad_input_stands_alone() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        inputs = json.loads(request.content)["inputs"]
        if any(i["properties"]["firstname"] == "POISON" for i in inputs):
            return httpx.Response(400, json={"status": "error", "category": "VALIDATION_ERROR",
                                             "message": "Invalid input JSON"})
        return httpx.Response(200, json={"results": [hubspot_result(i["id"], "1")
                                                     for i in inputs]})

    changes = [contact(f"k{i}", f"k{i}@x.io") for i in range(8)]
    changes[5].payload["firstname"] = "POISON"
    seen: list[httpx.Request] = []
    outcomes = crm_writer(handler, seen).write("upsert", changes)
    assert [o.key for o in outcomes if o.status == "ok"] == [
        "k0", "k1", "k2", "k3", "k4", "k6", "k7"]
    assert [(o.key, o.reason) for o in outcomes if o.status != "ok"] == [
        ("k5", "VALIDATION_ERROR: Invalid input JSON")]
    assert len(seen) == 7  # 8 → 4+4 → 2+2 → 1+1


def test_429_and_5xx_are_retried_and_exhaustion_leaves_records_failed() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}, json={}),
                    httpx.Response(503, json={}),
                    httpx.Response(200, json={"results": [hubspot_result("a@x.io", "1")]})])
    seen: list[httpx.Request] = []
    writer = crm_writer(lambda request: next(answers), seen)
    outcome = writer.write("upsert", [contact("a", "a@x.io")])[0]
    assert outcome.status == "ok" and len(seen) == 3
    stats = writer.pace_stats()[0]
    assert (stats.requests, stats.retries, stats.throttled) == (3, 2, 1)
    down = crm_writer(lambda request: httpx.Response(502, text="bad gateway"), [])
    failed = down.write("upsert", [contact("a", "a@x.io"), contact("b", "b@x.io")])
    assert {(o.status, o.reason) for o in failed} == {("failed", "HTTP 502: bad gateway")}


def erp_writer(handler: Handler, seen: list[httpx.Request]) -> ErpContactsWriter:
    return ErpContactsWriter(fast(find_spec("erp_contacts")),
                             Connection("erp", "http://erp.test/api.xro/2.0", "tok", "tenant"),
                             client=client(handler, seen))


def xero_contact(key: str, name: str, contact_id: str | None = None) -> Change:
    return Change(key, "update" if contact_id else "insert", contact_id,
                  {"Name": name, "ContactNumber": key, "Phones.DEFAULT.PhoneNumber": "+1555",
                   "EmailAddress": None}, f"h-{key}")


def test_xero_validation_errors_reject_their_element_and_the_rest_lands() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        elements = json.loads(request.content)["Contacts"]
        answer = []
        for element in elements:
            if element["Name"] == "Taken":
                answer.append({**element, "StatusAttributeString": "ERROR", "ValidationErrors": [
                    {"Message": "The contact name Taken is already assigned to another "
                                "contact."}]})
            else:
                answer.append({**element, "ContactID": element.get("ContactID", "new-id"),
                               "UpdatedDateUTC": "/Date(1767225600000+0000)/",
                               "StatusAttributeString": "OK"})
        return httpx.Response(200, json={"Id": "req-1", "Status": "OK", "Contacts": answer})

    seen: list[httpx.Request] = []
    outcomes = erp_writer(handler, seen).write("contacts", [
        xero_contact("a", "Ann"), xero_contact("b", "Taken"), xero_contact("c", "Cy", "c-id")])
    assert [(o.key, o.status, o.destination_id) for o in outcomes] == [
        ("a", "ok", "new-id"), ("b", "rejected", None), ("c", "ok", "c-id")]
    assert outcomes[1].reason == ("The contact name Taken is already assigned to another "
                                  "contact.")
    assert str(outcomes[0].destination_updated_at) == "2026-01-01 00:00:00"
    request = seen[0]
    assert request.url.params["summarizeErrors"] == "false"
    assert request.headers["xero-tenant-id"] == "tenant"
    assert request.headers["Idempotency-Key"].startswith("goldloop-")
    sent = json.loads(request.content)["Contacts"]
    assert sent[0] == {"Name": "Ann", "ContactNumber": "a",
                       "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "+1555"}]}
    assert sent[2]["ContactID"] == "c-id"


def test_xero_idempotency_key_is_deterministic_and_changes_with_attempts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        elements = json.loads(request.content)["Contacts"]
        return httpx.Response(200, json={"Contacts": [{**e, "ContactID": "x",
                                                       "StatusAttributeString": "OK"}
                                                      for e in elements]})

    writer = erp_writer(handler, seen)
    writer.write("contacts", [xero_contact("a", "Ann")])
    writer.write("contacts", [xero_contact("a", "Ann")])
    retried = xero_contact("a", "Ann")
    retried.attempts = 1
    writer.write("contacts", [retried])
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert keys[0] == keys[1] != keys[2]


def test_xero_whole_request_400_is_split() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        elements = json.loads(request.content)["Contacts"]
        if any(e["Name"] == "" for e in elements):
            return httpx.Response(400, json={"ErrorNumber": 14, "Type": "PostDataInvalidException",
                                             "Message": "JSON request body could not be read"})
        return httpx.Response(200, json={"Contacts": [{**e, "ContactID": "x",
                                                       "StatusAttributeString": "OK"}
                                                      for e in elements]})

    outcomes = erp_writer(handler, []).write("contacts", [
        xero_contact("a", "Ann"), xero_contact("b", ""), xero_contact("c", "Cy")])
    assert [(o.key, o.status) for o in outcomes] == [
        ("a", "ok"), ("b", "rejected"), ("c", "ok")]
    assert outcomes[1].reason == ("PostDataInvalidException: JSON request body could not be "
                                  "read")


def shop_writer(handler: Handler, seen: list[httpx.Request]) -> ShopCustomersWriter:
    return ShopCustomersWriter(
        fast(find_spec("shop_customers")),
        Connection("shop", shops={"north": ("http://shop.test/shops/north", "tok")}),
        client=client(handler, seen))


def shop_change(key: str, email: str, customer_id: str | None = None) -> Change:
    return Change(key, "update" if customer_id else "insert", customer_id,
                  {"email": email, "first_name": "Ann", "accepts_marketing": False},
                  f"h-{key}", shop="north")


def test_shopify_422_is_the_records_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"errors": {"email": ["has already been taken"]}})

    seen: list[httpx.Request] = []
    outcome = shop_writer(handler, seen).write("north", [shop_change("a", "a@x.io", "7")])[0]
    assert (outcome.status, outcome.reason, outcome.http_status) == (
        "rejected", "email has already been taken", 422)
    assert seen[0].method == "PUT" and seen[0].url.path == "/shops/north/customers/7.json"
    assert json.loads(seen[0].content) == {"customer": {
        "email": "a@x.io", "first_name": "Ann", "accepts_marketing": False}}


def test_shopify_create_looks_up_by_email_first_and_never_posts_twice() -> None:
    calls: list[str] = []
    created: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("search.json"):
            found = [{"id": 42, "email": "a@x.io"}] if created else []
            return httpx.Response(200, json={"customers": found})
        if request.method == "POST":
            created.append(1)
            return httpx.Response(201, content=b'{"customer": {"id": 42')  # cut off
        return httpx.Response(200, json={"customer": {"id": 42,
                                                      "updated_at": "2026-01-01T00:00:00Z"}})

    outcome = shop_writer(handler, []).write("north", [shop_change("a", "a@x.io")])[0]
    assert (outcome.status, outcome.destination_id) == ("ok", "north/42")
    assert calls == ["GET /shops/north/customers/search.json", "POST /shops/north/customers.json",
                     "GET /shops/north/customers/search.json",
                     "PUT /shops/north/customers/42.json"]
    assert len(created) == 1


def test_unconfigured_shop_and_missing_email_are_rejected_without_a_request() -> None:
    seen: list[httpx.Request] = []
    writer = shop_writer(lambda r: httpx.Response(500), seen)
    lost = shop_change("a", "a@x.io")
    lost.shop = "elsewhere"
    outcomes = writer.write("elsewhere", [lost]) + writer.write("north", [
        shop_change("b", "")])
    assert [o.reason for o in outcomes] == [
        "shop 'elsewhere' is not configured (sources.shop.shops)",
        "no email to look the customer up by: a create could duplicate"]
    assert seen == []


ADDRESS = {"addresses.default.address1": "1 Main St", "addresses.default.city": "Boston",
           "addresses.default.zip": "02101", "addresses.default.country_code": "US"}


def test_shopify_address_goes_to_the_default_address_by_its_id_and_only_when_changed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"customer": {"id": 7, "default_address": {
                "id": 70, "city": "Old"}}})
        return httpx.Response(200, json={"customer": {"id": 7,
                                                      "updated_at": "2026-01-01T00:00:00Z"}})

    writer = shop_writer(handler, seen)
    first = shop_change("a", "a@x.io", "north/7")
    first.payload.update(ADDRESS)
    assert writer.write("north", [first])[0].status == "ok"
    assert [(r.method, r.url.path, r.url.params.get("fields")) for r in seen] == [
        ("GET", "/shops/north/customers/7.json", "id,default_address"),
        ("PUT", "/shops/north/customers/7.json", None)]
    assert json.loads(seen[1].content)["customer"]["addresses"] == [
        {"address1": "1 Main St", "city": "Boston", "zip": "02101", "country_code": "US",
         "default": True, "id": 70}]

    # the address is what the last write confirmed: not sent, no lookup
    seen.clear()
    same = shop_change("a", "a@x.io", "north/7")
    same.payload.update(ADDRESS, first_name="Bea")
    same.previous = dict(first.payload)
    writer.write("north", [same])
    assert [r.method for r in seen] == ["PUT"]
    assert "addresses" not in json.loads(seen[0].content)["customer"]

    # ...unless the shop changed the record since: the warehouse's address goes again
    seen.clear()
    same.destination_changed_at = datetime(2026, 2, 1)
    writer.write("north", [same])
    assert [r.method for r in seen] == ["GET", "PUT"]


def test_shopify_create_sends_the_address_as_the_default() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("search.json"):
            return httpx.Response(200, json={"customers": []})
        return httpx.Response(201, json={"customer": {"id": 9}})

    change = shop_change("a", "a@x.io")
    change.payload.update(ADDRESS, **{"addresses.default.zip": None})
    outcome = shop_writer(handler, seen).write("north", [change])[0]
    assert (outcome.status, outcome.created) == ("ok", True)
    assert seen[0].url.params["fields"] == "id,email,default_address"
    assert json.loads(seen[1].content)["customer"]["addresses"] == [
        {"address1": "1 Main St", "city": "Boston", "country_code": "US", "default": True}]
