"""Paced, retrying HTTP sessions: one token bucket per system at its published rate.

Every connector talks to its system through :func:`paced_session`: dlt's retrying session
(``Retry-After`` honoured; 429, 5xx, timeouts, dropped connections and unreadable JSON bodies
retried with exponential backoff) whose every attempt first takes a token from a pyrate-limiter
bucket shared by all sessions of that system in this process. The default pace is the vendor's
published limit; dlt config (``sources.<system>.requests_per_second`` / ``.burst``) overrides it,
and ``requests_per_second = 0`` lifts it (benchmarks against a sandbox with limits off).

Counters of requests, retries and 429s per system feed the run summary (:func:`request_counts`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dlt
import requests
from dlt.common import json as dlt_json
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    _make_retry,
)
from dlt.sources.helpers.requests.session import Session
from pyrate_limiter import Limiter, Rate
from requests.adapters import HTTPAdapter

# Client-side windows are a little longer than the server's so network jitter never tips a full
# window over the limit; 2 % + 20 ms keeps the pace well above 90 % of the allowed rate.
WINDOW_MARGIN = 0.02
WINDOW_PAD_MS = 20
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_BACKOFF_FACTOR = 1.0


@dataclass(frozen=True)
class Pace:
    """A token bucket: ``burst`` requests at once, refilled at ``requests_per_second``.

    >>> Pace(19.0, 190).window_ms()
    10220
    >>> Pace(0.0, 1).window_ms() is None
    True
    """

    requests_per_second: float
    burst: int

    def window_ms(self) -> int | None:
        """The sliding window (ms) in which at most ``burst`` requests go out; None = unlimited."""
        if self.requests_per_second <= 0:
            return None
        window = self.burst / self.requests_per_second * 1000
        return int(window * (1 + WINDOW_MARGIN) + WINDOW_PAD_MS)


# The vendors' published limits (../shared/specs/README.md). BambooHR publishes none: 10/s is a
# configurable bound.
DEFAULT_PACES: dict[str, Pace] = {
    "crm": Pace(19.0, 190),  # HubSpot Pro/Enterprise: 190 requests per rolling 10 s
    "erp": Pace(1.0, 60),  # Xero: 60 calls per minute per tenant
    "shop": Pace(2.0, 40),  # Shopify: bucket of 40 leaking 2 per second, per shop
    "hr": Pace(10.0, 10),
}
# Endpoints with their own limit instead of the system's (matched on the URL path).
DEFAULT_ROUTE_PACES: dict[str, dict[str, Pace]] = {
    "crm": {"/search": Pace(4.0, 4)},  # HubSpot search: about 4 requests per second
}


@dataclass
class RequestCounts:
    """Requests sent (every attempt), retries made and 429 answers seen, for one system."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0


_LOCK = threading.Lock()
_COUNTS: dict[str, RequestCounts] = {}
_LIMITERS: dict[tuple[str, int], Limiter] = {}


def request_counts(system: str) -> RequestCounts:
    """A copy of the counters of ``system`` since the process started (or the last reset)."""
    with _LOCK:
        found = _COUNTS.get(system, RequestCounts())
        return RequestCounts(found.requests, found.retries, found.throttled)


def reset_request_counts(system: str) -> None:
    """Start the counters of ``system`` from zero."""
    with _LOCK:
        _COUNTS[system] = RequestCounts()


def _bump(system: str, field: str) -> None:
    with _LOCK:
        counts = _COUNTS.setdefault(system, RequestCounts())
        setattr(counts, field, getattr(counts, field) + 1)


def _limiter(key: str, pace: Pace) -> Limiter | None:
    """The process-wide limiter of one bucket key at one pace (created on first use)."""
    window = pace.window_ms()
    if window is None:
        return None
    with _LOCK:
        limiter = _LIMITERS.get((key, window))
        if limiter is None:
            limiter = Limiter(
                Rate(pace.burst, window), raise_when_fail=False, max_delay=window + 1000,
                retry_until_max_delay=True, buffer_ms=5,
            )
            _LIMITERS[(key, window)] = limiter
        return limiter


def configured_pace(system: str, *, requests_per_second: float | None = None,
                    burst: int | None = None, prefix: str = "") -> Pace:
    """The pace of ``system``: explicit arguments, else dlt config, else the published default.

    ``prefix`` selects a route's own settings, e.g. ``search_`` reads
    ``sources.crm.search_requests_per_second``.
    """
    default = (DEFAULT_ROUTE_PACES.get(system, {}).get(f"/{prefix.rstrip('_')}")
               if prefix else DEFAULT_PACES.get(system)) or Pace(10.0, 10)
    rps = requests_per_second
    if rps is None:
        rps = dlt.config.get(f"sources.{system}.{prefix}requests_per_second", float)
    size = burst
    if size is None:
        size = dlt.config.get(f"sources.{system}.{prefix}burst", int)
    if rps is None:
        return Pace(default.requests_per_second, size or default.burst)
    return Pace(float(rps), int(size or max(1, round(rps * default.burst
                                                         / default.requests_per_second))))


def unreadable_json(response: requests.Response | None, exception: BaseException | None) -> bool:
    """Retry predicate: a 2xx JSON answer whose body does not parse (a cut connection).

    A body that parses is cached on the response, so callers do not decode it twice.
    """
    if response is None or not 200 <= response.status_code < 300:
        return False
    if "json" not in response.headers.get("content-type", "") or not response.content:
        return False
    try:
        payload = dlt_json.loadb(response.content)
    except ValueError:
        return True
    response.json = lambda **_: payload  # type: ignore[method-assign]
    return False


class PacedSession(Session):
    """dlt's session that waits for a token of each matching bucket before every attempt."""

    def __init__(self, system: str, limiters: list[tuple[str, str, Limiter]],
                 timeout: float, raise_for_status: bool) -> None:
        super().__init__(timeout=timeout, raise_for_status=raise_for_status)
        self.system = system
        self.limiters = limiters
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}

    def merge_environment_settings(  # type: ignore[override]
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        """requests' proxy/CA lookup from the environment, computed once per host."""
        if proxies or stream is not None or verify is not None or cert is not None:
            return dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
        host = urlsplit(str(url))[:2]
        if host not in self._environment:
            self._environment[host] = dict(
                super().merge_environment_settings(url, {}, None, None, None))
        return dict(self._environment[host])

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = request.path_url.split("?", 1)[0]
        matched = [x for x in self.limiters if x[0] and x[0] in path]
        for _route, key, limiter in matched or [x for x in self.limiters if not x[0]]:
            while not limiter.try_acquire(key):
                pass
        _bump(self.system, "requests")
        try:
            response: requests.Response = super().send(request, **kwargs)
        except requests.HTTPError as exc:  # RESTClient's response hook raises inside send
            if exc.response is not None and exc.response.status_code == 429:
                _bump(self.system, "throttled")
            raise
        if response.status_code == 429:
            _bump(self.system, "throttled")
        return response


def paced_session(
    system: str,
    *,
    requests_per_second: float | None = None,
    burst: int | None = None,
    max_retries: int = 8,
    bucket: str | None = None,
    route_paces: Mapping[str, Pace] | None = None,
    raise_for_status: bool = False,
) -> requests.Session:
    """A retrying session for ``system`` paced by its token bucket(s).

    Args:
        system: crm, erp, shop or hr; selects the default pace, the config section and counters.
        requests_per_second / burst: override the pace (else ``sources.<system>.*`` or default).
        max_retries: attempts per request before the last answer is returned (and raises).
        bucket: the bucket key when one system has several budgets (Shopify: one per shop).
        route_paces: own buckets per URL-path fragment, used instead of the system's bucket
            (default: HubSpot's ``/search``, which has its own limit and is exempt from the
            ten-secondly one).
        raise_for_status: raise on 4xx/5xx in ``session.get/post`` (off: dlt's ``RESTClient``
            checks answers itself and warns about sessions that raise).
    """
    key = bucket or system
    limiters: list[tuple[str, str, Limiter]] = []
    main = _limiter(key, configured_pace(system, requests_per_second=requests_per_second,
                                         burst=burst))
    if main is not None:
        limiters.append(("", key, main))
    routes = DEFAULT_ROUTE_PACES.get(system, {}) if route_paces is None else route_paces
    for route, default in routes.items():
        prefix = route.strip("/").replace("/", "_") + "_"
        pace = configured_pace(system, prefix=prefix) if route_paces is None else default
        route_limiter = _limiter(f"{key}{route}", pace)
        if route_limiter is not None:
            limiters.append((route, f"{key}{route}", route_limiter))

    timeout = dlt.config.get(f"sources.{system}.request_timeout", float) or DEFAULT_TIMEOUT_SECONDS
    backoff = dlt.config.get(f"sources.{system}.backoff_factor", float)
    session = PacedSession(system, limiters, timeout, raise_for_status)
    adapter = HTTPAdapter(pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    retry = _make_retry(
        status_codes=DEFAULT_RETRY_STATUS, exceptions=DEFAULT_RETRY_EXCEPTIONS,
        max_attempts=max_retries, condition=unreadable_json,
        backoff_factor=DEFAULT_BACKOFF_FACTOR if backoff is None else backoff,
        respect_retry_after_header=True, max_delay=120,
    ).copy(before_sleep=lambda _state: _bump(system, "retries"))
    session.send = retry.wraps(session.send)  # type: ignore[method-assign]
    return session
