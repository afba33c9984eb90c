"""Shopify's per-shop leaky bucket (40 calls, leaking 2/s on standard plans).

Every answered call shows the fill in ``X-Shopify-Shop-Api-Call-Limit: n/40``; a call that does
not fit gets 429 with ``Retry-After``. With ``limits.enabled`` off nothing is counted.
"""

from __future__ import annotations

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.limits import LeakyBucket
from sandbox.shop.errors import throttled

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


def _bucket(limits: Limits) -> LeakyBucket:
    return LeakyBucket(limits.shop_bucket, limits.shop_leak_per_second)


def call_limit(used: int, capacity: int) -> str:
    """The header value, e.g. ``32/40``.

    >>> call_limit(32, 40)
    '32/40'
    """
    return f"{used}/{capacity}"


def admit(ctx: SystemContext, shop: str) -> str:
    """Count one call against ``shop``'s bucket and return the header value.

    Raises the 429 answer (with ``Retry-After`` and a full ``n/n`` header) when it is full.
    """
    limits = ctx.limits
    if not limits.enabled:
        return call_limit(1, limits.shop_bucket)
    bucket = ctx.meter(f"shop_bucket:{shop}", _bucket)
    if not bucket.hit():
        error = throttled(limits.shop_leak_per_second, bucket.retry_after())
        error.headers[CALL_LIMIT_HEADER] = call_limit(bucket.capacity, bucket.capacity)
        raise error
    return call_limit(max(bucket.level(), 1), bucket.capacity)
