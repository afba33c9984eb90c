"""What every destination writer shares: per-record outcomes, the writer protocol, helpers.

A writer takes one batch of :class:`reverse_etl.plan.Change` (all of one route, at most the
spec's batch size) and returns one :class:`Outcome` per change: ``ok`` (the destination
confirmed it: its id and last-modified time), ``rejected`` (the destination refused this record,
with its reason) or ``failed`` (transient failures outlasted the retries: try again next run).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx

from reverse_etl.pacing import Pacer, PaceStats, RetriesExhausted
from reverse_etl.plan import Change

Status = Literal["ok", "rejected", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What the destination said about one record."""

    key: str
    status: Status
    destination_id: str | None = None
    destination_updated_at: datetime | None = None
    reason: str | None = None
    request_id: str | None = None
    http_status: int | None = None
    created: bool | None = None  # the destination made a new record (None: it did not say)


class Writer(Protocol):
    """A destination writer (one per run).

    ``needs_intent``: each batch must be marked ``sending`` in the state table before it goes
    (writers whose recovery looks records up after a crash; the others are idempotent by a
    natural key alone).
    """

    needs_intent: bool

    def route(self, change: Change) -> str:
        """Which request kind/target a change goes through (batches never mix routes)."""
        ...

    def write(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        """Insert/update one batch; one outcome per change."""
        ...

    def delete(self, route: str, changes: Sequence[Change]) -> list[Outcome]:
        """Archive one batch of records that left the model."""
        ...

    def pace_stats(self) -> list[PaceStats]:
        ...

    def close(self) -> None:
        ...


def failed_all(changes: Sequence[Change], error: RetriesExhausted) -> list[Outcome]:
    """Every change of a batch failed transiently."""
    return [Outcome(c.key, "failed", c.destination_id, reason=error.reason) for c in changes]


def rejected(change: Change, reason: str, *, http_status: int | None = None,
             request_id: str | None = None) -> Outcome:
    return Outcome(change.key, "rejected", change.destination_id, reason=reason,
                   http_status=http_status, request_id=request_id)


def split_halves(changes: Sequence[Change],
                 write: Callable[[Sequence[Change]], list[Outcome]]) -> list[Outcome]:
    """Write a batch the destination rejected whole as two halves, so good rows still land."""
    middle = len(changes) // 2
    return write(changes[:middle]) + write(changes[middle:])


def idempotency_key(sync: str, route: str, changes: Sequence[Change]) -> str:
    """A deterministic key for one write: same records, payloads and attempt → same key.

    A record rejected before gets a new key on its next attempt (the destination replays a
    repeated key's first answer, which would repeat the rejection).

    >>> c = Change("k1", "insert", None, {"Name": "A"}, "h1")
    >>> idempotency_key("s", "contacts", [c]) == idempotency_key("s", "contacts", [c])
    True
    >>> len(idempotency_key("s", "contacts", [c]))
    73
    """
    parts = sorted(f"{c.key}:{c.payload_hash}:{c.attempts}:{c.operation}" for c in changes)
    digest = hashlib.sha256("\n".join([sync, route, *parts]).encode()).hexdigest()
    return f"goldloop-{digest}"


def utc_naive(value: datetime | None) -> datetime | None:
    """A timestamp as naive UTC (the warehouse's convention)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def parse_iso(text: Any) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or offset) as naive UTC; None when absent or unreadable.

    >>> parse_iso("2024-05-01T10:00:00.000Z"), parse_iso("2024-05-01T12:00:00+02:00")
    (datetime.datetime(2024, 5, 1, 10, 0), datetime.datetime(2024, 5, 1, 10, 0))
    """
    if not isinstance(text, str) or not text:
        return None
    try:
        return utc_naive(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def body_json(response: httpx.Response) -> Any:
    """The JSON body, or None when there is none or it does not parse."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def present(payload: dict[str, Any], nulls: str) -> dict[str, Any]:
    """The payload as sent: ``nulls: skip`` leaves null fields out (the destination keeps them).

    >>> present({"a": 1, "b": None}, "skip"), present({"a": 1, "b": None}, "clear")
    ({'a': 1}, {'a': 1, 'b': None})
    """
    if nulls == "clear":
        return dict(payload)
    return {k: v for k, v in payload.items() if v is not None}


def make_client(timeout: float) -> httpx.Client:
    """One keep-alive HTTP client per run."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))


def pacer_stats(pacers: Sequence[Pacer]) -> list[PaceStats]:
    return [p.stats for p in pacers]
