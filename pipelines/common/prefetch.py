"""Fetch the next pages while the current one is being processed.

Connectors spend most of their time waiting for the API; a background thread that keeps a few
pages ahead overlaps that wait with the row mapping and dlt's own work (HTTP waits release the
GIL). Errors in the fetching thread are raised in the consumer, in order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``items`` in a background thread, keeping up to ``depth`` ready.

    >>> list(prefetch(iter(range(5))))
    [0, 1, 2, 3, 4]
    >>> def boom():
    ...     yield 1
    ...     raise ValueError("page 2 failed")
    >>> it = prefetch(boom())
    >>> next(it), next(it, None)
    Traceback (most recent call last):
    ...
    ValueError: page 2 failed
    """
    ready: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def offer(entry: tuple[int, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((_ITEM, item)):
                    return
            offer((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            offer((_ERROR, exc))

    worker = threading.Thread(target=produce, name="goldloop-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        worker.join(timeout=5)
