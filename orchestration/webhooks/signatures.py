"""Vendor webhook signatures, verified in constant time.

- HubSpot v3: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256(app client secret,
  method + URI + body + ``X-HubSpot-Request-Timestamp``); older than 5 minutes is expired.
- Shopify: ``X-Shopify-Hmac-Sha256`` = base64 HMAC-SHA256(app secret, body).
- Xero: ``x-xero-signature`` = base64 HMAC-SHA256(webhook key, body).

Shopify and Xero sign no timestamp, so only HubSpot requests can expire; replays of the other two
are stopped by the inbox's deduplication on the vendor's event id.

>>> hmac_b64("s", b"{}")
'FDyo1Re6GxgQJdcysc8nXZAQT8pXuwKlZVQpeKoYxLY='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Literal

Verdict = Literal["valid", "missing", "invalid", "expired"]

HUBSPOT_MAX_AGE_MS = 5 * 60 * 1000


def hmac_b64(secret: str, message: bytes) -> str:
    """base64 of HMAC-SHA256(secret, message)."""
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def verify_body_hmac(secret: str | None, body: bytes, signature: str | None) -> Verdict:
    """Shopify's and Xero's check: the body's HMAC.

    >>> verify_body_hmac("s", b"{}", hmac_b64("s", b"{}")), verify_body_hmac("s", b"{}", "x")
    ('valid', 'invalid')
    >>> verify_body_hmac("s", b"{}", None)
    'missing'
    """
    if not signature:
        return "missing"
    if not secret:
        return "invalid"
    return "valid" if _matches(hmac_b64(secret, body), signature) else "invalid"


def verify_hubspot_v3(secret: str | None, method: str, uris: Sequence[str], body: bytes,
                      timestamp: str | None, signature: str | None, now_ms: int,
                      max_age_ms: int = HUBSPOT_MAX_AGE_MS) -> Verdict:
    """HubSpot's v3 check, against each URI the request may have been signed with.

    An authentic request whose timestamp is more than ``max_age_ms`` away from now is expired.

    >>> sig = hmac_b64("s", b"POSThttp://h/x{}1000")
    >>> verify_hubspot_v3("s", "POST", ["http://h/x"], b"{}", "1000", sig, now_ms=2000)
    'valid'
    >>> verify_hubspot_v3("s", "POST", ["http://h/x"], b"{}", "1000", sig, now_ms=400_000)
    'expired'
    """
    if not signature or not timestamp:
        return "missing"
    if not secret or not timestamp.isdigit():
        return "invalid"
    authentic = any(
        _matches(hmac_b64(secret, method.upper().encode() + uri.encode() + body
                          + timestamp.encode()), signature)
        for uri in uris)
    if not authentic:
        return "invalid"
    return "expired" if abs(now_ms - int(timestamp)) > max_age_ms else "valid"
