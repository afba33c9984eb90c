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

import httpx

from reverse_etl.connections import Connection
from reverse_etl.destinations.base import (
    Outcome,
    body_json,
    failed_all,
    idempotency_key,
    present,
    rejected,
)
from reverse_etl.destinations.erp import element_outcomes
from reverse_etl.destinations.xero import XeroClient, error_message, nest, parse_ms_json
from reverse_etl.pacing import Pacer, PaceStats, RetriesExhausted, request_id
from reverse_etl.plan import Change
from reverse_etl.spec import SyncSpec

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


class ErpInvoicesWriter:
    """Creates draft sales invoices for one sync's deals."""

    needs_intent = True

    def __init__(self, spec: SyncSpec, connection: Connection, pacer: Pacer | None = None,
                 client: httpx.Client | None = None) -> None:
        self.spec = spec
        self.match = spec.destination.match
        self.xero = XeroClient(spec, connection, pacer, client)

    def route(self, change: Change) -> str:
        del change
        return ROUTE

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
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
        try:
            contact_ids, contact_errors = self._contacts(ready, elements)
        except RetriesExhausted as exc:
            return outcomes + failed_all(ready, exc)
        sendable: list[tuple[Change, dict[str, Any]]] = []
        for change, element in zip(ready, elements, strict=True):
            if change.key in contact_errors:
                outcomes.append(rejected(change, f"contact: {contact_errors[change.key]}"))
                continue
            if change.key in contact_ids:
                element["Contact"] = {"ContactID": contact_ids[change.key]}
            sendable.append((change, element))
        if sendable:
            outcomes += self._post([c for c, _ in sendable], [e for _, e in sendable])
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
                  ) -> tuple[dict[str, str], dict[str, str]]:
        """Create or match the contacts of deals without a ContactID, by ContactNumber."""
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
            return {}, {}
        numbers = sorted(by_number)
        contacts = [by_number[n] for n in numbers]
        standins = [Change(f"contact:{n}", "insert", None, by_number[n],
                           json.dumps(by_number[n], sort_keys=True)) for n in numbers]
        response = self.xero.post("Contacts", contacts,
                                  idempotency_key(self.spec.name, "contacts", standins))
        ids: dict[str, str] = {}
        errors: dict[str, str] = {}
        results = element_outcomes(standins, response, "Contacts", "ContactID")
        if results is None:
            reason = error_message(body_json(response), response)
            results = [rejected(s, reason) for s in standins]
        for number, result in zip(numbers, results, strict=True):
            for key in keys_by_number[number]:
                if result.status == "ok" and result.destination_id:
                    ids[key] = result.destination_id
                else:
                    errors[key] = result.reason or "Xero did not confirm the contact"
        return ids, errors

    def _post(self, changes: list[Change], elements: list[dict[str, Any]]) -> list[Outcome]:
        key = idempotency_key(self.spec.name, ROUTE, changes)
        try:
            response = self.xero.post("Invoices", elements, key)
        except RetriesExhausted as exc:
            return failed_all(changes, exc)
        outcomes = element_outcomes(changes, response, "Invoices", "InvoiceID")
        if outcomes is not None:
            return outcomes
        if len(changes) > 1:
            middle = len(changes) // 2
            return (self._post(changes[:middle], elements[:middle])
                    + self._post(changes[middle:], elements[middle:]))
        body = body_json(response)
        return [rejected(changes[0], error_message(body, response),
                         http_status=response.status_code,
                         request_id=request_id(response, body))]

    def pace_stats(self) -> list[PaceStats]:
        return [self.xero.pacer.stats]

    def close(self) -> None:
        self.xero.close()
