"""The Xero endpoints goldloop reads: path, envelope, key, status vocabulary and query.

One row per resource; the resources in :mod:`pipelines.erp` read these instead of repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entity:
    """One Xero list endpoint and how its records land."""

    name: str  # resource and table name in raw_erp
    path: str  # under the API base URL
    envelope: str  # the response key holding the records
    primary_key: str
    paged: bool = True
    status_field: str | None = None
    deleted_statuses: frozenset[str] = frozenset()
    params: dict[str, str] = field(default_factory=dict)


CURSOR = "UpdatedDateUTC"
ORDER = f"{CURSOR} ASC"

CONTACTS = Entity(
    "contacts", "Contacts", "Contacts", "ContactID", status_field="ContactStatus",
    # archived contacts are left out of the list unless asked for; GDPR requests erase a person
    deleted_statuses=frozenset({"ARCHIVED", "GDPRREQUEST"}), params={"includeArchived": "true"},
)
INVOICES = Entity(
    "invoices", "Invoices", "Invoices", "InvoiceID", status_field="Status",
    deleted_statuses=frozenset({"DELETED", "VOIDED"}),
)
PAYMENTS = Entity(
    "payments", "Payments", "Payments", "PaymentID", status_field="Status",
    deleted_statuses=frozenset({"DELETED"}),
)
# Items have no status and no paging: the whole list comes in one answer.
ITEMS = Entity("items", "Items", "Items", "ItemID", paged=False)
CREDIT_NOTES = Entity(
    "credit_notes", "CreditNotes", "CreditNotes", "CreditNoteID", status_field="Status",
    deleted_statuses=frozenset({"DELETED", "VOIDED"}),
)

ENTITIES: tuple[Entity, ...] = (CONTACTS, INVOICES, PAYMENTS, ITEMS, CREDIT_NOTES)
