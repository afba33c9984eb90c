"""HubSpot CRM v3 contacts: ``batch/upsert`` by ``idProperty`` and ``batch/update`` by id.

- A record with a known contact id is updated by id (so a changed e-mail moves with it);
  one without is upserted by the match property (``email``): repeating it never creates a
  second contact. At most 100 inputs per request.
- 200 = every input done; 207 = some failed: results are matched to inputs by id / idProperty
  value, errors by their ``context.ids`` or, when the answer cannot say which input an error
  belongs to, by sending the failed inputs again one by one (they were not written).
- A 400 for the whole batch (duplicate ids, invalid JSON, ...) is split in halves until the bad
  input stands alone with its reason. 401/403 stop the run.
- Pace: HubSpot's ten-secondly burst; ``X-HubSpot-RateLimit-Remaining: 0`` holds requests for
  one slot of the interval.
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
    make_client,
    parse_iso,
    present,
    rejected,
    split_halves,
)
from reverse_etl.pacing import (
    Fatal,
    Pacer,
    PaceStats,
    RetriesExhausted,
    RetryPolicy,
    header_number,
    json_readable,
    request_id,
    send,
)
from reverse_etl.plan import Change
from reverse_etl.spec import SyncSpec

UPDATE = "update"
UPSERT = "upsert"


def hubspot_pause(response: httpx.Response) -> float | None:
    """Seconds to hold requests when the ten-secondly allowance is used up.

    >>> hubspot_pause(httpx.Response(200, headers={
    ...     "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "190",
    ...     "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}))
    0.05263157894736842
    """
    remaining = header_number(response, "x-hubspot-ratelimit-remaining")
    if remaining is None or remaining > 0:
        return None
    interval = header_number(response, "x-hubspot-ratelimit-interval-milliseconds") or 10_000
    most = header_number(response, "x-hubspot-ratelimit-max") or 100
    return interval / 1000 / most


def property_value(value: Any) -> str | None:
    """HubSpot property values are strings (booleans ``true``/``false``).

    >>> property_value(True), property_value(12.5), property_value(None), property_value(3)
    ('true', '12.5', None, '3')
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_error(error: dict[str, Any]) -> str:
    """A readable reason from one HubSpot error (property problems listed one by one).

    >>> describe_error({"category": "VALIDATION_ERROR", "message": 'Property values were not '
    ...     'valid: [{"isValid":false,"message":"Email address x is invalid","error":'
    ...     '"INVALID_EMAIL","name":"email"}]'})
    'VALIDATION_ERROR: email: Email address x is invalid (INVALID_EMAIL)'
    """
    message = str(error.get("message", ""))
    category = str(error.get("category", "ERROR"))
    marker = "Property values were not valid: "
    if message.startswith(marker):
        try:
            problems = json.loads(message[len(marker):])
            message = "; ".join(f"{p.get('name')}: {p.get('message')} ({p.get('error')})"
                                for p in problems)
        except ValueError:
            pass
    return f"{category}: {message}"


class CrmContactsWriter:
    """Writes one sync's changes to HubSpot contacts."""

    needs_intent = False

    def __init__(self, spec: SyncSpec, connection: Connection, pacer: Pacer | None = None,
                 client: httpx.Client | None = None) -> None:
        self.spec = spec
        self.id_property = spec.destination.match
        self.base = f"{connection.base_url}/crm/v3/objects/{spec.destination.object}"
        self.headers = {"Authorization": f"Bearer {connection.token}",
                        "Content-Type": "application/json", "Accept": "application/json"}
        rps, burst = spec.pace_of()
        self.pacer = pacer or Pacer("crm", rps, burst, hubspot_pause)
        self.policy = RetryPolicy(spec.retry.max_retries, spec.retry.backoff_seconds,
                                  spec.retry.max_backoff_seconds)
        self.client = client or make_client(spec.retry.timeout_seconds)

    # -- protocol -----------------------------------------------------------------------------
    def route(self, change: Change) -> str:
        return UPDATE if change.destination_id else UPSERT

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        ready: list[Change] = []
        outcomes: list[Outcome] = []
        for change in changes:
            if route == UPSERT and not change.payload.get(self.id_property):
                outcomes.append(rejected(change, f"no {self.id_property} to upsert by and no "
                                                 "contact id: nothing identifies the record"))
            else:
                ready.append(change)
        if ready:
            outcomes += self._write(route, ready)
        return outcomes

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        del route
        inputs = [{"id": str(c.destination_id)} for c in changes if c.destination_id]
        try:
            response = self._post("batch/archive", {"inputs": inputs})
        except RetriesExhausted as exc:
            return failed_all(changes, exc)
        if response.status_code in (200, 204):
            return [Outcome(c.key, "ok", c.destination_id) for c in changes]
        body = body_json(response)
        reason = describe_error(body) if isinstance(body, dict) else response.text[:300]
        if len(changes) > 1 and response.status_code == 400:
            return split_halves(changes, lambda part: self.delete(UPDATE, part))
        return [rejected(c, reason, http_status=response.status_code) for c in changes]

    def pace_stats(self) -> list[PaceStats]:
        return [self.pacer.stats]

    def close(self) -> None:
        self.client.close()

    # -- requests -----------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        url = f"{self.base}/{path}"
        response = send(self.pacer, lambda: self.client.post(url, json=body,
                                                             headers=self.headers),
                        self.policy, readable=json_readable)
        if response.status_code in (401, 403):
            raise Fatal(f"HubSpot refused the token ({response.status_code}): "
                        f"{response.text[:200]}",
                        hint="check sources.crm.access_token and its write scopes")
        if response.status_code == 404:
            raise Fatal(f"HubSpot has no endpoint {url}: {response.text[:200]}",
                        hint="check sources.crm.base_url and the sync's destination.object")
        return response

    def _input(self, route: str, change: Change) -> dict[str, Any]:
        values = present(change.payload, self.spec.nulls)
        properties = {name: property_value(value) for name, value in values.items()}
        if route == UPDATE:
            return {"id": str(change.destination_id), "properties": properties}
        key = str(change.payload[self.id_property])
        properties[self.id_property] = key
        return {"idProperty": self.id_property, "id": key, "properties": properties}

    def _identity(self, route: str, change: Change) -> str:
        if route == UPDATE:
            return str(change.destination_id)
        return str(change.payload[self.id_property]).strip().lower()

    def _write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        path = "batch/update" if route == UPDATE else "batch/upsert"
        try:
            response = self._post(path, {"inputs": [self._input(route, c) for c in changes]})
        except RetriesExhausted as exc:
            return failed_all(changes, exc)
        body = body_json(response)
        if response.status_code in (200, 201, 207) and isinstance(body, dict):
            return self._outcomes(route, changes, body, response)
        reason = (describe_error(body) if isinstance(body, dict)
                  else f"HTTP {response.status_code}: {response.text[:300]}")
        if len(changes) > 1:
            return split_halves(changes, lambda part: self._write(route, part))
        return [rejected(changes[0], reason, http_status=response.status_code,
                         request_id=request_id(response, body))]

    def _outcomes(self, route: str, changes: Sequence[Change], body: dict[str, Any],
                  response: httpx.Response) -> list[Outcome]:
        done: dict[str, dict[str, Any]] = {}
        for result in body.get("results") or []:
            if route == UPDATE:
                done[str(result.get("id"))] = result
            else:
                value = (result.get("properties") or {}).get(self.id_property)
                if value is not None:
                    done[str(value).strip().lower()] = result
        outcomes: list[Outcome] = []
        failed: list[Change] = []
        for change in changes:
            result = done.get(self._identity(route, change))
            if result is None:
                failed.append(change)
                continue
            new = result.get("new")
            outcomes.append(Outcome(change.key, "ok", str(result["id"]),
                                    parse_iso(result.get("updatedAt")),
                                    request_id=request_id(response),
                                    http_status=response.status_code,
                                    created=new if isinstance(new, bool) else None))
        if not failed:
            return outcomes
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        by_identity: dict[str, dict[str, Any]] = {}
        for error in errors:
            for ident in (error.get("context") or {}).get("ids") or []:
                by_identity[str(ident).strip().lower()] = error
        unexplained: list[Change] = []
        for change in failed:
            found = by_identity.get(self._identity(route, change))
            if found is not None:
                outcomes.append(rejected(change, describe_error(found), http_status=207,
                                         request_id=found.get("correlationId")))
            else:
                unexplained.append(change)
        if not unexplained:
            return outcomes
        rest = [e for e in errors if not (e.get("context") or {}).get("ids")]
        if len(unexplained) == 1:
            reason = "; ".join(describe_error(e) for e in rest) or \
                "HubSpot did not confirm this record"
            outcomes.append(rejected(unexplained[0], reason, http_status=207))
            return outcomes
        # the answer cannot say which error is whose: ask again, one input per request
        for change in unexplained:
            outcomes += self._write(route, [change])
        return outcomes
