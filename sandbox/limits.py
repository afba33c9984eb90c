"""Rate-limit meters the emulators enforce (the server side of the vendors' published limits).

>>> clock = iter([0.0, 0.1, 0.2, 10.5]).__next__
>>> w = SlidingWindow(2, 10.0, clock=clock)
>>> [w.hit() for _ in range(4)]
[True, True, False, True]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most ``limit`` hits in any ``interval`` seconds (HubSpot, Xero, BambooHR)."""

    def __init__(self, limit: int, interval: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.interval = interval
        self.clock = clock
        self.hits: deque[float] = deque()
        self.lock = threading.Lock()

    def _trim(self, now: float) -> None:
        while self.hits and self.hits[0] <= now - self.interval:
            self.hits.popleft()

    def hit(self) -> bool:
        """Count one request; False (and not counted) when over the limit."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            if len(self.hits) >= self.limit:
                return False
            self.hits.append(now)
            return True

    def remaining(self) -> int:
        with self.lock:
            self._trim(self.clock())
            return max(self.limit - len(self.hits), 0)

    def retry_after(self) -> float:
        """Seconds until one more hit fits."""
        with self.lock:
            now = self.clock()
            self._trim(now)
            if len(self.hits) < self.limit:
                return 0.0
            return max(self.hits[0] + self.interval - now, 0.0)


class LeakyBucket:
    """Shopify's bucket: ``capacity`` requests, leaking ``leak_per_second``.

    >>> t = [0.0]
    >>> b = LeakyBucket(2, 1.0, clock=lambda: t[0])
    >>> b.hit(), b.hit(), b.hit()
    (True, True, False)
    >>> t[0] = 1.0
    >>> b.hit(), b.level()
    (True, 2)
    """

    def __init__(self, capacity: int, leak_per_second: float,
                 clock: Callable[[], float] = time.monotonic):
        self.capacity = capacity
        self.leak = leak_per_second
        self.clock = clock
        self.fill = 0.0
        self.at = clock()
        self.lock = threading.Lock()

    def _drain(self) -> None:
        now = self.clock()
        self.fill = max(self.fill - (now - self.at) * self.leak, 0.0)
        self.at = now

    def hit(self) -> bool:
        with self.lock:
            self._drain()
            if self.fill + 1 > self.capacity + 1e-9:
                return False
            self.fill += 1
            return True

    def level(self) -> int:
        with self.lock:
            self._drain()
            return round(self.fill + 0.4999)

    def retry_after(self) -> float:
        with self.lock:
            self._drain()
            return max((self.fill + 1 - self.capacity) / self.leak, 0.0)
