"""The Xero (erp) seeder and mutate: what lands in the store, truth rows, breaks, changes, webhooks.

Also home of the world and client factory the other ERP tests import.
"""

from __future__ import annotations

import copy
import functools
import hmac
import json
import random
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.config import Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.erp import seedtext
from sandbox.erp.dates import iso_utc, parse_ms_json
from sandbox.erp.mutate import mutate
from sandbox.erp.seed import (
    contact_doc,
    credited_cents,
    invoice_doc,
    payment_doc,
    seed,
    served_status,
)
from sandbox.serve import build_app
from sandbox.store import Store
from sandbox.webhooks import now_ms, xero_signature
from sandbox.world.generate import generate
from sandbox.world.model import World

API = "/api.xro/2.0"
CONFIG = SandboxConfig()
TOKEN = CONFIG.credentials.erp_token
TENANT = CONFIG.credentials.erp_tenant_id
HEADERS = {"Authorization": f"Bearer {TOKEN}", "xero-tenant-id": TENANT,
           "Accept": "application/json"}


@functools.cache
def seeded_world() -> World:
    """The 300-customer world, with every 25th ERP contact archived (so archives are tested
    whatever the generator's own archive rate gives at this size)."""
    world = generate(300, seed=1)
    for contact in world.erp.contacts[3::25]:
        contact.archived = True
    return world


def erp_world() -> World:
    """A fresh copy of the test world (tests may edit it)."""
    return copy.deepcopy(seeded_world())


def open_erp(tmp_path: Path, world: World | None = None, *,
             limits: Limits | None = None) -> tuple[TestClient, SystemContext]:
    """A seeded ERP emulator behind a test client that sends the sandbox's token and tenant."""
    store = Store(tmp_path / "erp.sqlite")
    seed(world or seeded_world(), store)
    config = CONFIG.model_copy(update={"limits": limits or Limits(enabled=False)})
    ctx = SystemContext("erp", tmp_path, config, store)
    return TestClient(build_app(ctx), headers=HEADERS), ctx


def walk(client: TestClient, path: str, page_size: int = 100, **params: Any,
         ) -> list[dict[str, Any]]:
    """Every record of a paged list, walking pages until ``pageCount``."""
    plural = path.rsplit("/", 1)[-1]
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        resp = client.get(f"{API}/{path}", params={**params, "page": page,
                                                   "pageSize": page_size})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        records += body[plural]
        if page >= body["pagination"]["pageCount"]:
            return records
        page += 1


@pytest.fixture
def erp(tmp_path: Path) -> tuple[TestClient, SystemContext]:
    return open_erp(tmp_path)


# -- seed --------------------------------------------------------------------------------------
def test_seed_stores_every_record_with_xero_shapes(erp: tuple[TestClient, SystemContext]) -> None:
    _, ctx = erp
    world, store = seeded_world(), ctx.store
    assert store.count("contacts") == len(world.erp.contacts)
    assert store.count("items") == len(world.erp.items)
    assert store.count("invoices") == len(world.erp.invoices)
    assert store.count("payments") == len(world.erp.payments)
    assert store.count("credit_notes") == len(world.erp.credit_notes)
    person = next(c for c in world.erp.contacts if c.email and c.phone and c.address)
    body = store.get("contacts", person.record_id).body  # type: ignore[union-attr]
    assert body["Name"] == person.name and body["EmailAddress"] == person.email
    assert parse_ms_json(body["UpdatedDateUTC"]) == person.updated_ms
    assert body["Phones"][1] == {"PhoneType": "DEFAULT", "PhoneNumber": person.phone,
                                 "PhoneAreaCode": "", "PhoneCountryCode": ""}
    assert body["Addresses"][0]["AddressType"] == "POBOX"
    assert body["Addresses"][0]["AddressLine1"] == person.address.line1  # type: ignore[union-attr]
    invoice = world.erp.invoices[0]
    stored = store.get("invoices", invoice.record_id).body  # type: ignore[union-attr]
    assert stored["InvoiceNumber"] == invoice.number and stored["Type"] == "ACCREC"
    assert round(stored["Total"] * 100) == invoice.total_cents
    assert stored["DateString"] == f"{invoice.date}T00:00:00"
    assert len(stored["LineItems"]) == len(invoice.lines)


def test_seed_leaves_the_store_indexed_and_journaled_as_it_found_it(
        erp: tuple[TestClient, SystemContext]) -> None:
    _, ctx = erp
    conn = ctx.store.conn
    indexes = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    for obj in ("contacts", "invoices", "payments", "items", "credit_notes"):
        assert {f"obj_{obj}_upd", f"obj_{obj}_key"} <= indexes  # the store's own, rebuilt
    assert {"obj_contacts_email", "obj_contacts_number", "obj_contacts_arch_upd"} <= indexes
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM obj_contacts WHERE lower(json_extract("
                        "body, '$.EmailAddress')) = lower(?)", ("a@b.com",)).fetchall()
    assert "obj_contacts_email" in str(plan)


def test_seed_archives_contacts_and_closes_archived_invoices(tmp_path: Path) -> None:
    world = erp_world()
    contact = world.erp.contacts[5]
    contact.archived = True
    draft, approved = world.erp.invoices[0], world.erp.invoices[1]
    draft.status, draft.archived = "DRAFT", True
    approved.status, approved.archived = "AUTHORISED", True
    _, ctx = open_erp(tmp_path, world)
    assert ctx.store.get("contacts", contact.record_id).body["ContactStatus"] == "ARCHIVED"  # type: ignore[union-attr]
    assert ctx.store.get("invoices", draft.record_id).body["Status"] == "DELETED"  # type: ignore[union-attr]
    assert ctx.store.get("invoices", approved.record_id).body["Status"] == "VOIDED"  # type: ignore[union-attr]
    assert served_status(world.erp.invoices[2]) == world.erp.invoices[2].status


def test_seed_writes_truth_and_erp_breaks(erp: tuple[TestClient, SystemContext]) -> None:
    _, ctx = erp
    world = seeded_world()
    truth = ctx.store.truth_rows()
    assert {obj for obj, _, _ in truth} == {"contacts", "items", "invoices"}
    expected = {("contacts", c.record_id, c.entity_id) for c in world.erp.contacts}
    assert expected <= set(truth)
    assert len(truth) == (len(world.erp.contacts) + len(world.erp.items)
                          + len(world.erp.invoices))
    breaks = ctx.store.break_rows()
    assert breaks == [(b.kind, b.record_id, b.detail) for b in world.breaks if b.system == "erp"]
    assert breaks


def test_fast_seed_text_equals_the_reference_bodies() -> None:
    world = erp_world()
    world.erp.invoices[0].archived = True  # an archived invoice too
    world.erp.payments[0].archived = True
    names = {c.record_id: c.name for c in world.erp.contacts}
    for contact in world.erp.contacts:
        row, doc = seedtext.contact_row(contact), contact_doc(contact)
        assert row[:4] == (doc.id, doc.updated_ms, int(doc.archived), doc.key)
        assert json.loads(row[4]) == doc.body
    payments: dict[str, list[Any]] = {}
    for payment in world.erp.payments:
        payments.setdefault(payment.invoice_record_id, []).append(payment)
    credited = credited_cents(world.erp.credit_notes)
    refs = {}
    for invoice in world.erp.invoices:
        doc = invoice_doc(invoice, names, payments.get(invoice.record_id, []),
                          credited.get(invoice.record_id, 0))
        row = seedtext.invoice_row(invoice, served_status(invoice),
                                   names.get(invoice.contact_record_id, ""),
                                   payments.get(invoice.record_id, []),
                                   credited.get(invoice.record_id, 0))
        assert row[:4] == (doc.id, doc.updated_ms, int(doc.archived), doc.key)
        assert json.loads(row[4]) == doc.body
        refs[invoice.record_id] = (invoice.number, invoice.contact_record_id, invoice.currency)
    assert any(json.loads(seedtext.invoice_row(i, served_status(i), "", payments.get(
        i.record_id, []), 0)[4]).get("FullyPaidOnDate") for i in world.erp.invoices)
    for payment in world.erp.payments:
        number, contact_id, currency = refs[payment.invoice_record_id]
        row = seedtext.payment_row(payment, number, contact_id, names[contact_id], currency)
        doc = payment_doc(payment, refs, names)
        assert row[:4] == (doc.id, doc.updated_ms, int(doc.archived), doc.key)
        assert json.loads(row[4]) == doc.body


# -- mutate ------------------------------------------------------------------------------------
def _capture_webhooks(ctx: SystemContext) -> list[tuple[bytes, dict[str, str]]]:
    sent: list[tuple[bytes, dict[str, str]]] = []

    def record(body: bytes, headers: Any, path: str = "") -> bool:
        sent.append((body, dict(headers)))
        return True

    ctx.state["webhook_url"] = "http://127.0.0.1:9/hooks"
    ctx.emit_webhook = record  # type: ignore[method-assign]
    return sent


def test_mutate_changes_about_fraction_and_incremental_reads_see_exactly_that(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    _capture_webhooks(ctx)
    before_truth = set(ctx.store.truth_rows())
    changed_after = iso_utc(now_ms() - 1)  # mutate stamps changes with the real now
    counts = mutate(ctx, 0.1, random.Random(3))
    active = sum(1 for c in seeded_world().erp.contacts if not c.archived)
    assert counts["contacts_updated"] == round(active * 0.1)
    assert counts["created"] == counts["contacts_created"] + counts["invoices_created"] > 0
    assert counts["archived"] == counts["contacts_archived"]
    resp = client.get(f"{API}/Contacts", headers={"If-Modified-Since": changed_after},
                      params={"includeArchived": "true", "pageSize": 1000, "page": 1})
    changed = resp.json()["Contacts"]
    assert len(changed) == (counts["contacts_updated"] + counts["contacts_archived"]
                            + counts["contacts_created"])
    assert sum(c["ContactStatus"] == "ARCHIVED" for c in changed) == counts["contacts_archived"]
    invoices = client.get(f"{API}/Invoices", headers={"If-Modified-Since": changed_after},
                          params={"pageSize": 1000, "page": 1}).json()["Invoices"]
    assert len(invoices) == counts["invoices_updated"] + counts["invoices_created"]
    statuses = {i["Status"] for i in invoices}
    assert statuses <= {"AUTHORISED", "PAID", "VOIDED"}
    paid = [i for i in invoices if i["Status"] == "PAID"]
    assert all(i["AmountDue"] == 0 for i in paid)
    new_truth = set(ctx.store.truth_rows()) - before_truth
    assert len(new_truth) == counts["created"]
    assert all(entity.startswith(("person-erp-", "invoice-erp-")) for _, _, entity in new_truth)


def test_mutate_sends_signed_xero_webhooks(erp: tuple[TestClient, SystemContext]) -> None:
    _, ctx = erp
    sent = _capture_webhooks(ctx)
    counts = mutate(ctx, 0.05, random.Random(1))
    events = []
    for body, headers in sent:
        expected = xero_signature(CONFIG.credentials.erp_webhook_key, body)
        assert hmac.compare_digest(headers["x-xero-signature"], expected)
        payload = json.loads(body)
        assert payload["lastEventSequence"] - payload["firstEventSequence"] + 1 == len(
            payload["events"])
        assert payload["entropy"]
        events += payload["events"]
    assert counts["webhook_events"] == len(events) == (
        counts["updated"] + counts["created"] + counts["archived"])
    first = events[0]
    assert first["tenantId"] == TENANT and first["tenantType"] == "ORGANISATION"
    assert first["eventCategory"] in {"CONTACT", "INVOICE"}
    assert first["eventType"] in {"CREATE", "UPDATE"}
    assert first["resourceUrl"].endswith(first["resourceId"])
    assert first["resourceUrl"].startswith(CONFIG.base_url("erp"))


def test_mutate_on_an_empty_store_says_what_to_do(tmp_path: Path) -> None:
    ctx = SystemContext("erp", tmp_path, CONFIG, Store(tmp_path / "erp.sqlite"))
    with pytest.raises(ValueError, match="seed the sandbox first"):
        mutate(ctx, 0.1, random.Random(1))
