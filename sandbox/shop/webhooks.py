"""Shopify webhooks: the resource JSON as body, signed with ``X-Shopify-Hmac-Sha256``.

>>> h = webhook_headers("s", "northwind", "customers/update", b"{}", "id-1", "2026-01-01T00:00:00Z")
>>> h["X-Shopify-Hmac-Sha256"], h["X-Shopify-Shop-Domain"]
('FDyo1Re6GxgQJdcysc8nXZAQT8pXuwKlZVQpeKoYxLY=', 'northwind.myshopify.com')
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sandbox.context import SystemContext
from sandbox.shop.shops import API_VERSION, domain
from sandbox.webhooks import shopify_hmac


def webhook_headers(secret: str, shop: str, topic: str, body: bytes, webhook_id: str,
                    triggered_at: str) -> dict[str, str]:
    """The headers Shopify sends with one delivery."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
        "X-Shopify-Shop-Domain": domain(shop),
        "X-Shopify-API-Version": API_VERSION,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Triggered-At": triggered_at,
    }


def deliver(ctx: SystemContext, shop: str, topic: str, payload: dict[str, Any]) -> bool:
    """Send one signed webhook (a fresh ``X-Shopify-Webhook-Id`` per delivery).

    Returns False when no webhook URL is configured.
    """
    body = json.dumps(payload, separators=(",", ":")).encode()
    triggered = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    headers = webhook_headers(ctx.config.credentials.shop_webhook_secret, shop, topic, body,
                              str(uuid.uuid4()), triggered)
    return ctx.emit_webhook(body, headers)
