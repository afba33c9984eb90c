"""The inbox table: events stored once per vendor event id, drained by the inbox sensor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestration.state import StateStore
from orchestration.webhooks.events import InboxEvent


@dataclass(frozen=True)
class Stored:
    """What one delivery added to the inbox."""

    stored: int
    duplicates: int


@dataclass(frozen=True)
class Pending:
    """Events of one system that arrived after the sensor's cursor."""

    system: str
    events: int
    first_seq: int
    last_seq: int


def store_events(store: StateStore, events: Sequence[InboxEvent],
                 now: datetime | None = None) -> Stored:
    """Insert events, skipping any already stored (same system and vendor event id)."""
    received = now or datetime.now(UTC)
    table = store.table("webhook_inbox")
    stored = 0
    with store.transaction():
        for event in events:
            cursor = store.execute(
                f"INSERT INTO {table} (system, event_id, topic, object_id, occurred_at, "
                "received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (system, event_id) DO NOTHING",
                (event.system, event.event_id, event.topic, event.object_id,
                 store.stamp(event.occurred_at), store.stamp(received), event.payload))
            stored += max(cursor.rowcount, 0)
    return Stored(stored, len(events) - stored)


def pending_after(store: StateStore, seq: int) -> list[Pending]:
    """Per system, the events stored after ``seq`` (the sensor's cursor)."""
    rows = store.rows(
        f"SELECT system, count(*), min(seq), max(seq) FROM {store.table('webhook_inbox')} "
        "WHERE seq > ? GROUP BY system ORDER BY system", (seq,))
    return [Pending(str(s), int(n), int(lo), int(hi)) for s, n, lo, hi in rows]


def claim(store: StateStore, pending: Pending, run_key: str,
          now: datetime | None = None) -> None:
    """Mark a system's pending events as handed to the run ``run_key``."""
    table = store.table("webhook_inbox")
    with store.transaction():
        store.execute(
            f"UPDATE {table} SET claimed_by = ?, claimed_at = ? "
            "WHERE system = ? AND seq BETWEEN ? AND ? AND claimed_by IS NULL",
            (run_key, store.stamp(now or datetime.now(UTC)), pending.system, pending.first_seq,
             pending.last_seq))


def count_events(store: StateStore, system: str | None = None) -> int:
    """How many events the inbox holds (of one system, or all)."""
    table = store.table("webhook_inbox")
    if system is None:
        return int(store.rows(f"SELECT count(*) FROM {table}")[0][0])
    return int(store.rows(f"SELECT count(*) FROM {table} WHERE system = ?", (system,))[0][0])
