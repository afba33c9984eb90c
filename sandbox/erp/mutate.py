"""Realistic ERP changes: contacts edited, archived, added; invoices approved, paid, voided, added.

About ``fraction`` of the active contacts get a new phone, email or address and about ``fraction``
of the invoices move on (DRAFT/SUBMITTED → AUTHORISED; AUTHORISED → PAID with a new payment, or
VOIDED when nothing is paid). A tenth as many contacts and invoices are created, a twentieth as
many contacts archived, and about ``fraction`` of the Items deleted (Xero deletes Items for real:
they drop out of ``GET /Items``; stored archived, with the deletion time). Every contact and
invoice change gets ``UpdatedDateUTC`` = now and a Xero webhook event (Xero sends none for Items).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from sandbox.context import SystemContext
from sandbox.erp import events, queries
from sandbox.erp.contacts import new_contact
from sandbox.erp.dates import add_days, ms_json, today_iso
from sandbox.erp.docs import DEFAULT_CURRENCY, invoice_body, line_item, payment_body, payment_ref
from sandbox.erp.events import Event
from sandbox.erp.invoices import next_invoice_number
from sandbox.erp.writes import write_lock
from sandbox.store import Doc, Store
from sandbox.webhooks import now_ms
from sandbox.world.names import person_name

STREETS = ("Queen Street", "High Street", "Station Road", "Victoria Avenue", "Church Lane",
           "Park Road", "Mill Lane", "King Street")


def _sample(store: Store, obj: str, k: int, rng: random.Random, where: str) -> list[Doc]:
    """About ``k`` random records matching ``where`` (sampled by position, not by scanning)."""
    if k <= 0:
        return []
    table = store.ensure(obj)
    with store.lock:
        top = int(store.conn.execute(f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0])
    if top == 0:
        return []
    picks = rng.sample(range(1, top + 1), min(top, int(k * 1.5) + 10))
    found: list[Doc] = []
    for start in range(0, len(picks), 500):
        chunk = picks[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        found += store.query(obj, f"seq IN ({marks}) AND ({where})", tuple(chunk))
        if len(found) >= k:
            break
    rng.shuffle(found)
    return found[:k]


def _edit_contact(body: dict[str, Any], rng: random.Random) -> None:
    """A new phone, email or address, as a person would type it."""
    change = rng.choice(("phone", "email", "address"))
    if change == "phone":
        number = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        for phone in body.get("Phones", []):
            if phone.get("PhoneType") == "DEFAULT":
                phone["PhoneNumber"] = number
    elif change == "email":
        first = str(body.get("FirstName") or "contact").lower().replace(" ", "")
        last = str(body.get("LastName") or "").lower().replace(" ", "").replace("'", "")
        old = str(body.get("EmailAddress") or "")
        domain = old.split("@", 1)[1] if "@" in old else "example.com"
        body["EmailAddress"] = f"{first}.{last}{rng.randint(1, 99)}@{domain}"
    else:
        for address in body.get("Addresses", []):
            if address.get("AddressType") == "POBOX":
                address["AddressLine1"] = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"


def _touch(doc: Doc, now: int, archived: bool | None = None) -> Doc:
    doc.body["UpdatedDateUTC"] = ms_json(now)
    return Doc(doc.id, now, doc.body, doc.archived if archived is None else archived, doc.key)


def _advance_invoice(doc: Doc, now: int, rng: random.Random,
                     payments: list[Doc]) -> Doc | None:
    """Move an open invoice one step on (a payment doc is added for PAID)."""
    body = doc.body
    status = body.get("Status")
    if status in {"DRAFT", "SUBMITTED"}:
        if not body.get("LineItems"):
            return None
        body["Status"] = "AUTHORISED"
        return _touch(doc, now)
    if status != "AUTHORISED":
        return None
    if rng.random() < 0.25 and float(body.get("AmountPaid", 0.0)) == 0.0:
        body.update(Status="VOIDED", AmountDue=0.0)
        return _touch(doc, now, archived=True)
    due = float(body.get("AmountDue", 0.0))
    day = today_iso(now)
    refs = list(body.get("Payments", []))
    if due > 0:
        payment_id = str(uuid.uuid4())
        payment = payment_body(payment_id, body, round(due * 100), day, "AUTHORISED", now)
        payments.append(Doc(payment_id, now, payment, False, doc.id.lower()))
        refs.append(payment_ref(payment_id, day, due))
    new = invoice_body(doc.id, body["InvoiceNumber"], body["Type"], body["Contact"],
                       body.get("Reference", ""), body["DateString"][:10],
                       body["DueDateString"][:10], "PAID", body["CurrencyCode"],
                       body.get("LineItems", []), now, refs,
                       float(body.get("AmountCredited", 0.0)))
    new["LineAmountTypes"] = body.get("LineAmountTypes", "NoTax")
    return Doc(doc.id, now, new, False, doc.key)


def _unique_name(store: Store, rng: random.Random, taken: set[str]) -> tuple[str, str, str]:
    first, last = person_name(rng)
    name = f"{first} {last}"
    suffix = 2
    while name.lower() in taken or store.find_by_key("contacts", name.lower()):
        name = f"{first} {last} ({suffix})"
        suffix += 1
    taken.add(name.lower())
    return first, last, name


def _new_contact(store: Store, rng: random.Random, now: int, taken: set[str]) -> Doc:
    first, last, name = _unique_name(store, rng, taken)
    body = new_contact(str(uuid.uuid4()), now)
    email_last = last.lower().replace("'", "")
    body.update(Name=name, FirstName=first, LastName=last, IsCustomer=True,
                EmailAddress=f"{first.lower()}.{email_last}{rng.randint(1, 999)}@example.com")
    body["Phones"][1]["PhoneNumber"] = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return Doc(body["ContactID"], now, body, False, name.lower())


def _new_invoice(store: Store, rng: random.Random, now: int, contact: Doc,
                 items: list[Doc]) -> Doc:
    invoice_id = str(uuid.uuid4())
    chosen = rng.sample(items, min(len(items), rng.randint(1, 3)))
    lines = [line_item(invoice_id, i, it.body["Code"], it.body.get("Description") or
                       it.body["Name"], float(rng.randint(1, 4)),
                       float(it.body.get("SalesDetails", {}).get("UnitPrice", 10.0)))
             for i, it in enumerate(chosen)]
    if not lines:
        lines = [line_item(invoice_id, 0, None, "Services", 1.0, 100.0)]
    day = today_iso(now)
    body = invoice_body(
        invoice_id, next_invoice_number(store), "ACCREC",
        {"ContactID": contact.id, "Name": str(contact.body.get("Name", ""))}, "", day,
        add_days(day, 30), "AUTHORISED", store.meta_get("erp:currency") or DEFAULT_CURRENCY,
        lines, now)
    return Doc(invoice_id, now, body, False, str(body["InvoiceNumber"]).lower())


def mutate(ctx: SystemContext, fraction: float, rng: random.Random) -> dict[str, int]:
    """Change about ``fraction`` of the ERP records; returns what was done."""
    store = ctx.store
    total_contacts = store.count("contacts", "archived = 0")
    if total_contacts == 0:
        raise ValueError("the ERP store has no active contacts to mutate: seed the sandbox "
                         "first (goldloop sandbox up)")
    n_contacts = max(1, round(total_contacts * fraction))
    n_invoices = round(store.count("invoices") * fraction)
    n_archive = round(n_contacts / 20)
    n_new = max(1, round(n_contacts / 10))
    now = now_ms()
    changed: dict[str, dict[str, Doc]] = {"contacts": {}, "invoices": {}, "payments": {},
                                          "items": {}}
    event_list: list[Event] = []
    truth: list[tuple[str, str, str]] = []
    counts = {"contacts_updated": 0, "contacts_archived": 0, "contacts_created": 0,
              "invoices_updated": 0, "invoices_created": 0, "payments_created": 0,
              "items_deleted": 0}
    with write_lock(ctx):
        sample = _sample(store, "contacts", n_contacts + n_archive, rng, "archived = 0")
        for doc in sample[:n_contacts]:
            _edit_contact(doc.body, rng)
            changed["contacts"][doc.id] = _touch(doc, now)
            event_list.append(("CONTACT", "UPDATE", doc.id))
            counts["contacts_updated"] += 1
        for doc in sample[n_contacts:]:
            doc.body["ContactStatus"] = "ARCHIVED"
            changed["contacts"][doc.id] = _touch(doc, now, archived=True)
            event_list.append(("CONTACT", "UPDATE", doc.id))
            counts["contacts_archived"] += 1

        payments: list[Doc] = []
        open_sql = "json_extract(body, '$.Status') IN ('DRAFT', 'SUBMITTED', 'AUTHORISED')"
        for doc in _sample(store, "invoices", n_invoices, rng, open_sql):
            advanced = _advance_invoice(doc, now, rng, payments)
            if advanced is not None:
                changed["invoices"][doc.id] = advanced
                event_list.append(("INVOICE", "UPDATE", doc.id))
                counts["invoices_updated"] += 1
        for payment in payments:
            changed["payments"][payment.id] = payment
        counts["payments_created"] = len(payments)

        taken: set[str] = set()
        for _ in range(n_new):
            doc = _new_contact(store, rng, now, taken)
            changed["contacts"][doc.id] = doc
            event_list.append(("CONTACT", "CREATE", doc.id))
            truth.append(("contacts", doc.id,
                          f"person-erp-{store.next_id('erp_new_person', 0):06d}"))
            counts["contacts_created"] += 1
        n_items = round(store.count("items", "archived = 0") * fraction)
        deleted_items = _sample(store, "items", n_items, rng, "archived = 0")
        for doc in deleted_items:
            changed["items"][doc.id] = _touch(doc, now, archived=True)
        counts["items_deleted"] = len(deleted_items)
        gone = {doc.id for doc in deleted_items}
        items = [d for d in store.query("items", "archived = 0", limit=200) if d.id not in gone]
        buyers = [d for d in changed["contacts"].values() if not d.archived] or sample
        for _ in range(n_new if store.count("invoices") else 0):
            doc = _new_invoice(store, rng, now, rng.choice(buyers), items)
            changed["invoices"][doc.id] = doc
            event_list.append(("INVOICE", "CREATE", doc.id))
            truth.append(("invoices", doc.id,
                          f"invoice-erp-{store.next_id('erp_new_invoice', 0):06d}"))
            counts["invoices_created"] += 1

        for obj, docs in changed.items():
            if docs:
                store.put_many(obj, docs.values())
        store.add_truth(truth)
        queries.bump_version(ctx)
    sent = events.emit(ctx, event_list, now)
    return {
        "updated": counts["contacts_updated"] + counts["invoices_updated"],
        "created": counts["contacts_created"] + counts["invoices_created"],
        "archived": counts["contacts_archived"],
        "deleted": counts["items_deleted"],
        **counts,
        "webhook_events": sent,
    }
