"""Pace and retry every request a destination sends.

- :class:`Pacer`: one per destination (per shop for Shopify). A pyrate-limiter bucket at the
  published pace (a window 2 % + 100 ms longer than the vendor's, so network and scheduling
  jitter never tip the server's window over: still ≥ 97 % of each published rate), plus
  pauses fed by the answers: ``Retry-After`` on a 429 and each vendor's rate headers (a pause
  when the remaining allowance reaches zero). Shared by the run's worker threads.
- :func:`send`: one request with retries of 429, 5xx, timeouts, dropped connections and
  unreadable bodies, backing off exponentially with full jitter (tenacity), never sooner than the
  server's ``Retry-After``. Exhausted retries raise :class:`RetriesExhausted`: the records stay
  unconfirmed and are retried by the next run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pyrate_limiter import Limiter, Rate
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from goldloop.errors import SyncError

WINDOW_MARGIN = 0.02
WINDOW_PAD_MS = 100
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

PauseRule = Callable[[httpx.Response], float | None]
# Jitter only: one generator for every request (seeding a new one per request costs an
# os.urandom read each time, on the hot path of every write).
_JITTER = random.Random()
REQUEST_ID_HEADERS = (b"x-hubspot-correlation-id", b"x-request-id", b"x-correlation-id",
                      b"x-shopify-request-id", b"xero-correlation-id")


def window_ms(requests_per_second: float, burst: int) -> int | None:
    """The sliding window in which at most ``burst`` requests go out (None: unlimited).

    >>> window_ms(19.0, 190), window_ms(1.0, 60), window_ms(0, 5)
    (10300, 61300, None)
    """
    if requests_per_second <= 0:
        return None
    window = burst / requests_per_second * 1000
    return int(window * (1 + WINDOW_MARGIN) + WINDOW_PAD_MS)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (numbers only; dates are rare on these APIs).

    >>> retry_after_seconds(httpx.Response(429, headers={"Retry-After": "2.5"}))
    2.5
    """
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


@dataclass
class PaceStats:
    """What one pacer saw: requests sent (every attempt), retries, 429s and send times."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    sent_at: list[float] = field(default_factory=list)

    def max_in_window(self, seconds: float) -> int:
        """The most requests sent within any ``seconds``-long window."""
        times = sorted(self.sent_at)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best


class Pacer:
    """The pace of one destination: a client-side bucket plus pauses the server asks for."""

    def __init__(self, name: str, requests_per_second: float, burst: int,
                 pause_rule: PauseRule | None = None) -> None:
        self.name = name
        self.window = window_ms(requests_per_second, burst)
        self.limiter = None if self.window is None else Limiter(
            Rate(burst, self.window), raise_when_fail=False, max_delay=self.window + 1000,
            retry_until_max_delay=True, buffer_ms=5)
        self.pause_rule = pause_rule
        self.stats = PaceStats()
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def acquire(self) -> None:
        """Wait for the server's pause and a token, then count one request."""
        while True:
            with self._lock:
                wait = self._paused_until - time.monotonic()
            if wait <= 0:
                break
            time.sleep(wait)
        if self.limiter is not None:
            while not self.limiter.try_acquire(self.name):
                time.sleep(0.01)
        with self._lock:
            self.stats.requests += 1
            self.stats.sent_at.append(time.monotonic())

    def pause(self, seconds: float) -> None:
        """Hold every request of this destination for ``seconds`` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def observe(self, response: httpx.Response) -> None:
        """Learn from one answer: 429 ``Retry-After`` and the vendor's remaining allowance."""
        if response.status_code == 429:
            with self._lock:
                self.stats.throttled += 1
            self.pause(retry_after_seconds(response) or 1.0)
            return
        if self.pause_rule is not None:
            seconds = self.pause_rule(response)
            if seconds:
                self.pause(seconds)


class Transient(Exception):
    """A failure worth retrying (429, 5xx, timeout, dropped connection, unreadable body)."""

    def __init__(self, reason: str, response: httpx.Response | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response


class RetriesExhausted(SyncError):
    """A request kept failing transiently; its records stay unconfirmed for the next run."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {reason}",
                         hint="the records are retried on the next run")
        self.reason = reason
        self.attempts = attempts


class Fatal(SyncError):
    """The destination refuses us as a client (401/403/404 on the endpoint): stop the run."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 60.0


def _wait(policy: RetryPolicy, rng: random.Random) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        ceiling = min(policy.max_backoff_seconds,
                      policy.backoff_seconds * 2 ** (state.attempt_number - 1))
        jittered = rng.uniform(0, ceiling)  # full jitter
        error = state.outcome.exception() if state.outcome else None
        response = getattr(error, "response", None)
        floor = retry_after_seconds(response) if response is not None else None
        # the pacer already holds requests for Retry-After; this only spreads the workers out
        return max(jittered, 0.0) if floor is None else max(jittered, 0.0) * 0.1
    return wait


def send(pacer: Pacer, request: Callable[[], httpx.Response], policy: RetryPolicy,
         *, readable: Callable[[httpx.Response], bool] | None = None,
         rng: random.Random | None = None) -> httpx.Response:
    """Send one request through ``pacer`` with retries; returns the first non-transient answer.

    ``readable`` checks a 2xx body (e.g. that its JSON parses); an unreadable one is retried.
    """
    attempts = 0

    def once() -> httpx.Response:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            with pacer._lock:
                pacer.stats.retries += 1
        pacer.acquire()
        try:
            response = request()
        except httpx.TimeoutException as exc:
            raise Transient(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"connection failed ({type(exc).__name__}: {exc})") from exc
        pacer.observe(response)
        if response.status_code in RETRY_STATUSES:
            raise Transient(f"HTTP {response.status_code}: {response.text[:200]}", response)
        if readable is not None and response.is_success and not readable(response):
            raise Transient(f"HTTP {response.status_code} with an unreadable body", response)
        return response

    retrying = Retrying(stop=stop_after_attempt(policy.max_retries + 1),
                        wait=_wait(policy, rng or _JITTER),
                        retry=retry_if_exception_type(Transient), reraise=True)
    try:
        return retrying(once)
    except Transient as exc:
        raise RetriesExhausted(exc.reason, attempts) from exc


def json_readable(response: httpx.Response) -> bool:
    """Whether a body parses as JSON (an empty body counts: some writes answer 204)."""
    if not response.content:
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def header_number(response: httpx.Response, name: str) -> float | None:
    """A numeric header, or None.

    >>> header_number(httpx.Response(200, headers={"X-A": "7"}), "x-a")
    7.0
    """
    raw = response.headers.get(name)
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def request_id(response: httpx.Response | None, body: Any = None) -> str | None:
    """The destination's correlation/request id, from headers or an error body.

    >>> request_id(httpx.Response(200, headers={"X-Request-Id": "r1", "X-Correlation-Id": "c"}))
    'r1'
    >>> request_id(httpx.Response(400), {"correlationId": "c-2"})
    'c-2'
    """
    if isinstance(body, dict):
        for key in ("correlationId", "Id", "ErrorNumber"):
            if body.get(key):
                return str(body[key])
    if response is None:
        return None
    # one pass over the raw headers: writers ask once per record of a batch
    found: dict[bytes, bytes] = {}
    for name, value in response.headers.raw:
        lowered = name.lower()
        if lowered in REQUEST_ID_HEADERS and value:
            found.setdefault(lowered, value)
    for name in REQUEST_ID_HEADERS:
        if name in found:
            return found[name].decode("latin-1")
    return None
