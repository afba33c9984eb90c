"""Run-failure alerts: a row in ``run_alerts`` and, when configured, a Slack-compatible post."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from orchestration.state import StateStore

log = logging.getLogger("goldloop.alerts")

MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Alert:
    """A failed run, as the on-call person needs to see it."""

    run_id: str
    job_name: str
    failed_at: datetime
    message: str
    failed_steps: Sequence[str]


def slack_payload(alert: Alert) -> dict[str, Any]:
    """The incoming-webhook body (Slack, Mattermost, Teams' Slack-compatible hooks).

    >>> from datetime import UTC
    >>> slack_payload(Alert("r1", "goldloop_loop", datetime(2026, 1, 1, tzinfo=UTC),
    ...                     "boom", ["ingest_crm"]))["text"].splitlines()[0]
    ':rotating_light: goldloop run failed: goldloop_loop (run r1)'
    """
    steps = ", ".join(alert.failed_steps) or "the run itself"
    text = (f":rotating_light: goldloop run failed: {alert.job_name} (run {alert.run_id})\n"
            f"failed at {alert.failed_at.isoformat()} in {steps}\n"
            f"{alert.message[:MAX_MESSAGE]}")
    return {"text": text}


def record_alert(store: StateStore, alert: Alert) -> bool:
    """Insert the alert; False when this run's failure was already recorded."""
    with store.transaction():
        cursor = store.execute(
            f"INSERT INTO {store.table('run_alerts')} (run_id, job_name, failed_at, message, "
            "failed_steps) VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING",
            (alert.run_id, alert.job_name, store.stamp(alert.failed_at),
             alert.message[:MAX_MESSAGE * 5], ", ".join(alert.failed_steps)))
    return bool(cursor.rowcount and cursor.rowcount > 0)


def notify(url: str, alert: Alert, timeout: float = 5.0) -> str | None:
    """POST the alert to ``url``; returns the error, if any (a failed post never raises)."""
    try:
        response = httpx.post(url, json=slack_payload(alert), timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.status_code >= 300:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    return None


def mark_notified(store: StateStore, run_id: str, error: str | None) -> None:
    """Record whether the post went out."""
    notified: Any = error is None
    if store.dialect == "sqlite":
        notified = int(notified)
    with store.transaction():
        store.execute(f"UPDATE {store.table('run_alerts')} SET notified = ?, notify_error = ? "
                      "WHERE run_id = ?", (notified, error, run_id))
