"""Render ``world.erp`` into the Xero emulator's store (fast: bodies are written in chunks).

Contacts keep their world status (``ARCHIVED`` when archived); archived invoices that are not
already VOIDED/DELETED become DELETED (from DRAFT/SUBMITTED) or VOIDED; payments marked DELETED
and archived items are stored archived (Items hides them; Payments shows their status).
Truth rows cover contacts, items and invoices; breaks are those whose ``system`` is ``erp``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from sandbox.erp import bulk, queries, seedtext
from sandbox.erp.docs import (
    DEFAULT_CURRENCY,
    PostalAddress,
    contact_body,
    country_name,
    credit_note_body,
    invoice_body,
    item_body,
    line_item,
    money,
    payment_body,
    payment_ref,
)
from sandbox.erp.invoices import NUMBER_COUNTER
from sandbox.store import Doc, Store
from sandbox.world.model import (
    ErpContact,
    ErpCreditNote,
    ErpInvoice,
    ErpItem,
    ErpPayment,
    World,
)

CHUNK = 20_000
T = TypeVar("T")
InvoiceRef = tuple[str, str, str]  # (InvoiceNumber, ContactID, CurrencyCode)
_DIGITS = re.compile(r"(\d+)\D*$")


def _chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def served_status(invoice: ErpInvoice) -> str:
    """The status Xero shows: an archived invoice is DELETED (never approved) or VOIDED."""
    if invoice.archived and invoice.status not in {"VOIDED", "DELETED"}:
        return "DELETED" if invoice.status in {"DRAFT", "SUBMITTED"} else "VOIDED"
    return invoice.status


# The ``*_doc`` functions are the readable reference of each stored body (the API and mutate build
# the same shapes from sandbox.erp.docs); the seed writes the identical text from seedtext.
def contact_doc(contact: ErpContact) -> Doc:
    """One world contact as a stored Xero Contact."""
    addr = contact.address
    address = None if addr is None else PostalAddress(
        addr.line1, addr.city, addr.postcode, country_name(addr.country_code), addr.region)
    body = contact_body(
        contact.record_id, contact.name, contact.first_name, contact.last_name, contact.email,
        contact.phone, address, contact.contact_number, contact.is_customer,
        "ARCHIVED" if contact.archived else "ACTIVE", contact.updated_ms)
    return Doc(contact.record_id, contact.updated_ms, body, contact.archived,
               contact.name.lower())


def item_doc(item: ErpItem) -> Doc:
    """One world item as a stored Xero Item."""
    body = item_body(item.record_id, item.code, item.name, item.description, item.price_cents,
                     item.updated_ms)
    return Doc(item.record_id, item.updated_ms, body, item.archived, body["Code"].lower())


def invoice_doc(invoice: ErpInvoice, contact_names: dict[str, str],
                payments: list[ErpPayment], credited_cents: int) -> Doc:
    """One world invoice as a stored Xero Invoice (its live payments and credits applied)."""
    status = served_status(invoice)
    lines = [line_item(invoice.record_id, i, ln.item_code, ln.description, float(ln.quantity),
                       money(ln.unit_cents)) for i, ln in enumerate(invoice.lines)]
    refs = [payment_ref(p.record_id, p.date, money(p.amount_cents)) for p in payments
            if p.status != "DELETED" and not p.archived]
    contact = {"ContactID": invoice.contact_record_id,
               "Name": contact_names.get(invoice.contact_record_id, "")}
    body = invoice_body(invoice.record_id, invoice.number, "ACCREC", contact, invoice.reference,
                        invoice.date, invoice.due_date, status, invoice.currency, lines,
                        invoice.updated_ms, refs, money(credited_cents))
    return Doc(invoice.record_id, invoice.updated_ms, body, status in {"VOIDED", "DELETED"},
               invoice.number.lower())


def credited_cents(notes: Iterable[ErpCreditNote]) -> dict[str, int]:
    """Credit (cents) allocated to each invoice by its live credit notes."""
    credited: dict[str, int] = defaultdict(int)
    for note in notes:
        if note.invoice_record_id and note.status != "VOIDED" and not note.archived:
            credited[note.invoice_record_id] += note.total_cents
    return credited


def _max_number(numbers: Iterable[str]) -> int:
    best = 0
    for number in numbers:
        match = _DIGITS.search(number)
        if match:
            best = max(best, int(match.group(1)))
    return best


def seed(world: World, store: Store) -> None:
    """Write every ERP record of ``world`` into ``store`` with its truth rows and breaks."""
    with bulk.Loader(store) as load:
        _seed(world, store, load)
    queries.ensure_indexes(store)


def _seed(world: World, store: Store, load: bulk.Loader) -> None:
    erp = world.erp
    contact_names = {c.record_id: c.name for c in erp.contacts}
    for chunk in _chunks(erp.contacts):
        load.rows("contacts", [seedtext.contact_row(c) for c in chunk])
    load.docs("items", (item_doc(i) for i in erp.items))

    payments_by_invoice: dict[str, list[ErpPayment]] = defaultdict(list)
    for payment in erp.payments:
        payments_by_invoice[payment.invoice_record_id].append(payment)
    credited = credited_cents(erp.credit_notes)
    invoice_refs: dict[str, InvoiceRef] = {}
    for ichunk in _chunks(erp.invoices):
        load.rows("invoices", [
            seedtext.invoice_row(inv, served_status(inv),
                                 contact_names.get(inv.contact_record_id, ""),
                                 payments_by_invoice.get(inv.record_id, ()),
                                 credited.get(inv.record_id, 0))
            for inv in ichunk])
        for inv in ichunk:
            invoice_refs[inv.record_id] = (inv.number, inv.contact_record_id, inv.currency)
    for pchunk in _chunks(erp.payments):
        rows = []
        for p in pchunk:
            ref = invoice_refs.get(p.invoice_record_id)
            if ref is not None:
                rows.append(seedtext.payment_row(p, ref[0], ref[1], contact_names.get(ref[1], ""),
                                                 ref[2]))
        load.rows("payments", rows)
    load.docs("credit_notes", (_credit_note_doc(n, contact_names, invoice_refs)
                               for n in erp.credit_notes))

    for tchunk in _chunks(
        [("contacts", c.record_id, c.entity_id) for c in erp.contacts]
        + [("items", i.record_id, i.entity_id) for i in erp.items]
        + [("invoices", v.record_id, v.entity_id) for v in erp.invoices]
    ):
        load.truth(tchunk)
    store.add_breaks((b.kind, b.record_id, b.detail) for b in world.breaks if b.system == "erp")
    store.meta_set(f"counter:{NUMBER_COUNTER}", str(_max_number(v.number for v in erp.invoices)))
    store.meta_set("counter:erp_credit_note_number",
                   str(_max_number(n.number for n in erp.credit_notes)))
    store.meta_set("erp:currency", _main_currency(erp.invoices))


def _invoice_summary(record_id: str, ref: InvoiceRef,
                     contact_names: dict[str, str]) -> dict[str, Any]:
    number, contact_id, currency = ref
    return {"Type": "ACCREC", "InvoiceID": record_id, "InvoiceNumber": number,
            "Contact": {"ContactID": contact_id, "Name": contact_names.get(contact_id, "")},
            "CurrencyCode": currency}


def payment_doc(payment: ErpPayment, invoices: dict[str, InvoiceRef],
                contact_names: dict[str, str]) -> Doc:
    """One world payment as a stored Xero Payment."""
    status = "DELETED" if payment.archived else payment.status
    invoice = _invoice_summary(payment.invoice_record_id, invoices[payment.invoice_record_id],
                               contact_names)
    body = payment_body(payment.record_id, invoice, payment.amount_cents, payment.date, status,
                        payment.updated_ms)
    return Doc(payment.record_id, payment.updated_ms, body, status == "DELETED",
               payment.invoice_record_id.lower())


def _credit_note_doc(note: ErpCreditNote, contact_names: dict[str, str],
                     invoices: dict[str, InvoiceRef]) -> Doc:
    ref = invoices.get(note.invoice_record_id or "")
    invoice = (_invoice_summary(note.invoice_record_id or "", ref, contact_names)
               if ref is not None else None)
    contact = {"ContactID": note.contact_record_id,
               "Name": contact_names.get(note.contact_record_id, "")}
    currency = ref[2] if ref else DEFAULT_CURRENCY
    status = "VOIDED" if note.archived and note.status != "VOIDED" else note.status
    body = credit_note_body(note.record_id, note.number, contact, invoice, note.date, status,
                            note.total_cents, currency, note.updated_ms)
    return Doc(note.record_id, note.updated_ms, body, status == "VOIDED", note.number.lower())


def _main_currency(invoices: list[ErpInvoice]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for invoice in invoices[:10_000]:
        counts[invoice.currency] += 1
    return max(counts, key=lambda c: counts[c]) if counts else DEFAULT_CURRENCY
