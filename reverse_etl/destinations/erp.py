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
from reverse_etl.destinations.xero import (
    XeroClient,
    element_reasons,
    error_message,
    nest,
    parse_ms_json,
)
from reverse_etl.pacing import Pacer, PaceStats, RetriesExhausted, request_id
from reverse_etl.plan import Change
from reverse_etl.spec import SyncSpec

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


def element_outcomes(changes: Sequence[Change], response: httpx.Response, plural: str,
                     id_field: str) -> list[Outcome] | None:
    """Per-element outcomes of a 200 answer (None when the answer is not one)."""
    body = body_json(response)
    answered = body.get(plural) if isinstance(body, dict) else None
    if response.status_code != 200 or not isinstance(answered, list) or \
            len(answered) != len(changes):
        return None
    rid = request_id(response, body)
    outcomes = []
    for change, element in zip(changes, answered, strict=True):
        reason = element_reasons(element)
        if reason is not None:
            outcomes.append(rejected(change, reason, http_status=200, request_id=rid))
        else:
            outcomes.append(Outcome(change.key, "ok", str(element.get(id_field)),
                                    parse_ms_json(element.get("UpdatedDateUTC")),
                                    request_id=rid, http_status=200))
    return outcomes


class ErpContactsWriter:
    """Writes one sync's changes to Xero contacts."""

    needs_intent = False

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
        ready: list[Change] = []
        for change in changes:
            if not change.destination_id and not change.payload.get(self.match):
                outcomes.append(rejected(change, f"no ContactID and no {self.match}: a create "
                                                 "without a natural key could duplicate"))
            else:
                ready.append(change)
        if ready:
            outcomes += self._post(route, ready, [contact_element(c, self.spec.nulls)
                                                  for c in ready])
        return outcomes

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        elements = [{"ContactID": c.destination_id, "ContactStatus": "ARCHIVED"}
                    for c in changes]
        return self._post(route, list(changes), elements)

    def _post(self, route: str, changes: list[Change],
              elements: list[dict[str, Any]]) -> list[Outcome]:
        key = idempotency_key(self.spec.name, route, changes)
        try:
            response = self.xero.post("Contacts", elements, key)
        except RetriesExhausted as exc:
            return failed_all(changes, exc)
        outcomes = element_outcomes(changes, response, "Contacts", "ContactID")
        if outcomes is not None:
            return outcomes
        if len(changes) > 1:
            middle = len(changes) // 2
            return (self._post(route, changes[:middle], elements[:middle])
                    + self._post(route, changes[middle:], elements[middle:]))
        body = body_json(response)
        return [rejected(changes[0], error_message(body, response),
                         http_status=response.status_code, request_id=request_id(response,
                                                                                 body))]

    def pace_stats(self) -> list[PaceStats]:
        return [self.xero.pacer.stats]

    def close(self) -> None:
        self.xero.close()

