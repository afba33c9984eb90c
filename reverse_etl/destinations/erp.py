"""Xero contacts: ``POST /Contacts`` (≤ 50 per request, ``summarizeErrors=false``).

- A record with a known ``ContactID`` is updated by it; one without is created or matched by
  its natural key (``ContactNumber``: Xero updates the contact holding that number instead of
  creating another), and the request carries a deterministic ``Idempotency-Key``. Either way a
  repeat never creates a second contact.
- Per-element outcomes come from the 200 answer (elements keep their order): ``OK`` with the
  ``ContactID`` and ``UpdatedDateUTC``, or ``ERROR`` with its ``ValidationErrors``. A 400 for the
  whole request is split in halves until the bad element stands alone.
- Field names are Xero's; ``Phones.<TYPE>.<Field>`` and ``Addresses.<TYPE>.<Field>`` build the
  typed lists (``Phones.DEFAULT.PhoneNumber``, ``Addresses.STREET.City``).
- Archive (mirror mode): ``ContactStatus: ARCHIVED`` by ``ContactID``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverse_etl.destinations.base import Outcome, present, rejected
from reverse_etl.destinations.xero import XeroWriter, nest
from reverse_etl.plan import Change

TYPED_LISTS = (("Phones", "PhoneType"), ("Addresses", "AddressType"))
ROUTE = "contacts"


def contact_element(change: Change, nulls: str) -> dict[str, Any]:
    """The Contacts element of one change.

    >>> contact_element(Change("k", "update", "c-1", {"Name": "A", "EmailAddress": None},
    ...                        "h"), "skip")
    {'Name': 'A', 'ContactID': 'c-1'}
    """
    values = present(change.payload, nulls)
    if nulls == "clear":
        values = {k: ("" if v is None else v) for k, v in values.items()}
    element = nest(values, TYPED_LISTS)
    if change.destination_id:
        element["ContactID"] = change.destination_id
    return element


class ErpContactsWriter(XeroWriter):
    """Writes one sync's changes to Xero contacts."""

    ROUTE = ROUTE

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        del route
        outcomes: list[Outcome] = []
        ready: list[Change] = []
        for change in changes:
            if not change.destination_id and not change.payload.get(self.match):
                outcomes.append(rejected(change, f"no ContactID and no {self.match}: a create "
                                                 "without a natural key could duplicate"))
            else:
                ready.append(change)
        if ready:
            outcomes += self.post("Contacts", "ContactID", ready,
                                  [contact_element(c, self.spec.nulls) for c in ready])
        return outcomes

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        """Archive (``ContactStatus: ARCHIVED``) contacts that left the model, by ContactID."""
        del route
        outcomes = [rejected(c, "no ContactID to archive") for c in changes
                    if not c.destination_id]
        known = [c for c in changes if c.destination_id]
        if known:
            outcomes += self.post("Contacts", "ContactID", known, [
                {"ContactID": c.destination_id, "ContactStatus": "ARCHIVED"} for c in known])
        return outcomes
