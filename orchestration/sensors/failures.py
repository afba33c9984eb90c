"""The run-failure sensor: every failed run becomes an alert row (and a chat message)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dagster import DefaultSensorStatus, run_failure_sensor

from orchestration.alerts import Alert, mark_notified, notify, record_alert
from orchestration.resources import AlertResource, GoldloopResource
from orchestration.state import connect_state


def root_message(error: Any) -> str:
    """The innermost error's message (Dagster wraps what the step raised).

    >>> from types import SimpleNamespace as E
    >>> root_message(E(message="wrapper", cause=E(message="503 from crm\\n", cause=None)))
    '503 from crm'
    """
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return str(error.message).strip()


def alert_of(context) -> Alert:
    """The alert of a :class:`dagster.RunFailureSensorContext`."""
    run = context.dagster_run
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    message = context.failure_event.message or "the run failed"
    for event in context.get_step_failure_events():
        error = event.event_specific_data.error if event.event_specific_data else None
        if error is not None:
            message += f"\n{event.step_key}: {root_message(error)}"
    record = context.instance.get_run_record_by_id(run.run_id)
    ended = record.end_time if record is not None else None
    failed_at = datetime.fromtimestamp(ended, UTC) if ended else datetime.now(UTC)
    return Alert(run.run_id, run.job_name, failed_at, message, steps)


@run_failure_sensor(name="run_failure_alerts", default_status=DefaultSensorStatus.RUNNING,
                    description="Records each failed run in the run_alerts table and posts it "
                    "to GOLDLOOP_ALERT_WEBHOOK_URL (Slack-compatible) when set.")
def run_failure_alerts(context, goldloop: GoldloopResource,
                       alerts: AlertResource) -> None:
    # `context` stays unannotated: Dagster checks its annotation before resolving strings
    alert = alert_of(context)
    with connect_state(goldloop.settings()) as state:
        if not record_alert(state, alert):
            return
        url = alerts.url()
        if url:
            error = notify(url, alert, alerts.timeout_seconds)
            if error:
                context.log.warning(f"alert for run {alert.run_id} not posted: {error}")
            mark_notified(state, alert.run_id, error)
