"""Shopify customers, every configured shop: one record per request (there is no batch API).

- Route = the row's shop; each shop has its own leaky bucket, so its own pacer
  (``X-Shopify-Shop-Api-Call-Limit: used/size`` near full holds that shop's requests).
- A record with a known customer id (``<shop>/<id>``) is updated by ``PUT customers/{id}.json``.
  One without is looked up by e-mail first (``customers/search.json?query=email:...``): found →
  updated, else created by ``POST customers.json``. A create that fails transiently is looked up
  again before it is re-sent, so a lost answer never creates a second customer.
- ``addresses.default.<field>`` fields (``address1``, ``city``, ``province``, ``zip``,
  ``country_code``...) write the customer's default address, as Shopify's ``addresses`` list.
  Shopify adds an address sent without its ``id``, so an update names the default address's id:
  it comes from the e-mail lookup, else from ``GET customers/{id}.json`` — asked only when the
  address differs from the one last confirmed (or was never sent, or the record is being
  overwritten after a change made in the shop); an unchanged address is not sent. A customer
  without a default address gets one; a create sends it as the default.
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
ADDRESS_PREFIX = "addresses.default."
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
    """The ``customer`` object of a write, without its address; flags become booleans.

    >>> customer_fields({"email": "a@b.co", "accepts_marketing": "false", "note": None,
    ...                  "addresses.default.city": "Oslo"}, "skip")
    {'email': 'a@b.co', 'accepts_marketing': False}
    """
    out = {k: v for k, v in present(payload, nulls).items() if not k.startswith(ADDRESS_PREFIX)}
    for name in BOOLEAN_FIELDS & out.keys():
        value = out[name]
        if isinstance(value, str):
            out[name] = value.strip().lower() in ("true", "1", "yes")
    return out


def address_fields(payload: dict[str, Any] | None, nulls: str) -> dict[str, Any]:
    """The default address's fields of a payload (``addresses.default.<field>``), as sent.

    >>> address_fields({"email": "a@b.co", "addresses.default.city": "Oslo",
    ...                 "addresses.default.zip": None}, "skip")
    {'city': 'Oslo'}
    """
    return {k[len(ADDRESS_PREFIX):]: v for k, v in present(payload or {}, nulls).items()
            if k.startswith(ADDRESS_PREFIX)}


def address_to_send(change: Change, nulls: str) -> dict[str, Any]:
    """The address part of an update: empty when the destination already has it, i.e. the same
    address was confirmed by the last write and nobody changed the record in the shop since.

    >>> old = {"addresses.default.city": "Oslo"}
    >>> same = Change("k", "update", "n/1", dict(old), "h", previous=old)
    >>> address_to_send(same, "skip"), address_to_send(Change("k", "update", "n/1", {
    ...     "addresses.default.city": "Bergen"}, "h", previous=old), "skip")
    ({}, {'city': 'Bergen'})
    """
    address = address_fields(change.payload, nulls)
    if not address or change.previous is None or change.destination_changed_at is not None:
        return address
    if address == address_fields(change.previous, nulls):
        return {}
    return address


def with_address(fields: dict[str, Any], address: dict[str, Any],
                 address_id: int | None) -> dict[str, Any]:
    """``fields`` plus the default address as Shopify's ``addresses`` list.

    >>> with_address({"email": "a@b.co"}, {"city": "Oslo"}, 7)
    {'email': 'a@b.co', 'addresses': [{'city': 'Oslo', 'default': True, 'id': 7}]}
    >>> with_address({"email": "a@b.co"}, {}, 7)
    {'email': 'a@b.co'}
    """
    if not address:
        return fields
    entry: dict[str, Any] = {**address, "default": True}
    if address_id is not None:
        entry["id"] = address_id
    return {**fields, "addresses": [entry]}


def default_address_id(customer: Any) -> int | None:
    """The id of a customer's default address (None when it has none).

    >>> default_address_id({"id": 1, "default_address": {"id": 7}}), default_address_id({})
    (7, None)
    """
    address = customer.get("default_address") if isinstance(customer, dict) else None
    ident = address.get("id") if isinstance(address, dict) else None
    return ident if isinstance(ident, int) else None


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

    def _find(self, shop: str, email: str) -> tuple[str, int | None] | None:
        """The customer holding ``email`` in ``shop``: (id, default address id), or None."""
        response = self._request(shop, "GET", "customers/search.json", params={
            "query": f'email:"{email}"', "fields": "id,email,default_address", "limit": "1"})
        body = body_json(response)
        found = (body or {}).get("customers") or [] if response.is_success else []
        return (str(found[0]["id"]), default_address_id(found[0])) if found else None

    def _address_id(self, shop: str, change: Change, ident: str) -> int | Outcome | None:
        """The customer's default address id (None: it has none), or the record's rejection."""
        response = self._request(shop, "GET", f"customers/{ident}.json",
                                 params={"fields": "id,default_address"})
        body = body_json(response)
        if response.is_success and isinstance(body, dict):
            return default_address_id(body.get("customer"))
        return self._done(shop, change, response)

    def _update(self, shop: str, change: Change, fields: dict[str, Any]) -> Outcome:
        _, ident = split_record_id(str(change.destination_id))
        address = address_to_send(change, self.spec.nulls)
        address_id: int | None = None
        if address:
            found = self._address_id(shop, change, ident)
            if isinstance(found, Outcome):
                return found
            address_id = found
        return self._done(shop, change, self._request(
            shop, "PUT", f"customers/{ident}.json",
            json={"customer": with_address(fields, address, address_id)}))

    def _one(self, shop: str, change: Change) -> Outcome:
        if shop not in self.pacers:
            return rejected(change, f"shop {shop!r} is not configured (sources.shop.shops)")
        fields = customer_fields(change.payload, self.spec.nulls)
        address = address_fields(change.payload, self.spec.nulls)
        try:
            if change.destination_id:
                return self._update(shop, change, fields)
            email = change.payload.get(self.match)
            if not email:
                return rejected(change, f"no {self.match} to look the customer up by: a "
                                        "create could duplicate")
            last: RetriesExhausted | None = None
            for _ in range(self.policy.max_retries + 1):
                found = self._find(shop, str(email))
                if found is not None:
                    ident_found, address_id = found
                    return self._done(shop, change, self._request(
                        shop, "PUT", f"customers/{ident_found}.json",
                        json={"customer": with_address(fields, address, address_id)}))
                try:  # never re-sent blindly: the create may have landed, look it up first
                    return self._done(shop, change, self._request(
                        shop, "POST", "customers.json", policy=NO_RETRY,
                        json={"customer": with_address(fields, address, None)}))
                except RetriesExhausted as exc:
                    last = exc
            assert last is not None
            raise last
        except RetriesExhausted as exc:
            return Outcome(change.key, "failed", change.destination_id, reason=exc.reason)
