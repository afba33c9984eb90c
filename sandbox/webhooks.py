"""Signed webhooks the sandbox sends when its data changes (HubSpot v3, Xero, Shopify).

>>> shopify_hmac("s", b"{}")
'FDyo1Re6GxgQJdcysc8nXZAQT8pXuwKlZVQpeKoYxLY='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections.abc import Mapping

import httpx

log = logging.getLogger("sandbox.webhooks")


def _b64_hmac(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hubspot_v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """``X-HubSpot-Signature-v3``: base64 HMAC-SHA256 of method + URI + body + timestamp."""
    return _b64_hmac(secret, method.encode() + uri.encode() + body + str(timestamp_ms).encode())


def xero_signature(key: str, body: bytes) -> str:
    """``x-xero-signature``: base64 HMAC-SHA256 of the raw body."""
    return _b64_hmac(key, body)


def shopify_hmac(secret: str, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body."""
    return _b64_hmac(secret, body)


def send(url: str, body: bytes, headers: Mapping[str, str], *, attempts: int = 3) -> int | None:
    """POST one webhook; retries on failure like the vendors do. Returns the last status."""
    status: int | None = None
    for attempt in range(attempts):
        try:
            resp = httpx.post(url, content=body, headers=dict(headers), timeout=5.0)
            status = resp.status_code
            if status < 500:
                return status
        except httpx.HTTPError as exc:
            log.warning("webhook to %s failed: %s", url, exc)
        time.sleep(0.2 * (attempt + 1))
    return status


_QUEUE: queue.Queue[tuple[str, bytes, dict[str, str]]] = queue.Queue(maxsize=10_000)
_WORKERS: list[threading.Thread] = []
_WORKERS_LOCK = threading.Lock()
WORKER_COUNT = 4


def _deliver_forever() -> None:
    while True:
        url, body, headers = _QUEUE.get()
        try:
            send(url, body, headers)
        finally:
            _QUEUE.task_done()


def send_in_background(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Queue :func:`send` for a small pool of delivery threads so the emulator's write returns.

    The queue is bounded: a burst of changes (mutate on a large world) waits for room rather
    than starting one thread per webhook or dropping deliveries.
    """
    with _WORKERS_LOCK:
        while len(_WORKERS) < WORKER_COUNT:
            worker = threading.Thread(target=_deliver_forever, name="sandbox-webhooks",
                                      daemon=True)
            worker.start()
            _WORKERS.append(worker)
    _QUEUE.put((url, body, dict(headers)))


def now_ms() -> int:
    return int(time.time() * 1000)
