"""Xero webhooks: batched ``events`` payloads signed with ``x-xero-signature``.

Xero posts ``{"events": [{resourceUrl, resourceId, eventDateUtc, eventType, eventCategory,
tenantId, tenantType}], "firstEventSequence", "lastEventSequence", "entropy"}`` and signs the raw
body with base64(HMAC-SHA256(webhook key, body)).

>>> payload = json.loads(build_payload([("CONTACT", "CREATE", "c1")], "http://h/api.xro/2.0",
...                                    "t1", 1573755038314, 7, "E"))
>>> payload["events"][0]["resourceUrl"], payload["firstEventSequence"], payload["lastEventSequence"]
('http://h/api.xro/2.0/Contacts/c1', 7, 7)
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

from sandbox.context import SystemContext
from sandbox.erp.dates import iso_utc
from sandbox.webhooks import xero_signature

Event = tuple[str, str, str]  # (eventCategory CONTACT|INVOICE, eventType CREATE|UPDATE, id)

BATCH = 100
_RESOURCES = {"CONTACT": "Contacts", "INVOICE": "Invoices"}


def build_payload(events: Sequence[Event], base_url: str, tenant_id: str, now_ms: int,
                  first_sequence: int, entropy: str) -> bytes:
    """One webhook body for ``events`` numbered from ``first_sequence``."""
    payload = {
        "events": [
            {
                "resourceUrl": f"{base_url}/{_RESOURCES[category]}/{resource_id}",
                "resourceId": resource_id,
                "eventDateUtc": iso_utc(now_ms),
                "eventType": event_type,
                "eventCategory": category,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
            }
            for category, event_type, resource_id in events
        ],
        "firstEventSequence": first_sequence,
        "lastEventSequence": first_sequence + len(events) - 1,
        "entropy": entropy,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _reserve(ctx: SystemContext, count: int) -> int:
    """The first of ``count`` new event sequence numbers (kept in the store across restarts)."""
    store = ctx.store
    with store.lock:
        current = int(store.meta_get("erp:event_sequence") or 0)
        store.meta_set("erp:event_sequence", str(current + count))
    return current + 1


def webhooks_enabled(ctx: SystemContext) -> bool:
    """Whether a webhook URL is configured (nothing is built or sent otherwise)."""
    return bool(ctx.state.get("webhook_url") or ctx.config.webhook_url)


def emit(ctx: SystemContext, events: Sequence[Event], now_ms: int) -> int:
    """Send ``events`` in signed batches of up to 100; returns how many events were sent."""
    if not events or not webhooks_enabled(ctx):
        return 0
    creds = ctx.config.credentials
    base_url = ctx.config.base_url("erp")
    sent = 0
    for start in range(0, len(events), BATCH):
        chunk = events[start:start + BATCH]
        body = build_payload(chunk, base_url, creds.erp_tenant_id, now_ms,
                             _reserve(ctx, len(chunk)), secrets.token_hex(16).upper())
        headers = {"Content-Type": "application/json",
                   "x-xero-signature": xero_signature(creds.erp_webhook_key, body)}
        if ctx.emit_webhook(body, headers):
            sent += len(chunk)
    return sent
