"""HubSpot's rate limits as ASGI middleware: a ten-secondly burst, a daily quota, and the lower
per-second limit of the search endpoints (which are exempt from the burst limit and, as on
HubSpot, answer without the rate-limit headers).

>>> d = DailyCounter(2, clock=lambda: 0.0)
>>> d.hit(), d.hit(), d.hit(), d.remaining()
(True, True, False, 0)
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.crm.errors import correlation_id
from sandbox.limits import SlidingWindow

DAY_SECONDS = 86_400


class DailyCounter:
    """At most ``limit`` hits per UTC day (a counter, not a window: cheap for a million hits)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self.day = -1
        self.used = 0
        self.lock = threading.Lock()

    def _roll(self) -> None:
        day = int(self.clock() // DAY_SECONDS)
        if day != self.day:
            self.day, self.used = day, 0

    def hit(self) -> bool:
        with self.lock:
            self._roll()
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    def remaining(self) -> int:
        with self.lock:
            self._roll()
            return max(self.limit - self.used, 0)

    def retry_after(self) -> float:
        return DAY_SECONDS - self.clock() % DAY_SECONDS


def _burst(limits: Limits) -> SlidingWindow:
    return SlidingWindow(limits.crm_burst, limits.crm_interval_ms / 1000)


def _search(limits: Limits) -> SlidingWindow:
    return SlidingWindow(limits.crm_search_per_second, 1.0)


def _daily(limits: Limits) -> DailyCounter:
    return DailyCounter(limits.crm_daily)


def is_search(method: str, path: str) -> bool:
    """Whether a request is a CRM search (its own limit, no ten-secondly headers).

    >>> is_search("POST", "/crm/v3/objects/contacts/search"), is_search("GET", "/crm/v3/owners")
    (True, False)
    """
    return method == "POST" and path.endswith("/search")


def limited_body(policy: str, message: str) -> bytes:
    """HubSpot's 429 body."""
    return json.dumps({
        "status": "error", "message": message, "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(), "policyName": policy,
        # not in HubSpot's documented 429 body, but the spec's error schema requires it
        "category": "RATE_LIMITS",
    }).encode()


class RateLimitMiddleware:
    """Counts every vendor request against the current limits of ``ctx``."""

    def __init__(self, app: ASGIApp, ctx: SystemContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = self.ctx
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox") or \
                not ctx.limits.enabled:
            await self.app(scope, receive, send)
            return
        limits = ctx.limits
        daily = ctx.meter("crm_daily", _daily)
        if is_search(scope["method"], scope["path"]):
            search = ctx.meter("crm_search", _search)
            if not search.hit():
                await _reject(send, limited_body("SECONDLY", "You have reached your secondly "
                                                 "limit."), search.retry_after(), [])
                return
            daily.hit()
            await self.app(scope, receive, send)
            return
        burst = ctx.meter("crm_burst", _burst)
        allowed = daily.hit() if burst.hit() else None
        headers = [
            (b"x-hubspot-ratelimit-max", str(limits.crm_burst).encode()),
            (b"x-hubspot-ratelimit-remaining", str(burst.remaining()).encode()),
            (b"x-hubspot-ratelimit-interval-milliseconds", str(limits.crm_interval_ms).encode()),
            (b"x-hubspot-ratelimit-daily", str(limits.crm_daily).encode()),
            (b"x-hubspot-ratelimit-daily-remaining", str(daily.remaining()).encode()),
        ]
        if allowed is None:
            await _reject(send, limited_body("TEN_SECONDLY_ROLLING", "You have reached your "
                                             "ten_secondly_rolling limit."),
                          burst.retry_after(), headers)
            return
        if allowed is False:
            await _reject(send, limited_body("DAILY", "You have reached your daily limit."),
                          daily.retry_after(), headers)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _reject(send: Send, body: bytes, retry_after: float,
                  headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 429, "headers": [
        *headers,
        (b"retry-after", str(max(math.ceil(retry_after), 1)).encode()),
        (b"content-type", b"application/json;charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
