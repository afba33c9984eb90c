"""Xero's call limits: per tenant 60/minute (sliding), 5,000/day, 5 concurrent; 10,000/minute/app.

Every answer carries ``X-MinLimit-Remaining``, ``X-DayLimit-Remaining`` and
``X-AppMinLimit-Remaining``; a refused call is a 429 with ``Retry-After`` (seconds) and
``X-Rate-Limit-Problem`` (``minute``, ``day``, ``appminute`` or ``concurrent``). The minute and
day numbers come from ``ctx.limits`` (``erp_per_minute``, ``erp_daily``); the app minute limit and
the concurrency limit are Xero's published constants. ``limits.enabled = False`` lifts them all.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from sandbox.context import SystemContext
from sandbox.limits import SlidingWindow

APP_PER_MINUTE = 10_000
CONCURRENT = 5
DAY_SECONDS = 86_400.0


@dataclass
class Verdict:
    """The outcome of counting one call: headers to send, and the problem if refused."""

    headers: dict[str, str]
    problem: str | None = None
    retry_after: int = 0


class _InFlight:
    """Calls in progress for the tenant."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


def _meters(ctx: SystemContext) -> tuple[SlidingWindow, SlidingWindow, SlidingWindow]:
    minute = ctx.meter("erp_minute", lambda lim: SlidingWindow(lim.erp_per_minute, 60.0))
    day = ctx.meter("erp_day", lambda lim: SlidingWindow(lim.erp_daily, DAY_SECONDS))
    app = ctx.meter("erp_app_minute", lambda lim: SlidingWindow(APP_PER_MINUTE, 60.0))
    return minute, day, app


def _in_flight(ctx: SystemContext) -> _InFlight:
    return ctx.meter("erp_in_flight", lambda _lim: _InFlight())


def _headers(minute: int, day: int, app: int) -> dict[str, str]:
    return {"X-MinLimit-Remaining": str(minute), "X-DayLimit-Remaining": str(day),
            "X-AppMinLimit-Remaining": str(app)}


def remaining_headers(ctx: SystemContext) -> dict[str, str]:
    """The three remaining-count headers without counting a call."""
    if not ctx.limits.enabled:
        lim = ctx.limits
        return _headers(lim.erp_per_minute, lim.erp_daily, APP_PER_MINUTE)
    minute, day, app = _meters(ctx)
    return _headers(minute.remaining(), day.remaining(), app.remaining())


def admit(ctx: SystemContext) -> Verdict:
    """Count one call against the tenant's limits, or refuse it (not counted) with the reason."""
    if not ctx.limits.enabled:
        return Verdict(remaining_headers(ctx))
    minute, day, app = _meters(ctx)
    flight = _in_flight(ctx)
    with flight.lock:
        if flight.count >= CONCURRENT:
            return Verdict(remaining_headers(ctx), "concurrent", 1)
        for name, meter in (("day", day), ("appminute", app), ("minute", minute)):
            if meter.remaining() <= 0:
                wait = max(1, math.ceil(meter.retry_after()))
                return Verdict(remaining_headers(ctx), name, wait)
        minute.hit()
        day.hit()
        app.hit()
        flight.count += 1
    return Verdict(remaining_headers(ctx))


def release(ctx: SystemContext) -> None:
    """The call admitted by :func:`admit` has finished (concurrency bookkeeping)."""
    if not ctx.limits.enabled:
        return
    flight = _in_flight(ctx)
    with flight.lock:
        flight.count = max(flight.count - 1, 0)
