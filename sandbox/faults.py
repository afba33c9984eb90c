"""Fault knobs: extra 5xx, 429 bursts, latency, timeouts, truncated bodies, schema drift.

All off by default; set per system through ``POST /_sandbox/faults`` or
``goldloop sandbox faults SYSTEM ...``. The middleware applies them to every vendor path
(never to ``/_sandbox/*``). Drift edits each record of a JSON response (see :func:`drift_record`).
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DriftKind = Literal["none", "new_field", "renamed_field", "changed_type"]


class Faults(BaseModel):
    """What goes wrong, and how often (rates are probabilities per request)."""

    error_rate: float = Field(0.0, ge=0, le=1)
    burst_429: int = Field(0, ge=0, description="the next N requests answer 429")
    latency_ms: int = Field(0, ge=0)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    timeout_seconds: float = Field(30.0, gt=0)
    truncate_rate: float = Field(0.0, ge=0, le=1)
    drift: DriftKind = "none"
    drift_field: str | None = None
    seed: int | None = None


DRIFT_NEW_FIELD = "sandbox_drift_note"


def drift_record(record: dict[str, Any], kind: DriftKind, field: str) -> None:
    """Change one record in place the way an upstream release would.

    >>> r = {"email": "a@b.com", "count": 3}
    >>> drift_record(r, "renamed_field", "email"); r
    {'count': 3, 'email_address': 'a@b.com'}
    >>> drift_record(r, "changed_type", "count"); r["count"]
    '3'
    """
    target = record
    for nest in ("properties", "fields"):  # HubSpot properties, BambooHR dataset rows
        if isinstance(record.get(nest), dict):
            target = record[nest]
    if kind == "new_field":
        target[DRIFT_NEW_FIELD] = "added by an upstream release"
    elif kind == "renamed_field" and field in target:
        target[f"{field}_address" if field == "email" else f"{field}_renamed"] = target.pop(field)
    elif kind == "changed_type" and field in target:
        value = target[field]
        target[field] = str(value) if not isinstance(value, str) else {"value": value}


def _records(payload: Any) -> list[dict[str, Any]]:
    """The record dicts of a vendor envelope: lists of objects at the top or one level down."""
    found: list[dict[str, Any]] = []
    if isinstance(payload, dict):
        for value in payload.values():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                found.extend(value)
            elif isinstance(value, dict) and ("id" in value or "properties" in value):
                found.append(value)
    return found


class FaultMiddleware:
    """ASGI middleware that applies the current :class:`Faults` of one system."""

    def __init__(self, app: ASGIApp, state: dict[str, Any], default_drift_field: str,
                 error_body: bytes, error_type: str = "application/json") -> None:
        self.app = app
        self.state = state  # {"faults": Faults}
        self.default_drift_field = default_drift_field
        self.error_body = error_body
        self.error_type = error_type
        self.rng = random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        faults: Faults = self.state["faults"]
        if faults.seed is not None:
            self.rng.seed(faults.seed)
            self.state["faults"] = faults = faults.model_copy(update={"seed": None})
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.burst_429 > 0:
            self.state["faults"] = faults.model_copy(update={"burst_429": faults.burst_429 - 1})
            await _respond(send, 429, b'{"status":"error","message":"sandbox burst"}',
                           [(b"retry-after", b"1")])
            return
        if faults.timeout_rate and self.rng.random() < faults.timeout_rate:
            await asyncio.sleep(faults.timeout_seconds)
            await _respond(send, 504, b"", [])
            return
        if faults.error_rate and self.rng.random() < faults.error_rate:
            content_type = [(b"content-type", self.error_type.encode())]
            await _respond(send, 503, self.error_body, content_type)
            return
        truncate = bool(faults.truncate_rate and self.rng.random() < faults.truncate_rate)
        if faults.drift == "none" and not truncate:
            await self.app(scope, receive, send)
            return
        await self._rewrite(scope, receive, send, faults, truncate)

    async def _rewrite(self, scope: Scope, receive: Receive, send: Send, faults: Faults,
                       truncate: bool) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        is_json = any(k.lower() == b"content-type" and b"json" in v for k, v in headers)
        if faults.drift != "none" and is_json and body:
            payload = json.loads(body)
            for record in _records(payload):
                drift_record(record, faults.drift, faults.drift_field or self.default_drift_field)
            body = json.dumps(payload).encode()
        if truncate and body:
            body = body[: max(len(body) // 2, 1)]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    if body and not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
