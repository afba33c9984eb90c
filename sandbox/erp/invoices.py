"""Creating and updating Invoices the way Xero does (``PUT``/``POST /Invoices``).

- ``POST`` updates the invoice named by ``InvoiceID`` or an existing ``InvoiceNumber``; otherwise
  it creates one. ``PUT`` only creates (a used ``InvoiceNumber`` is "Invoice # must be unique.").
- ``Contact`` is found by ``ContactID``, ``ContactNumber`` or ``Name``; an unknown name creates the
  contact, as Xero does.
- Totals come from the lines (``LineAmount`` = ``Quantity`` * ``UnitAmount``, no tax);
  a line with an ``ItemCode`` takes the item's description and price unless sent.
- Status moves as in Xero: DRAFT/SUBMITTED → AUTHORISED or DELETED; AUTHORISED → VOIDED (only
  with nothing paid); PAID, VOIDED and DELETED invoices cannot be modified; PAID comes only from
  payments.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from sandbox.erp.contacts import find_by_number, new_contact
from sandbox.erp.dates import add_days, parse_request_date, today_iso
from sandbox.erp.docs import DEFAULT_CURRENCY, SALES_ACCOUNT, invoice_body, line_item
from sandbox.erp.writes import (
    Batch,
    Outcome,
    guid_field,
    number_field,
    object_field,
    objects_field,
    require_object,
    text_field,
    type_error,
)
from sandbox.store import Doc, Store

OBJ = "invoices"
TYPES = {"ACCREC", "ACCPAY"}
CREATE_STATUSES = {"DRAFT", "SUBMITTED", "AUTHORISED"}
CLOSED = {"PAID", "VOIDED", "DELETED"}
LINE_AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
NUMBER_COUNTER = "erp_invoice_number"


def next_invoice_number(store: Store) -> str:
    """The next ``INV-0000001``-style number (the seeder leaves the counter at its maximum)."""
    return f"INV-{store.next_id(NUMBER_COUNTER, 0):07d}"


def _date(sent: dict[str, Any], name: str, where: str) -> str | None:
    value = text_field(sent, name, where)
    if value is None or value == "":
        return None
    try:
        return parse_request_date(value)
    except ValueError as exc:
        raise type_error(where, name, "a date (YYYY-MM-DD)", value) from exc


def _status_errors(current: str | None, wanted: str, paid: float) -> list[str]:
    """Why an invoice may not move from ``current`` (None = new) to ``wanted``.

    >>> _status_errors(None, "PAID", 0.0)
    ['Invoice status cannot be set to PAID: apply a payment to an AUTHORISED invoice']
    >>> _status_errors("AUTHORISED", "VOIDED", 0.0), _status_errors("DRAFT", "DELETED", 0.0)
    ([], [])
    """
    if wanted == "PAID" and current != "PAID":
        return ["Invoice status cannot be set to PAID: apply a payment to an AUTHORISED invoice"]
    if current is None:
        if wanted not in CREATE_STATUSES:
            return [f"An invoice cannot be created with status {wanted}"]
        return []
    if current in CLOSED:
        return ["Invoice not of valid status for modification"]
    if wanted == "DELETED" and current not in {"DRAFT", "SUBMITTED"}:
        return ["Only DRAFT or SUBMITTED invoices can be deleted; void an AUTHORISED invoice"]
    if wanted == "VOIDED":
        if current != "AUTHORISED":
            return ["Only AUTHORISED invoices can be voided; delete a DRAFT or SUBMITTED one"]
        if paid > 0:
            return ["Invoice has payments applied and cannot be voided: remove them first"]
    if current == "AUTHORISED" and wanted in {"DRAFT", "SUBMITTED"}:
        return [f"An AUTHORISED invoice cannot be moved back to {wanted}"]
    return []


def _contact(batch: Batch, sent: dict[str, Any] | None, where: str, errors: list[str],
             ) -> tuple[dict[str, str] | None, list[tuple[str, Doc]]]:
    """``{ContactID, Name}`` for the invoice, plus a contact to create when named but unknown."""
    if sent is None:
        return None, []
    contact_id = guid_field(sent, "ContactID", f"{where}.Contact")
    number = text_field(sent, "ContactNumber", f"{where}.Contact")
    name = (text_field(sent, "Name", f"{where}.Contact") or "").strip()
    ctx, pending = batch.ctx, batch.pending
    doc: Doc | None = None
    if contact_id is not None:
        doc = pending.get(ctx, "contacts", contact_id)
        if doc is None:
            errors.append(f"A contact with ContactID {contact_id} could not be found")
            return None, []
    elif number:
        found = find_by_number(batch, number)
        if not found:
            errors.append(f"A contact with ContactNumber {number} could not be found")
            return None, []
        doc = found[0]
    elif name:
        matches = [d for d in pending.by_key(ctx, "contacts", name.lower()) if not d.archived]
        if matches:
            doc = matches[0]
        else:
            body = new_contact(str(uuid.uuid4()), batch.now_ms)
            body["Name"] = name
            body["IsCustomer"] = True
            created = Doc(id=body["ContactID"], updated_ms=batch.now_ms, body=body,
                          key=name.lower())
            return {"ContactID": created.id, "Name": name}, [("contacts", created)]
    else:
        errors.append("A Contact must be specified with a ContactID, ContactNumber or Name")
        return None, []
    if doc.archived:
        errors.append(f"The contact {doc.body.get('Name')} is archived and cannot be used "
                      "on an invoice")
        return None, []
    return {"ContactID": doc.id, "Name": str(doc.body.get("Name", ""))}, []


def _lines(batch: Batch, invoice_id: str, sent: list[dict[str, Any]], where: str,
           errors: list[str]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for index, raw in enumerate(sent):
        at = f"{where}.LineItems[{index}]"
        code = text_field(raw, "ItemCode", at)
        description = text_field(raw, "Description", at)
        quantity = number_field(raw, "Quantity", at)
        unit = number_field(raw, "UnitAmount", at)
        account = text_field(raw, "AccountCode", at) or SALES_ACCOUNT
        line_id = guid_field(raw, "LineItemID", at)
        if code:
            items = [d for d in batch.ctx.store.find_by_key("items", code.lower())
                     if not d.archived]
            if not items:
                errors.append(f"Item code '{code}' is not valid")
                continue
            item = items[0].body
            description = description if description is not None else item.get("Description")
            if unit is None:
                unit = float(item.get("SalesDetails", {}).get("UnitPrice", 0.0))
        if not description:
            errors.append("The description field is mandatory for each line item.")
            continue
        lines.append(line_item(invoice_id, index, code, description,
                               1.0 if quantity is None else quantity,
                               0.0 if unit is None else round(unit, 4), account, line_id))
    return lines


def _find_target(batch: Batch, invoice_id: str | None, number: str | None,
                 errors: list[str]) -> Doc | None:
    ctx, pending = batch.ctx, batch.pending
    if invoice_id is not None:
        doc = pending.get(ctx, OBJ, invoice_id)
        if doc is None:
            errors.append(f"An invoice with InvoiceID {invoice_id} could not be found")
        elif batch.mode == "create":
            errors.append(f"An invoice with InvoiceID {invoice_id} already exists: use POST to "
                          "update it")
        return doc
    if number:
        existing = pending.by_key(ctx, OBJ, number.lower())
        if existing:
            if batch.mode == "create":
                errors.append("Invoice # must be unique.")
            return existing[0]
    return None


def write_invoice(batch: Batch, element: Any, where: str) -> Outcome:
    """Apply one Invoices element; errors are collected, wrong JSON types fail the request."""
    sent = require_object(element, where)
    errors: list[str] = []
    invoice_id = guid_field(sent, "InvoiceID", where)
    number = text_field(sent, "InvoiceNumber", where)
    kind = text_field(sent, "Type", where)
    status = text_field(sent, "Status", where)
    reference = text_field(sent, "Reference", where)
    currency = text_field(sent, "CurrencyCode", where)
    amount_types = text_field(sent, "LineAmountTypes", where)
    day = _date(sent, "Date", where)
    due_day = _date(sent, "DueDate", where)
    contact_sent = object_field(sent, "Contact", where)
    lines_sent = objects_field(sent, "LineItems", where)

    target = _find_target(batch, invoice_id, number, errors)
    if errors:
        return Outcome(echo=sent, errors=errors)
    old: dict[str, Any] = copy.deepcopy(target.body) if target else {}
    new_id = target.id if target else str(uuid.uuid4())
    current_status = old.get("Status") if target else None
    wanted = (status or current_status or "DRAFT").upper()
    errors += _status_errors(current_status, wanted, float(old.get("AmountPaid", 0.0)))
    if current_status in CLOSED:
        return Outcome(echo=sent, errors=errors)

    invoice_type = (kind or old.get("Type") or "").upper()
    if invoice_type not in TYPES:
        errors.append("Invoice Type must be ACCREC or ACCPAY" if invoice_type
                      else "Invoice Type must be specified")
    contact, extra = _contact(batch, contact_sent, where, errors)
    if contact is None and contact_sent is None:
        if target is None:
            errors.append("A Contact must be specified with a ContactID, ContactNumber or Name")
        contact = old.get("Contact")
    lines = (_lines(batch, new_id, lines_sent, where, errors) if lines_sent is not None
             else list(old.get("LineItems", [])))
    if wanted == "AUTHORISED" and not lines:
        errors.append("At least one line item is required to approve an invoice")
    code = (currency or old.get("CurrencyCode") or DEFAULT_CURRENCY).upper()
    if not _CURRENCY.match(code):
        errors.append(f"CurrencyCode '{code}' is not a valid currency code")
    line_types = old.get("LineAmountTypes", "NoTax")
    if amount_types is not None:
        line_types = LINE_AMOUNT_TYPES.get(amount_types.lower(), "")
        if not line_types:
            errors.append(f"LineAmountTypes '{amount_types}' is not valid: use Exclusive, "
                          "Inclusive or NoTax")
    if errors or contact is None:
        return Outcome(echo=sent, errors=errors or ["A Contact must be specified"])

    issue_day = day or (old["DateString"][:10] if old else today_iso(batch.now_ms))
    due = due_day or (old["DueDateString"][:10] if old else add_days(issue_day, 30))
    body = invoice_body(
        new_id, number or old.get("InvoiceNumber") or next_invoice_number(batch.ctx.store),
        invoice_type,
        contact, reference if reference is not None else old.get("Reference", ""), issue_day,
        due, wanted, code, lines, batch.now_ms, old.get("Payments", []),
        float(old.get("AmountCredited", 0.0)),
    )
    body["LineAmountTypes"] = line_types
    doc = Doc(id=new_id, updated_ms=batch.now_ms, body=body, archived=wanted in {"VOIDED",
              "DELETED"}, key=str(body["InvoiceNumber"]).lower())
    events = [("CONTACT", "CREATE", d.id) for _, d in extra]
    events.append(("INVOICE", "UPDATE" if target else "CREATE", doc.id))
    return Outcome(echo=body, writes=[*extra, (OBJ, doc)], events=events)
