"""Vendor webhook payloads → inbox events, each keyed by the vendor's own event id.

- HubSpot: a JSON array of events; the id is ``<portalId>:<eventId>``.
- Shopify: one resource per delivery; the id is the ``X-Shopify-Webhook-Id`` header (the same on
  every retry of a delivery); the object is ``<shop>/<id>``, the warehouse's ``record_id``.
- Xero: ``{"events": [...], "firstEventSequence": n, ...}``; the id is ``<tenantId>:<sequence>``.
  Xero's "intent to receive" check sends no events: nothing to store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class MalformedWebhook(ValueError):
    """The request is authentic but not the vendor's payload shape."""


@dataclass(frozen=True)
class InboxEvent:
    """One change a vendor told us about."""

    system: str  # crm | erp | shop
    event_id: str
    topic: str
    object_id: str | None
    occurred_at: datetime | None
    payload: str  # the event's JSON


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedWebhook(f"body is not JSON: {exc}") from exc


def _from_ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) else None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def hubspot_events(body: bytes) -> list[InboxEvent]:
    """HubSpot v3 events.

    >>> [e.event_id for e in hubspot_events(b'[{"eventId": 7, "portalId": 1, '
    ...                                      b'"subscriptionType": "contact.creation"}]')]
    ['1:7']
    """
    data = _json(body)
    if not isinstance(data, list):
        raise MalformedWebhook("a HubSpot webhook body is a JSON array of events")
    events = []
    for item in data:
        if not isinstance(item, dict) or "eventId" not in item or "subscriptionType" not in item:
            raise MalformedWebhook("each HubSpot event needs eventId and subscriptionType")
        object_id = item.get("objectId")
        events.append(InboxEvent(
            "crm", f"{item.get('portalId', '')}:{item['eventId']}", str(item["subscriptionType"]),
            None if object_id is None else str(object_id), _from_ms(item.get("occurredAt")),
            _dump(item)))
    return events


def shop_name(domain: str) -> str:
    """The shop's name from its ``X-Shopify-Shop-Domain``.

    >>> shop_name("northwind.myshopify.com")
    'northwind'
    """
    return domain.removesuffix(".myshopify.com")


def shopify_events(body: bytes, headers: Mapping[str, str]) -> list[InboxEvent]:
    """The one Shopify event of a delivery.

    >>> e = shopify_events(b'{"id": 5}', {"x-shopify-webhook-id": "w1",
    ...     "x-shopify-topic": "customers/update", "x-shopify-shop-domain": "n.myshopify.com"})
    >>> e[0].event_id, e[0].object_id
    ('w1', 'n/5')
    """
    webhook_id = headers.get("x-shopify-webhook-id") or headers.get("x-shopify-event-id")
    topic = headers.get("x-shopify-topic")
    if not webhook_id or not topic:
        raise MalformedWebhook("a Shopify webhook needs X-Shopify-Webhook-Id and X-Shopify-Topic")
    data = _json(body)
    if not isinstance(data, dict):
        raise MalformedWebhook("a Shopify webhook body is a JSON object")
    shop = shop_name(headers.get("x-shopify-shop-domain", ""))
    object_id = f"{shop}/{data['id']}" if "id" in data else None
    occurred = _from_iso(headers.get("x-shopify-triggered-at")) or _from_iso(
        data.get("updated_at"))
    return [InboxEvent("shop", webhook_id, topic, object_id, occurred,
                       _dump({"shop": shop, "topic": topic, "resource": data}))]


def xero_events(body: bytes) -> list[InboxEvent]:
    """Xero's events (none for the intent-to-receive check).

    >>> xero_events(b'{"events": [], "firstEventSequence": 0, "lastEventSequence": 0}')
    []
    """
    data = _json(body)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise MalformedWebhook("a Xero webhook body is an object with an events array")
    first = data.get("firstEventSequence")
    if not isinstance(first, int):
        if data["events"]:
            raise MalformedWebhook("a Xero webhook needs firstEventSequence")
        first = 0
    events = []
    for offset, item in enumerate(data["events"]):
        if not isinstance(item, dict) or "resourceId" not in item:
            raise MalformedWebhook("each Xero event needs resourceId")
        topic = f"{item.get('eventCategory', '')}.{item.get('eventType', '')}"
        events.append(InboxEvent(
            "erp", f"{item.get('tenantId', '')}:{first + offset}", topic,
            str(item["resourceId"]), _from_iso(item.get("eventDateUtc")), _dump(item)))
    return events
