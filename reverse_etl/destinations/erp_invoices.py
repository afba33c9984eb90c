"""Xero sales invoices from CRM deals: insert-only, idempotent, contact first.

- The deal's ERP contact: a ``Contact.ContactID`` from the model is used as is; without one the
  contact is created or matched first, in the same run, by ``POST /Contacts`` with its
  ``Contact.ContactNumber`` (Xero updates the contact holding that number rather than adding
  one). A contact Xero rejects rejects its deal with that reason.
- ``LineItems`` comes from the model as JSON (a list of ``{ItemCode, Description, Quantity,
  UnitAmount, DiscountRate, ...}``); the model maps CRM products to ERP item codes and rejects
  a deal with an unmapped product before anything is sent.
- Every create carries an ``Idempotency-Key`` built from the deal ids, payload hashes and
  attempt; a record left in flight by a stopped run is first looked up by its ``Reference``
  (``DEAL-<deal id>``), so a crash and rerun never bills a deal twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reverse_etl.destinations.base import Outcome, body_json, failed_all, present, rejected
from reverse_etl.destinations.xero import XeroWriter, nest, parse_ms_json
from reverse_etl.pacing import RetriesExhausted
from reverse_etl.plan import Change

ROUTE = "invoices"
CONTACT_FIELDS = ("ContactNumber", "Name", "FirstName", "LastName", "EmailAddress")


def invoice_element(change: Change, nulls: str) -> dict[str, Any]:
    """The Invoices element of one change (``LineItems`` parsed from its JSON text).

    >>> invoice_element(Change("7", "insert", None, {"Reference": "DEAL-7", "LineItems":
    ...     '[{"ItemCode": "A", "Quantity": 1}]', "Contact.ContactID": None,
    ...     "Contact.Name": "Acme"}, "h"), "skip")
    {'Reference': 'DEAL-7', 'LineItems': [{'ItemCode': 'A', 'Quantity': 1}], 'Contact': {'Name': 'Acme'}}
    """  # noqa: E501
    values = present(change.payload, nulls)
    lines = values.get("LineItems")
    if isinstance(lines, str):
        values["LineItems"] = json.loads(lines)
    return nest(values)


def where_references(references: Sequence[str]) -> str:
    """A Xero ``where`` matching any of ``references``.

    >>> where_references(["DEAL-1", 'DEAL-"2'])
    'Reference=="DEAL-1" OR Reference=="DEAL-2"'
    """
    return " OR ".join(f'Reference=="{r.replace(chr(34), "")}"' for r in references)


class ErpInvoicesWriter(XeroWriter):
    """Creates draft sales invoices for one sync's deals."""

    ROUTE = ROUTE
    needs_intent = True

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        del route
        outcomes: list[Outcome] = []
        pending = list(changes)
        try:
            found = self._existing([c for c in pending if c.is_retry])
        except RetriesExhausted as exc:
            return failed_all(pending, exc)
        for change in [c for c in pending if c.key in found]:
            invoice_id, updated = found[change.key]
            outcomes.append(Outcome(change.key, "ok", invoice_id, updated,
                                    reason="already created by an earlier, interrupted run"))
        pending = [c for c in pending if c.key not in found]
        elements: list[dict[str, Any]] = []
        ready: list[Change] = []
        for change in pending:
            try:
                element = invoice_element(change, self.spec.nulls)
            except ValueError as exc:
                outcomes.append(rejected(change, f"LineItems is not valid JSON: {exc}"))
                continue
            elements.append(element)
            ready.append(change)
        contacts = self._contacts(ready, elements)
        sendable: list[tuple[Change, dict[str, Any]]] = []
        for change, element in zip(ready, elements, strict=True):
            contact = contacts.get(change.key)
            if contact is not None and contact.status != "ok":
                outcomes.append(Outcome(change.key, contact.status, change.destination_id,
                                        reason=f"contact: {contact.reason}"))
                continue
            if contact is not None:
                element["Contact"] = {"ContactID": contact.destination_id}
            sendable.append((change, element))
        if sendable:
            outcomes += self.post("Invoices", "InvoiceID", [c for c, _ in sendable],
                                  [e for _, e in sendable])
        return outcomes

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        del route
        return [rejected(c, "invoices are never deleted by a sync") for c in changes]

    # -- steps --------------------------------------------------------------------------------
    def _existing(self, changes: Sequence[Change]) -> dict[str, tuple[str, Any]]:
        """Invoices already in Xero for in-flight records, by key (matched on ``Reference``)."""
        wanted = {str(c.payload.get(self.match)): c.key for c in changes
                  if c.payload.get(self.match)}
        if not wanted:
            return {}
        response = self.xero.get("Invoices", {"where": where_references(sorted(wanted))})
        body = body_json(response)
        found: dict[str, tuple[str, Any]] = {}
        for invoice in (body or {}).get("Invoices") or []:
            reference = str(invoice.get("Reference", ""))
            if reference in wanted and invoice.get("Status") not in ("DELETED", "VOIDED"):
                found[wanted[reference]] = (str(invoice["InvoiceID"]),
                                            parse_ms_json(invoice.get("UpdatedDateUTC")))
        return found

    def _contacts(self, changes: Sequence[Change], elements: Sequence[dict[str, Any]],
                  ) -> dict[str, Outcome]:
        """Create or match the contacts of deals without a ContactID, by ContactNumber.

        Returns, per deal key, the outcome of its contact's write: ``ok`` with the ContactID,
        ``rejected`` (the deal is rejected with that reason) or ``failed`` (retried next run).
        """
        by_number: dict[str, dict[str, Any]] = {}
        keys_by_number: dict[str, list[str]] = {}
        for change, element in zip(changes, elements, strict=True):
            contact = element.get("Contact") or {}
            number = contact.get("ContactNumber")
            if contact.get("ContactID") or not number:
                continue
            by_number.setdefault(number, {k: v for k, v in contact.items()
                                          if k in CONTACT_FIELDS and v is not None})
            keys_by_number.setdefault(number, []).append(change.key)
        if not by_number:
            return {}
        numbers = sorted(by_number)
        standins = [Change(f"contact:{n}", "insert", None, by_number[n],
                           json.dumps(by_number[n], sort_keys=True)) for n in numbers]
        results = self.post("Contacts", "ContactID", standins, [by_number[n] for n in numbers],
                            route="contacts")
        return {key: result for number, result in zip(numbers, results, strict=True)
                for key in keys_by_number[number]}
