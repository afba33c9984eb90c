"""Schedules: the hourly incremental loop and the nightly full reconciliation (UTC).

Both start stopped: turn them on in the UI (Automation) or with ``dagster schedule start``.
"""

from __future__ import annotations

from dagster import DefaultScheduleStatus, RunRequest, schedule

from orchestration import tags
from orchestration.jobs import full_reconciliation_job, loop_job
from orchestration.partitions import day_key


@schedule(name="hourly_incremental_loop", cron_schedule="0 * * * *", job=loop_job,
          execution_timezone="UTC", default_status=DefaultScheduleStatus.STOPPED,
          description="Every hour: extract what changed, build, check, sync.")
def hourly_incremental_loop(context) -> RunRequest:
    when = context.scheduled_execution_time
    return RunRequest(run_key=f"hourly:{when.isoformat()}", partition_key=day_key(when),
                      tags={tags.TRIGGER: "schedule"})


@schedule(name="nightly_full_reconciliation", cron_schedule="30 2 * * *",
          job=full_reconciliation_job, execution_timezone="UTC",
          default_status=DefaultScheduleStatus.STOPPED,
          description="Every night at 02:30 UTC: reload every source from scratch (finds "
          "deletes an incremental read cannot see), rebuild, check, sync.")
def nightly_full_reconciliation(context) -> RunRequest:
    when = context.scheduled_execution_time
    return RunRequest(run_key=f"nightly:{when.date().isoformat()}", partition_key=day_key(when),
                      tags={tags.TRIGGER: "schedule", tags.FULL_REFRESH: "true"})
