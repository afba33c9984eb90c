"""goldloop's Dagster code location: ingest → transform → quality → activate.

Thin on purpose: each domain module builds its assets and checks; this file only collects them
with the jobs, schedules, sensors and resources. ``pyproject.toml`` names this module under
``[tool.dagster]`` so ``dagster dev`` loads it from the repository root.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.activate import activate_assets
from orchestration.ingest import ingest_assets
from orchestration.jobs import full_reconciliation_job, loop_job
from orchestration.quality import quality_checks
from orchestration.resources import AlertResource, GoldloopResource
from orchestration.schedules import hourly_incremental_loop, nightly_full_reconciliation
from orchestration.sensors.failures import run_failure_alerts
from orchestration.sensors.inbox import webhook_inbox_sensor
from orchestration.transform import transform_assets
from orchestration.transform.project import dbt_project, dbt_resource

_project = dbt_project()
_transform = transform_assets(_project)

defs = Definitions(
    assets=[*ingest_assets(), *_transform, *activate_assets()],
    asset_checks=quality_checks({key for step in _transform for key in step.keys}),
    jobs=[loop_job, full_reconciliation_job],
    schedules=[hourly_incremental_loop, nightly_full_reconciliation],
    sensors=[webhook_inbox_sensor, run_failure_alerts],
    resources={
        "goldloop": GoldloopResource(),
        "dbt": dbt_resource(_project),
        "alerts": AlertResource(),
    },
    # One process per run, steps in dependency order: DuckDB has one writer at a time, and
    # steps skip re-importing the code location.
    executor=in_process_executor,
)
