"""Shopify customers, every configured shop: one record per request (there is no batch API).

- Route = the row's shop; each shop has its own leaky bucket, so its own pacer
  (``X-Shopify-Shop-Api-Call-Limit: used/size`` near full holds that shop's requests).
- A record with a known customer id (``<shop>/<id>``) is updated by ``PUT customers/{id}.json``.
  One without is looked up by e-mail first (``customers/search.json?query=email:...``): found →
  updated, else created by ``POST customers.json``. A create that fails transiently is looked up
  again before it is re-sent, so a lost answer never creates a second customer.
- 422 ``{"errors": {"email": ["has already been taken"]}}`` rejects the record with that reason;
  404 on an update rejects it (the customer is gone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from reverse_etl.connections import Connection
from reverse_etl.destinations.base import (
    Outcome,
    body_json,
    make_client,
    parse_iso,
    present,
    rejected,
)
from reverse_etl.pacing import (
    Fatal,
    Pacer,
    PaceStats,
    RetriesExhausted,
    RetryPolicy,
    json_readable,
    request_id,
    send,
)
from reverse_etl.plan import Change
from reverse_etl.spec import SyncSpec

BOOLEAN_FIELDS = frozenset({"accepts_marketing", "tax_exempt", "verified_email"})
NO_RETRY = RetryPolicy(max_retries=0)


def shopify_pause(response: httpx.Response) -> float | None:
    """Hold a shop's requests while its bucket is nearly full (``used/size`` header).

    >>> shopify_pause(httpx.Response(200, headers={"X-Shopify-Shop-Api-Call-Limit": "39/40"}))
    0.5
    >>> shopify_pause(httpx.Response(200, headers={"X-Shopify-Shop-Api-Call-Limit": "3/40"}))
    """
    raw = response.headers.get("x-shopify-shop-api-call-limit", "")
    used, _, size = raw.partition("/")
    if not (used.isdigit() and size.isdigit()):
        return None
    return 0.5 if int(used) >= int(size) - 1 else None


def describe_errors(body: Any) -> str:
    """Shopify's ``errors`` as one line.

    >>> describe_errors({"errors": {"email": ["has already been taken"], "phone": ["is invalid"]}})
    'email has already been taken; phone is invalid'
    >>> describe_errors({"errors": "Not Found"})
    'Not Found'
    """
    errors = body.get("errors") if isinstance(body, dict) else body
    if isinstance(errors, dict):
        return "; ".join(
            f"{name} {' and '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in errors.items())
    return str(errors)


def customer_fields(payload: dict[str, Any], nulls: str) -> dict[str, Any]:
    """The ``customer`` object of a write; flags become booleans.

    >>> customer_fields({"email": "a@b.co", "accepts_marketing": "false", "note": None}, "skip")
    {'email': 'a@b.co', 'accepts_marketing': False}
    """
    out = present(payload, nulls)
    for name in BOOLEAN_FIELDS & out.keys():
        value = out[name]
        if isinstance(value, str):
            out[name] = value.strip().lower() in ("true", "1", "yes")
    return out


def split_record_id(record_id: str) -> tuple[str | None, str]:
    """``<shop>/<id>`` → (shop, id); a bare id has no shop.

    >>> split_record_id("northwind/42"), split_record_id("42")
    (('northwind', '42'), (None, '42'))
    """
    shop, sep, ident = record_id.rpartition("/")
    return (shop, ident) if sep else (None, record_id)


class ShopCustomersWriter:
    """Writes one sync's changes to the customers of every shop the model names."""

    needs_intent = False

    def __init__(self, spec: SyncSpec, connection: Connection,
                 client: httpx.Client | None = None) -> None:
        self.spec = spec
        self.connection = connection
        self.match = spec.destination.match
        rps, burst = spec.pace_of()
        self.pacers = {name: Pacer(f"shop:{name}", rps, burst, shopify_pause)
                       for name in connection.shops}
        self.policy = RetryPolicy(spec.retry.max_retries, spec.retry.backoff_seconds,
                                  spec.retry.max_backoff_seconds)
        self.client = client or make_client(spec.retry.timeout_seconds)

    def route(self, change: Change) -> str:
        if change.shop:
            return change.shop
        shop, _ = split_record_id(change.destination_id or "")
        return shop or ""

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        return [self._one(route, c) for c in changes]

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        del route
        return [rejected(c, "shop customers are never deleted by a sync") for c in changes]

    def pace_stats(self) -> list[PaceStats]:
        return [p.stats for p in self.pacers.values()]

    def close(self) -> None:
        self.client.close()

    # -- one record -----------------------------------------------------------------------------
    def _request(self, shop: str, method: str, path: str, *, policy: RetryPolicy | None = None,
                 **kw: Any) -> httpx.Response:
        base, token = self.connection.shop(shop)
        url = f"{base}/{path}"
        headers = {"X-Shopify-Access-Token": token, "Accept": "application/json"}
        response = send(self.pacers[shop], lambda: self.client.request(
            method, url, headers=headers, **kw), policy or self.policy, readable=json_readable)
        if response.status_code in (401, 403):
            raise Fatal(f"Shopify refused the token of shop {shop} ({response.status_code})",
                        hint="check sources.shop.access_tokens")
        return response

    def _done(self, shop: str, change: Change, response: httpx.Response) -> Outcome:
        body = body_json(response)
        customer = body.get("customer") if isinstance(body, dict) else None
        if response.is_success and isinstance(customer, dict):
            return Outcome(change.key, "ok", f"{shop}/{customer['id']}",
                           parse_iso(customer.get("updated_at")),
                           request_id=request_id(response), http_status=response.status_code,
                           created=response.status_code == 201)
        if response.status_code == 404:
            return rejected(change, f"customer {change.destination_id} not found in shop {shop}",
                            http_status=404, request_id=request_id(response))
        return rejected(change, describe_errors(body) if body is not None else
                        f"HTTP {response.status_code}: {response.text[:300]}",
                        http_status=response.status_code, request_id=request_id(response))

    def _find(self, shop: str, email: str) -> str | None:
        response = self._request(shop, "GET", "customers/search.json", params={
            "query": f'email:"{email}"', "fields": "id,email", "limit": "1"})
        body = body_json(response)
        found = (body or {}).get("customers") or [] if response.is_success else []
        return str(found[0]["id"]) if found else None

    def _one(self, shop: str, change: Change) -> Outcome:
        if shop not in self.pacers:
            return rejected(change, f"shop {shop!r} is not configured (sources.shop.shops)")
        fields = customer_fields(change.payload, self.spec.nulls)
        try:
            if change.destination_id:
                _, ident = split_record_id(change.destination_id)
                return self._done(shop, change, self._request(
                    shop, "PUT", f"customers/{ident}.json", json={"customer": fields}))
            email = change.payload.get(self.match)
            if not email:
                return rejected(change, f"no {self.match} to look the customer up by: a "
                                        "create could duplicate")
            last: RetriesExhausted | None = None
            for _ in range(self.policy.max_retries + 1):
                ident_found = self._find(shop, str(email))
                if ident_found is not None:
                    return self._done(shop, change, self._request(
                        shop, "PUT", f"customers/{ident_found}.json",
                        json={"customer": fields}))
                try:  # never re-sent blindly: the create may have landed, look it up first
                    return self._done(shop, change, self._request(
                        shop, "POST", "customers.json", policy=NO_RETRY,
                        json={"customer": fields}))
                except RetriesExhausted as exc:
                    last = exc
            assert last is not None
            raise last
        except RetriesExhausted as exc:
            return Outcome(change.key, "failed", change.destination_id, reason=exc.reason)
