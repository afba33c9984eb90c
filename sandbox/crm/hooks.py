"""HubSpot webhooks (v3 signatures): one event per created/archived record and per changed
property, sent in POSTs of at most 100 events to the sandbox's webhook URL.

>>> events = [event(1, "contact.creation", 7, 1000, "CRM_UI")]
>>> events[0]["subscriptionType"], events[0]["objectId"], events[0]["attemptNumber"]
('contact.creation', 7, 0)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sandbox.context import SystemContext
from sandbox.crm.records import Change, reserve_ids
from sandbox.webhooks import hubspot_v3_signature, now_ms

PORTAL_ID = 62515
APP_ID = 1160452
EVENTS_PER_POST = 100
_KINDS = ("creation", "deletion", "propertyChange")
_SINGULARS = ("contact", "company", "deal", "line_item", "product")
SUBSCRIPTION_IDS: dict[str, int] = {
    f"{singular}.{kind}": 2_400_000 + 10 * i + j
    for i, singular in enumerate(_SINGULARS) for j, kind in enumerate(_KINDS)
}


def event(event_id: int, subscription_type: str, object_id: int, occurred_ms: int,
          source: str, property_name: str | None = None,
          property_value: str | None = None) -> dict[str, Any]:
    """One event in HubSpot's webhook payload shape."""
    body: dict[str, Any] = {
        "eventId": event_id, "subscriptionId": SUBSCRIPTION_IDS.get(subscription_type, 0),
        "portalId": PORTAL_ID, "appId": APP_ID, "occurredAt": occurred_ms,
        "subscriptionType": subscription_type, "attemptNumber": 0, "objectId": object_id,
        "changeSource": source,
    }
    if property_name is not None:
        body["propertyName"] = property_name
        body["propertyValue"] = property_value if property_value is not None else ""
    return body


def _object_id(record_id: str) -> int:
    return int(record_id) if record_id.isdigit() else 0


def webhook_url(ctx: SystemContext) -> str | None:
    """Where webhooks go (set at run time by mutate's ``webhook_url`` or in the config)."""
    url = ctx.state.get("webhook_url") or ctx.config.webhook_url
    return str(url) if url else None


def emit(ctx: SystemContext, changes: Iterable[Change], source: str) -> int:
    """Send the events of ``changes``; returns how many events were sent (0 with no URL)."""
    url = webhook_url(ctx)
    if url is None:
        return 0
    pending: list[tuple[str, int, int, str | None, str | None]] = []
    for change in changes:
        prefix, object_id = change.obj.singular, _object_id(change.doc.id)
        if change.kind == "propertyChange":
            pending += [(f"{prefix}.propertyChange", object_id, change.doc.updated_ms, name,
                         value) for name, value in change.changed.items()]
        else:
            pending.append((f"{prefix}.{change.kind}", object_id, change.doc.updated_ms, None,
                            None))
    if not pending:
        return 0
    first = reserve_ids(ctx.store, "crm:webhook_events", len(pending), start=1_000_000)
    events = [event(first + i, sub, oid, at, source, name, value)
              for i, (sub, oid, at, name, value) in enumerate(pending)]
    target = url.rstrip("/")
    secret = ctx.config.credentials.crm_client_secret
    for start in range(0, len(events), EVENTS_PER_POST):
        body = json.dumps(events[start:start + EVENTS_PER_POST]).encode()
        timestamp = now_ms()
        ctx.emit_webhook(body, {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": hubspot_v3_signature(secret, "POST", target, body,
                                                           timestamp),
            "X-HubSpot-Signature-Version": "v3",
            "X-HubSpot-Request-Timestamp": str(timestamp),
        }, path="")
    return len(events)
