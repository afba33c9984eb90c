"""The Xero emulator against Xero's published OpenAPI files (``xero_accounting.yaml``,
``xero-identity.yaml``).

"One client, two servers": every request below is shaped the way a connector or the reverse-ETL
sync sends it (tenant header, bearer token, ISO 8601 ``If-Modified-Since`` as the spec's
``date-time`` format demands, comma-separated ``IDs``), and both it and the emulator's answer must
match a patched copy of the spec. The patch fixes the file's one known defect: 23 boolean fields
whose ``default``/``example`` are strings (``"false"``), which a strict validator rejects.

Error answers are checked where the spec defines them (400 ``Error`` on PUT/POST); it defines
none for GET, 401/403 or 429, so those are asserted by the sandbox tests instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from starlette.testclient import TestClient

from sandbox.context import SystemContext
from tests.contract.openapi_check import SPECS, check, load_spec
from tests.sandbox.test_erp_seed import API, open_erp, seeded_world

HOST = "http://testserver"
SERVER = f"{HOST}{API}"


def xero_patch(spec: dict[str, Any]) -> None:
    """Turn the boolean fields' string ``default``/``example`` into real booleans."""
    if isinstance(spec, dict):
        if spec.get("type") == "boolean":
            for key in ("default", "example"):
                if isinstance(spec.get(key), str):
                    spec[key] = spec[key].strip().lower() == "true"
        for value in spec.values():
            xero_patch(value)
    elif isinstance(spec, list):
        for value in spec:
            xero_patch(value)


@functools.cache
def accounting() -> OpenAPI:
    return load_spec("xero/xero_accounting.yaml", xero_patch, SERVER)


@functools.cache
def identity() -> OpenAPI:
    return load_spec("xero/xero-identity.yaml", None, HOST)


def assert_valid(response: httpx.Response, status: int, api: OpenAPI | None = None,
                 ) -> Any:
    """The response has ``status`` and the exchange matches the spec; returns the body."""
    assert response.status_code == status, response.text
    problems = check(api or accounting(), response, host_url=HOST)
    assert problems == [], "\n".join(problems)
    return response.json()


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, SystemContext]]:
    client, ctx = open_erp(Path(tmp_path_factory.mktemp("erp_contract")))
    yield client, ctx
    client.close()


def test_the_patch_fixes_exactly_the_known_defects() -> None:
    spec = yaml.load((SPECS / "xero/xero_accounting.yaml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "boolean" and isinstance(node.get("default"), str):
                found.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    walk(spec, "")
    assert len(found) == 23
    xero_patch(spec)
    found.clear()
    walk(spec, "")
    assert found == []


def test_connections_match_the_identity_spec(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    body = assert_valid(client.get("/Connections"), 200, identity())
    assert body[0]["tenantType"] == "ORGANISATION"
    assert client.get("/connections").json() == body


def test_contact_reads_match_the_spec(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    since = datetime(2024, 6, 1, tzinfo=UTC).isoformat()
    page = assert_valid(client.get(f"{API}/Contacts", headers={"If-Modified-Since": since},
                                   params={"page": 1, "pageSize": 50, "includeArchived": "true",
                                           "order": "UpdatedDateUTC ASC",
                                           "where": 'ContactStatus=="ACTIVE"'}), 200)
    ids = [c["ContactID"] for c in page["Contacts"][:3]]
    assert ids
    listed = assert_valid(client.get(f"{API}/Contacts", params={"IDs": ",".join(ids),
                                                               "summaryOnly": "true"}), 200)
    assert {c["ContactID"] for c in listed["Contacts"]} == set(ids)
    assert_valid(client.get(f"{API}/Contacts", params={"searchTerm": "a", "page": 2}), 200)
    assert_valid(client.get(f"{API}/Contacts/{ids[0]}"), 200)


def test_invoice_payment_item_and_credit_note_reads_match_the_spec(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    invoices = assert_valid(client.get(f"{API}/Invoices", params={
        "page": 1, "pageSize": 20, "Statuses": "AUTHORISED,PAID,VOIDED",
        "order": "UpdatedDateUTC ASC", "where": 'Type=="ACCREC"', "unitdp": 2}), 200)
    invoice = invoices["Invoices"][0]
    assert invoice["LineItems"]
    assert_valid(client.get(f"{API}/Invoices", params={
        "ContactIDs": invoice["Contact"]["ContactID"], "includeArchived": "true"}), 200)
    assert_valid(client.get(f"{API}/Invoices/{invoice['InvoiceID']}"), 200)
    payments = assert_valid(client.get(f"{API}/Payments", params={"page": 1, "pageSize": 10}),
                            200)
    assert_valid(client.get(f"{API}/Payments/{payments['Payments'][0]['PaymentID']}"), 200)
    items = assert_valid(client.get(f"{API}/Items", params={"order": "Code"}), 200)
    assert_valid(client.get(f"{API}/Items/{items['Items'][0]['ItemID']}"), 200)
    notes = assert_valid(client.get(f"{API}/CreditNotes", params={"page": 1}), 200)
    assert notes["CreditNotes"]
    assert_valid(client.get(f"{API}/CreditNotes/{notes['CreditNotes'][0]['CreditNoteID']}"), 200)


def test_contact_writes_match_the_spec(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    created = assert_valid(client.put(
        f"{API}/Contacts", params={"summarizeErrors": "false"},
        headers={"Idempotency-Key": "contract-put-1"},
        json={"Contacts": [{"Name": "Contract Contact", "EmailAddress": "cc@example.com",
                            "ContactNumber": "CRM-C1",
                            "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "555-1212"}],
                            "Addresses": [{"AddressType": "POBOX", "City": "Wellington"}]},
                           {"Name": "Contract Contact"}]}), 200)
    assert [c["StatusAttributeString"] for c in created["Contacts"]] == ["OK", "ERROR"]
    contact_id = created["Contacts"][0]["ContactID"]
    assert_valid(client.post(f"{API}/Contacts", json={"Contacts": [
        {"ContactID": contact_id, "EmailAddress": "cc2@example.com"}]}), 200)
    assert_valid(client.post(f"{API}/Contacts/{contact_id}", json={"Contacts": [
        {"ContactID": contact_id, "FirstName": "Con"}]}), 200)
    error = assert_valid(client.post(f"{API}/Contacts", json={"Contacts": [
        {"Name": next(c.name for c in seeded_world().erp.contacts if not c.archived)}]}), 400)
    assert error["Type"] == "ValidationException"
    assert_valid(client.put(f"{API}/Contacts", json={"Contacts": [{"Name": f"Batch {i}"}
                                                                  for i in range(51)]}), 400)


def test_invoice_writes_match_the_spec(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    contact = next(c for c in seeded_world().erp.contacts if not c.archived)
    body = {"Invoices": [{
        "Type": "ACCREC", "Contact": {"ContactID": contact.record_id}, "Date": "2026-11-20",
        "DueDate": "2026-12-20", "Reference": "DEAL-9", "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax", "CurrencyCode": "USD",
        "LineItems": [{"Description": "Consulting", "Quantity": 2.0, "UnitAmount": 150.0,
                       "AccountCode": "200"}]}]}
    created = assert_valid(client.put(f"{API}/Invoices", json=body,
                                      headers={"Idempotency-Key": "contract-inv-1"}), 200)
    invoice_id = created["Invoices"][0]["InvoiceID"]
    assert created["Invoices"][0]["Total"] == 300.0
    assert_valid(client.post(f"{API}/Invoices", params={"summarizeErrors": "false"}, json={
        "Invoices": [{"InvoiceID": invoice_id, "Reference": "DEAL-9b"}]}), 200)
    assert_valid(client.post(f"{API}/Invoices/{invoice_id}", json={
        "Invoices": [{"InvoiceID": invoice_id, "Status": "VOIDED"}]}), 200)
    assert_valid(client.post(f"{API}/Invoices", json={
        "Invoices": [{"InvoiceID": invoice_id, "Reference": "too late"}]}), 400)
