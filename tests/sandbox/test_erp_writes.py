"""Writes to the Xero emulator: create/update, per-element errors, all-or-nothing batches,
idempotency keys, batch limits and unreadable bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.erp.contacts import name_taken_message
from sandbox.serve import build_app
from sandbox.store import Store
from tests.sandbox.test_erp_seed import API, CONFIG, HEADERS, open_erp, seeded_world

CONTACTS = f"{API}/Contacts"
INVOICES = f"{API}/Invoices"


@pytest.fixture
def erp(tmp_path: Path) -> tuple[TestClient, SystemContext]:
    return open_erp(tmp_path)


def existing_contact() -> Any:
    return next(c for c in seeded_world().erp.contacts if not c.archived and c.email and c.phone)


def count(ctx: SystemContext, obj: str = "contacts") -> int:
    return ctx.store.count(obj)


# -- contacts ----------------------------------------------------------------------------------
def test_post_creates_then_updates_by_contact_id(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    before = count(ctx)
    created = client.post(CONTACTS, json={"Contacts": [{
        "Name": "Marama Tane", "FirstName": "Marama", "LastName": "Tane",
        "EmailAddress": "marama@example.com", "ContactNumber": "CRM-42",
        "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "021 555 0101"}]}]})
    assert created.status_code == 200, created.text
    contact = created.json()["Contacts"][0]
    assert contact["StatusAttributeString"] == "OK" and contact["ContactStatus"] == "ACTIVE"
    assert count(ctx) == before + 1
    updated = client.post(CONTACTS, json={"Contacts": [{
        "ContactID": contact["ContactID"], "EmailAddress": "m.tane@example.com",
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "09 555 0102"}]}]}).json()
    again = updated["Contacts"][0]
    assert again["EmailAddress"] == "m.tane@example.com" and again["Name"] == "Marama Tane"
    phones = {p["PhoneType"]: p["PhoneNumber"] for p in again["Phones"]}
    assert phones["MOBILE"] == "021 555 0101" and phones["DEFAULT"] == "09 555 0102"
    assert count(ctx) == before + 1
    fetched = client.get(f"{CONTACTS}/{contact['ContactID']}").json()["Contacts"][0]
    assert fetched["EmailAddress"] == "m.tane@example.com"
    assert client.get(f"{CONTACTS}/CRM-42").json()["Contacts"][0]["ContactID"] == \
        contact["ContactID"]
    # a POST carrying a known ContactNumber updates that contact
    by_number = client.post(CONTACTS, json={"Contacts": [{"ContactNumber": "CRM-42",
                                                          "LastName": "Tane-Smith"}]}).json()
    assert by_number["Contacts"][0]["ContactID"] == contact["ContactID"]
    assert count(ctx) == before + 1


def test_duplicate_name_fails_the_whole_batch_by_default(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    taken = existing_contact().name
    before = count(ctx)
    resp = client.post(CONTACTS, json={"Contacts": [
        {"Name": "Brand New Person"}, {"Name": taken}]})
    assert resp.status_code == 400
    body = resp.json()
    assert body["ErrorNumber"] == 10 and body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert len(body["Elements"]) == 1
    assert body["Elements"][0]["ValidationErrors"] == [{"Message": name_taken_message(taken)}]
    assert count(ctx) == before  # all or nothing
    assert client.get(CONTACTS, params={"where": 'Name=="Brand New Person"'}).json()[
        "Contacts"] == []


def test_summarize_errors_false_returns_every_element(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    before = count(ctx)
    resp = client.put(CONTACTS, params={"summarizeErrors": "false"}, json={"Contacts": [
        {"Name": "Valid Vera", "EmailAddress": "vera@example.com"},
        {"Name": existing_contact().name.upper()},
        {"Name": "Bad Email Bob", "EmailAddress": "not-an-email"},
        {"FirstName": "No", "LastName": "Name"},
    ]})
    assert resp.status_code == 200, resp.text
    elements = resp.json()["Contacts"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR", "ERROR", "ERROR"]
    assert elements[0]["ContactID"] and "ValidationErrors" not in elements[0]
    assert elements[1]["HasValidationErrors"] is True
    assert "already assigned to another contact" in elements[1]["ValidationErrors"][0]["Message"]
    assert elements[2]["ValidationErrors"] == [{"Message": "Email address must be valid."}]
    assert elements[3]["ValidationErrors"][0]["Message"] == "The contact name must be specified."
    assert count(ctx) == before + 1


def test_names_in_one_batch_and_archived_names(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    twice = client.put(CONTACTS, params={"summarizeErrors": "false"}, json={"Contacts": [
        {"Name": "Twin Name"}, {"Name": "twin name"}]}).json()["Contacts"]
    assert [e["StatusAttributeString"] for e in twice] == ["OK", "ERROR"]
    archived = client.post(CONTACTS, json={"Contacts": [{
        "ContactID": twice[0]["ContactID"], "ContactStatus": "ARCHIVED"}]})
    assert archived.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    listed = client.get(CONTACTS, params={"where": 'Name=="Twin Name"'}).json()["Contacts"]
    assert listed == []
    reused = client.put(CONTACTS, json={"Contacts": [{"Name": "Twin Name"}]})
    assert reused.status_code == 200  # unique across active contacts only


def test_put_only_creates(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    person = existing_contact()
    resp = client.put(CONTACTS, json={"Contacts": [{"ContactID": person.record_id,
                                                    "Name": "Someone Else"}]})
    assert resp.status_code == 400
    assert "use POST" in resp.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    assert ctx.store.get("contacts", person.record_id).body["Name"] == person.name  # type: ignore[union-attr]


# -- idempotency -------------------------------------------------------------------------------
def test_idempotency_key_replays_the_first_answer_and_survives_restart(
        erp: tuple[TestClient, SystemContext], tmp_path: Path) -> None:
    client, ctx = erp
    key = {"Idempotency-Key": "sync-run-7/batch-1"}
    payload = {"Contacts": [{"Name": "Once Only"}]}
    first = client.post(CONTACTS, json=payload, headers=key)
    assert first.status_code == 200
    after_first = count(ctx)
    second = client.post(CONTACTS, json={"Contacts": [{"Name": "Different Body"}]}, headers=key)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert count(ctx) == after_first
    other_path = client.put(CONTACTS, json={"Contacts": [{"Name": "Other Path"}]}, headers=key)
    assert other_path.status_code == 200 and count(ctx) == after_first + 1
    # a restarted emulator on the same file remembers the key
    ctx.store.close()
    store = Store(tmp_path / "erp.sqlite")
    restarted = TestClient(build_app(SystemContext("erp", tmp_path, ctx.config, store)),
                           headers=HEADERS)
    third = restarted.post(CONTACTS, json=payload, headers=key)
    assert third.content == first.content
    assert store.count("contacts") == after_first + 1


def test_idempotency_key_replays_errors_and_rejects_long_keys(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    key = {"Idempotency-Key": "k-err"}
    bad = client.post(CONTACTS, content=b"{not json", headers=key)
    assert bad.status_code == 400
    retry = client.post(CONTACTS, json={"Contacts": [{"Name": "Fine Now"}]}, headers=key)
    assert (retry.status_code, retry.content) == (400, bad.content)
    long_key = client.post(CONTACTS, json={"Contacts": [{"Name": "Long Key"}]},
                           headers={"Idempotency-Key": "x" * 129})
    assert long_key.status_code == 400 and "128" in long_key.json()["Message"]
    assert client.get(CONTACTS, params={"where": 'Name=="Long Key"'}).json()["Contacts"] == []


# -- request limits and bad input --------------------------------------------------------------
def test_too_many_elements_is_400_and_writes_nothing(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    ctx.set_limits(Limits(enabled=False, erp_batch_max=3))
    before = count(ctx)
    resp = client.post(CONTACTS, json={"Contacts": [{"Name": f"Batch {i}"} for i in range(4)]})
    assert resp.status_code == 400
    assert "maximum of 3" in resp.json()["Message"]
    assert count(ctx) == before
    assert client.post(CONTACTS, json={"Contacts": [{"Name": f"Batch {i}"} for i in range(3)]}
                       ).status_code == 200


def test_unreadable_bodies_are_400_and_change_nothing(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    before = count(ctx)
    malformed = client.post(CONTACTS, content=b'{"Contacts": [', headers={
        "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["Type"] == "PostDataInvalidException"
    wrong_type = client.post(CONTACTS, json={"Contacts": [
        {"Name": "Fine"}, {"Name": "Phones wrong", "Phones": "021 555"}]})
    assert wrong_type.status_code == 400
    assert "Contacts[1].Phones" in wrong_type.json()["Message"]
    not_guid = client.post(CONTACTS, json={"Contacts": [{"ContactID": "12", "Name": "X"}]})
    assert not_guid.status_code == 400
    assert client.post(CONTACTS, json=[{"Name": "list body"}]).status_code == 400
    assert count(ctx) == before


def test_single_contact_update_path(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    person = existing_contact()
    resp = client.post(f"{CONTACTS}/{person.record_id}",
                       json={"Contacts": [{"EmailAddress": "moved@example.com"}]})
    assert resp.status_code == 200
    stored = ctx.store.get("contacts", person.record_id)
    assert stored is not None and stored.body["EmailAddress"] == "moved@example.com"
    assert stored.body["Name"] == person.name


# -- invoices ----------------------------------------------------------------------------------
def invoice(contact: dict[str, str], **extra: Any) -> dict[str, Any]:
    item = seeded_world().erp.items[0]
    return {"Type": "ACCREC", "Contact": contact, "Date": "2026-11-20",
            "DueDate": "2026-12-20", "Reference": "DEAL-123", "Status": "AUTHORISED",
            "LineItems": [{"ItemCode": item.code, "Quantity": 2},
                          {"Description": "Setup", "Quantity": 1, "UnitAmount": 50.25}],
            **extra}


def test_invoice_create_totals_and_status_rules(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    person = existing_contact()
    resp = client.put(INVOICES, json={"Invoices": [invoice({"ContactID": person.record_id})]})
    assert resp.status_code == 200, resp.text
    created = resp.json()["Invoices"][0]
    price = seeded_world().erp.items[0].price_cents / 100
    assert created["Total"] == round(2 * price + 50.25, 2) == created["AmountDue"]
    assert created["Contact"] == {"ContactID": person.record_id, "Name": person.name}
    assert created["InvoiceNumber"].startswith("INV-")
    assert created["InvoiceNumber"] not in {i.number for i in seeded_world().erp.invoices}
    assert created["DateString"] == "2026-11-20T00:00:00"
    assert created["Date"] == "/Date(1795132800000+0000)/"
    dup = client.put(INVOICES, json={"Invoices": [invoice(
        {"ContactID": person.record_id}, InvoiceNumber=created["InvoiceNumber"])]})
    assert dup.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Invoice # must be unique."}]
    voided = client.post(INVOICES, json={"Invoices": [{"InvoiceID": created["InvoiceID"],
                                                       "Status": "VOIDED"}]})
    assert voided.json()["Invoices"][0]["Status"] == "VOIDED"
    frozen = client.post(INVOICES, json={"Invoices": [{"InvoiceID": created["InvoiceID"],
                                                       "Reference": "changed"}]})
    assert frozen.status_code == 400
    assert frozen.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Invoice not of valid status for modification"}]
    assert ctx.store.get("invoices", created["InvoiceID"]).body["Reference"] == "DEAL-123"  # type: ignore[union-attr]


def test_invoice_for_an_unknown_contact_name_creates_the_contact(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    before = count(ctx)
    resp = client.post(INVOICES, json={"Invoices": [invoice({"Name": "Fresh Buyer Ltd"})]})
    assert resp.status_code == 200, resp.text
    contact_id = resp.json()["Invoices"][0]["Contact"]["ContactID"]
    assert count(ctx) == before + 1
    assert ctx.store.get("contacts", contact_id).body["Name"] == "Fresh Buyer Ltd"  # type: ignore[union-attr]
    again = client.post(INVOICES, json={"Invoices": [invoice({"Name": "fresh buyer ltd"})]})
    assert again.json()["Invoices"][0]["Contact"]["ContactID"] == contact_id
    assert count(ctx) == before + 1


def test_invalid_invoices_with_summarize_false(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    before = count(ctx, "invoices")
    person = existing_contact()
    resp = client.put(INVOICES, params={"summarizeErrors": "false"}, json={"Invoices": [
        invoice({"ContactID": person.record_id}),
        invoice({"ContactID": person.record_id}, LineItems=[{"Quantity": 1}]),
        invoice({"ContactID": "00000000-0000-0000-0000-0000000000aa"}),
        invoice({"ContactID": person.record_id}, Status="PAID"),
        invoice({"ContactID": person.record_id}, LineItems=[{"ItemCode": "NOPE-1"}]),
    ]})
    assert resp.status_code == 200
    results = resp.json()["Invoices"]
    assert [r["StatusAttributeString"] for r in results] == ["OK"] + ["ERROR"] * 4
    assert results[1]["HasErrors"] is True
    messages = [r.get("ValidationErrors", [{}])[0].get("Message") for r in results]
    assert messages[1] == "The description field is mandatory for each line item."
    assert "could not be found" in messages[2]
    assert "PAID" in messages[3]
    assert messages[4] == "Item code 'NOPE-1' is not valid"
    assert count(ctx, "invoices") == before + 1
    wrong_date = client.put(INVOICES, json={"Invoices": [invoice(
        {"ContactID": person.record_id}, Date="31/12/2026")]})
    assert wrong_date.status_code == 400
    assert wrong_date.json()["Type"] == "PostDataInvalidException"


def test_api_writes_emit_signed_webhooks(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    sent: list[bytes] = []

    def record(body: bytes, headers: Any, path: str = "") -> bool:
        sent.append(body)
        return True

    ctx.state["webhook_url"] = "http://127.0.0.1:9/hooks"
    ctx.emit_webhook = record  # type: ignore[method-assign]
    created = client.post(CONTACTS, json={"Contacts": [{"Name": "Hooked"}]}).json()
    events = json.loads(sent[0])["events"]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", created["Contacts"][0]["ContactID"])]
    assert CONFIG.credentials.erp_tenant_id == events[0]["tenantId"]
