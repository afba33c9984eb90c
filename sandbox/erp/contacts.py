"""Creating and updating Contacts the way Xero does (``PUT``/``POST /Contacts``).

- ``POST`` updates the contact named by ``ContactID``; without one, a contact whose
  ``ContactNumber`` matches is updated (Xero's external-reference key); otherwise one is created.
  ``PUT`` only creates.
- Fields not sent are kept. ``Phones`` and ``Addresses`` merge by ``PhoneType``/``AddressType``.
  ``ContactStatus: "ARCHIVED"`` archives, ``"ACTIVE"`` restores.
- ``Name`` is required and must be unique across all active contacts (case-insensitive).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from sandbox.erp.dates import ms_json
from sandbox.erp.docs import ADDRESS_TYPES, PHONE_TYPES, blank_address, blank_phone
from sandbox.erp.writes import (
    Batch,
    Outcome,
    bool_field,
    guid_field,
    objects_field,
    require_object,
    text_field,
)
from sandbox.store import Doc

OBJ = "contacts"
TEXT_LIMITS: dict[str, int] = {
    "ContactNumber": 50, "AccountNumber": 50, "Name": 255, "FirstName": 255, "LastName": 255,
    "EmailAddress": 255, "CompanyNumber": 50, "TaxNumber": 50, "BankAccountDetails": 255,
    "DefaultCurrency": 3, "AccountsReceivableTaxType": 50, "AccountsPayableTaxType": 50,
}
PHONE_LIMITS = {"PhoneNumber": 50, "PhoneAreaCode": 10, "PhoneCountryCode": 20}
ADDRESS_LIMITS = {"AddressLine1": 500, "AddressLine2": 500, "AddressLine3": 500,
                  "AddressLine4": 500, "City": 255, "Region": 255, "PostalCode": 50,
                  "Country": 50, "AttentionTo": 255}
STATUSES = {"ACTIVE", "ARCHIVED"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def name_taken_message(name: str) -> str:
    """Xero's message for a duplicate contact name.

    >>> name_taken_message("Ann Lee")[:40]
    'The contact name Ann Lee is already assi'
    """
    return (f"The contact name {name} is already assigned to another contact. The contact name "
            "must be unique across all active contacts.")


def _merge_typed(current: list[dict[str, Any]], incoming: list[dict[str, Any]], type_key: str,
                 allowed: tuple[str, ...], limits: dict[str, int], where: str,
                 errors: list[str]) -> list[dict[str, Any]]:
    """Replace the entries of ``current`` whose type appears in ``incoming``."""
    merged = {entry.get(type_key): dict(entry) for entry in current}
    for index, entry in enumerate(incoming):
        kind = text_field(entry, type_key, f"{where}[{index}]") or allowed[0]
        if kind.upper() not in allowed:
            errors.append(f"{type_key} '{kind}' is not valid: use one of {', '.join(allowed)}")
            continue
        kind = kind.upper()
        target = merged.setdefault(
            kind, blank_phone(kind) if type_key == "PhoneType" else blank_address(kind))
        for name, limit in limits.items():
            value = text_field(entry, name, f"{where}[{index}]")
            if value is None:
                continue
            if len(value) > limit:
                errors.append(f"{name} must be {limit} characters or fewer")
            target[name] = value
    order = {kind: i for i, kind in enumerate(allowed)}
    return sorted(merged.values(), key=lambda e: order.get(str(e.get(type_key)), 99))


def new_contact(contact_id: str, now_ms: int) -> dict[str, Any]:
    """An empty contact as Xero creates it before the sent fields are applied."""
    return {
        "ContactID": contact_id, "ContactStatus": "ACTIVE", "Name": "", "FirstName": "",
        "LastName": "", "EmailAddress": "",
        "Addresses": [blank_address(t) for t in ADDRESS_TYPES],
        "Phones": [blank_phone(t) for t in PHONE_TYPES],
        "UpdatedDateUTC": ms_json(now_ms), "ContactGroups": [], "IsSupplier": False,
        "IsCustomer": False, "ContactPersons": [], "HasAttachments": False,
        "HasValidationErrors": False,
    }


def _find_target(batch: Batch, contact_id: str | None, number: str | None,
                 errors: list[str]) -> Doc | None:
    """The stored contact this element writes to (None = create)."""
    ctx, pending = batch.ctx, batch.pending
    if contact_id is not None:
        doc = pending.get(ctx, OBJ, contact_id)
        if doc is None:
            errors.append(f"A contact with ContactID {contact_id} could not be found")
        elif batch.mode == "create":
            errors.append(f"A contact with ContactID {contact_id} already exists: use POST to "
                          "update it")
        return doc
    if batch.mode == "upsert" and number:
        lowered = number.lower()
        matches = [d for d in pending.docs.values() if d.body.get("ContactNumber", "").lower()
                   == lowered] or find_by_number(batch, number)
        if matches:
            return matches[0]
    return None


def find_by_number(batch: Batch, number: str) -> list[Doc]:
    """Stored contacts with this ``ContactNumber`` (case-insensitive, indexed)."""
    return batch.ctx.store.query(
        OBJ, "lower(json_extract(body, '$.ContactNumber')) = lower(?)", (number,), limit=5)


def name_in_use(batch: Batch, name: str, own_id: str) -> bool:
    """Whether another active contact (stored or earlier in this batch) has this name."""
    return any(doc.id != own_id and not doc.archived
               for doc in batch.pending.by_key(batch.ctx, OBJ, name.lower()))


def write_contact(batch: Batch, element: Any, where: str) -> Outcome:
    """Apply one Contacts element; errors are collected, wrong JSON types fail the request."""
    sent = require_object(element, where)
    errors: list[str] = []
    contact_id = guid_field(sent, "ContactID", where)
    texts = {name: text_field(sent, name, where) for name in TEXT_LIMITS}
    status = text_field(sent, "ContactStatus", where)
    flags = {name: bool_field(sent, name, where) for name in ("IsCustomer", "IsSupplier")}
    phones = objects_field(sent, "Phones", where)
    addresses = objects_field(sent, "Addresses", where)

    target = _find_target(batch, contact_id, texts["ContactNumber"], errors)
    if errors:
        return Outcome(echo=sent, errors=errors)
    body = copy.deepcopy(target.body) if target else new_contact(str(uuid.uuid4()), batch.now_ms)
    for name, value in texts.items():
        if value is None:
            continue
        if len(value) > TEXT_LIMITS[name]:
            errors.append(f"{name} must be {TEXT_LIMITS[name]} characters or fewer")
        body[name] = value.strip() if name == "Name" else value
    for name, flag in flags.items():
        if flag is not None:
            body[name] = flag
    if status is not None:
        if status.upper() not in STATUSES:
            errors.append(f"ContactStatus '{status}' is not valid: use ACTIVE or ARCHIVED")
        else:
            body["ContactStatus"] = status.upper()
    if phones is not None:
        body["Phones"] = _merge_typed(body.get("Phones", []), phones, "PhoneType", PHONE_TYPES,
                                      PHONE_LIMITS, f"{where}.Phones", errors)
    if addresses is not None:
        body["Addresses"] = _merge_typed(body.get("Addresses", []), addresses, "AddressType",
                                         ADDRESS_TYPES, ADDRESS_LIMITS, f"{where}.Addresses",
                                         errors)
    name = str(body.get("Name") or "")
    email = str(body.get("EmailAddress") or "")
    if not name:
        errors.append("The contact name must be specified.")
    if email and not _EMAIL.match(email):
        errors.append("Email address must be valid.")
    archived = body["ContactStatus"] == "ARCHIVED"
    if name and not archived and name_in_use(batch, name, body["ContactID"]):
        errors.append(name_taken_message(name))
    if errors:
        return Outcome(echo=sent, errors=errors)
    body["UpdatedDateUTC"] = ms_json(batch.now_ms)
    body.pop("StatusAttributeString", None)
    body.pop("ValidationErrors", None)
    doc = Doc(id=body["ContactID"], updated_ms=batch.now_ms, body=body, archived=archived,
              key=name.lower())
    event = ("CONTACT", "UPDATE" if target else "CREATE", doc.id)
    return Outcome(echo=body, writes=[(OBJ, doc)], events=[event])
