"""What both ERP writers (contacts, invoices) share: the Xero client and the element write.

- :class:`XeroClient`: paced, retried requests for one tenant (picked from ``/connections``
  when not configured); 401/403/404 stop the run.
- :func:`post_elements`: one ``POST /<plural>?summarizeErrors=false`` of ≤ 50 elements. Xero
  answers 200 with every element, the valid ones written and the invalid ones carrying
  ``ValidationErrors`` (→ one outcome per element, in order); a request rejected whole is split
  in halves until the bad element stands alone. Every write carries an ``Idempotency-Key``
  derived from its records, payloads and attempt, so a repeat after a crash or a lost answer
  replays the first answer instead of writing twice.
- :class:`XeroWriter`: the writer plumbing (one route, pace stats, close) both writers extend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from reverse_etl.connections import Connection
from reverse_etl.destinations.base import (
    Outcome,
    body_json,
    failed_all,
    idempotency_key,
    make_client,
    rejected,
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

_MS_JSON = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def xero_pause(response: httpx.Response) -> float | None:
    """Hold requests for a second when the minute allowance is used up (Xero's sliding minute).

    >>> xero_pause(httpx.Response(200, headers={"X-MinLimit-Remaining": "0"}))
    1.0
    """
    remaining = header_number(response, "x-minlimit-remaining")
    return 1.0 if remaining is not None and remaining <= 0 else None


def parse_ms_json(text: Any) -> datetime | None:
    """Xero's ``/Date(1573755038314+0000)/`` as naive UTC.

    >>> parse_ms_json("/Date(0+0000)/"), parse_ms_json("x")
    (datetime.datetime(1970, 1, 1, 0, 0), None)
    """
    match = _MS_JSON.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).replace(tzinfo=None)


def element_reasons(element: dict[str, Any]) -> str | None:
    """The validation messages of one answered element, or None when it was written.

    >>> element_reasons({"StatusAttributeString": "ERROR",
    ...                  "ValidationErrors": [{"Message": "a"}, {"Message": "b"}]})
    'a; b'
    >>> element_reasons({"StatusAttributeString": "OK"}) is None
    True
    """
    errors = element.get("ValidationErrors") or []
    if element.get("StatusAttributeString") == "ERROR" or errors:
        return "; ".join(str(e.get("Message", e)) for e in errors) or "rejected by Xero"
    return None


def error_message(body: Any, response: httpx.Response) -> str:
    """A readable reason from a whole-request error."""
    if isinstance(body, dict):
        parts = [str(body.get("Message") or body.get("Detail") or body.get("Title") or "")]
        for element in body.get("Elements") or []:
            reason = element_reasons(element) if isinstance(element, dict) else None
            if reason:
                parts.append(reason)
        text = "; ".join(p for p in parts if p)
        if text:
            return f"{body.get('Type', 'Error')}: {text}"
    return f"HTTP {response.status_code}: {response.text[:300]}"


def nest(fields: dict[str, Any], typed_lists: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """Dotted field names as Xero's nested shape; ``Phones.DEFAULT.PhoneNumber`` style paths
    become typed lists (``typed_lists`` = ``(list name, type key)``).

    >>> nest({"Phones.DEFAULT.PhoneNumber": "1", "Contact.Name": "B"}, [("Phones", "PhoneType")])
    {'Contact': {'Name': 'B'}, 'Phones': [{'PhoneType': 'DEFAULT', 'PhoneNumber': '1'}]}
    """
    typed = dict(typed_lists)
    out: dict[str, Any] = {}
    lists: dict[str, dict[str, dict[str, Any]]] = {}
    for name, value in fields.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] in typed:
            entry = lists.setdefault(parts[0], {}).setdefault(parts[1], {typed[parts[0]]:
                                                                         parts[1]})
            entry[parts[2]] = value
            continue
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    for list_name, entries in lists.items():
        out[list_name] = list(entries.values())
    return out


class XeroClient:
    """Signed, paced, retried Xero writes for one tenant."""

    def __init__(self, spec: SyncSpec, connection: Connection, pacer: Pacer | None = None,
                 client: httpx.Client | None = None) -> None:
        self.connection = connection
        rps, burst = spec.pace_of()
        self.pacer = pacer or Pacer("erp", rps, burst, xero_pause)
        self.policy = RetryPolicy(spec.retry.max_retries, spec.retry.backoff_seconds,
                                  spec.retry.max_backoff_seconds)
        self.client = client or make_client(spec.retry.timeout_seconds)
        self._tenant = connection.tenant_id

    def tenant(self) -> str:
        """The tenant id (configured, else the single organisation ``/connections`` lists)."""
        if self._tenant:
            return self._tenant
        url = self.connection.connections_url or self.connection.base_url.split(
            "/api.xro/")[0] + "/connections"
        response = send(self.pacer, lambda: self.client.get(url, headers={
            "Authorization": f"Bearer {self.connection.token}", "Accept": "application/json"}),
            self.policy, readable=json_readable)
        tenants = body_json(response) if response.is_success else None
        if not isinstance(tenants, list) or len(tenants) != 1:
            raise Fatal(f"cannot pick a Xero tenant from {url} ({response.status_code})",
                        hint="set sources.erp.tenant_id")
        self._tenant = str(tenants[0]["tenantId"])
        return self._tenant

    def headers(self, key: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.connection.token}",
                   "xero-tenant-id": self.tenant(), "Accept": "application/json",
                   "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, plural: str, elements: list[dict[str, Any]], key: str) -> httpx.Response:
        """``POST /<plural>?summarizeErrors=false`` with an idempotency key."""
        url = f"{self.connection.base_url}/{plural}"
        headers = self.headers(key)
        response = send(self.pacer, lambda: self.client.post(
            url, params={"summarizeErrors": "false"}, json={plural: elements},
            headers=headers), self.policy, readable=json_readable)
        self._check(response, url)
        return response

    def get(self, path: str, params: dict[str, str]) -> httpx.Response:
        url = f"{self.connection.base_url}/{path}"
        headers = self.headers(None)
        response = send(self.pacer, lambda: self.client.get(url, params=params, headers=headers),
                        self.policy, readable=json_readable)
        self._check(response, url)
        return response

    @staticmethod
    def _check(response: httpx.Response, url: str) -> None:
        if response.status_code in (401, 403):
            raise Fatal(f"Xero refused the request ({response.status_code}) at {url}",
                        hint="check sources.erp.access_token and sources.erp.tenant_id")
        if response.status_code == 404:
            raise Fatal(f"Xero has no endpoint {url}", hint="check sources.erp.base_url")

    def close(self) -> None:
        self.client.close()


def element_outcomes(changes: Sequence[Change], response: httpx.Response, plural: str,
                     id_field: str) -> list[Outcome] | None:
    """Per-element outcomes of a 200 answer, in order (None when the answer is not one).

    >>> answer = httpx.Response(200, json={"Contacts": [
    ...     {"ContactID": "c-1", "UpdatedDateUTC": "/Date(0+0000)/"},
    ...     {"StatusAttributeString": "ERROR", "ValidationErrors": [{"Message": "bad"}]}]})
    >>> [(o.status, o.destination_id, o.reason) for o in element_outcomes(
    ...     [Change("a", "insert", None, {}, "h"), Change("b", "insert", None, {}, "h")],
    ...     answer, "Contacts", "ContactID")]
    [('ok', 'c-1', None), ('rejected', None, 'bad')]
    """
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


def post_elements(xero: XeroClient, sync: str, route: str, plural: str, id_field: str,
                  changes: Sequence[Change], elements: Sequence[dict[str, Any]],
                  ) -> list[Outcome]:
    """Write ``elements`` (one per change, same order): one outcome per change.

    Transient failures that outlast the retries leave every change ``failed``; a request
    rejected whole is split in halves until the bad element stands alone with its reason.
    """
    key = idempotency_key(sync, route, changes)
    try:
        response = xero.post(plural, list(elements), key)
    except RetriesExhausted as exc:
        return failed_all(changes, exc)
    outcomes = element_outcomes(changes, response, plural, id_field)
    if outcomes is not None:
        return outcomes
    if len(changes) > 1:
        middle = len(changes) // 2
        return (post_elements(xero, sync, route, plural, id_field, changes[:middle],
                              elements[:middle])
                + post_elements(xero, sync, route, plural, id_field, changes[middle:],
                                elements[middle:]))
    body = body_json(response)
    return [rejected(changes[0], error_message(body, response),
                     http_status=response.status_code, request_id=request_id(response, body))]


class XeroWriter:
    """The writer plumbing both ERP writers share: one Xero client, one route per writer."""

    ROUTE = ""
    needs_intent = False

    def __init__(self, spec: SyncSpec, connection: Connection, pacer: Pacer | None = None,
                 client: httpx.Client | None = None) -> None:
        self.spec = spec
        self.match = spec.destination.match
        self.xero = XeroClient(spec, connection, pacer, client)

    def route(self, change: Change) -> str:
        del change
        return self.ROUTE

    def post(self, plural: str, id_field: str, changes: Sequence[Change],
             elements: Sequence[dict[str, Any]], route: str | None = None) -> list[Outcome]:
        """:func:`post_elements` for this sync (idempotency keys scoped by ``route``)."""
        return post_elements(self.xero, self.spec.name, route or self.ROUTE, plural, id_field,
                             changes, elements)

    def pace_stats(self) -> list[PaceStats]:
        return [self.xero.pacer.stats]

    def close(self) -> None:
        self.xero.close()
