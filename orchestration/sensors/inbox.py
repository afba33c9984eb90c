"""The webhook-inbox sensor: new events of a system start an incremental run of that system.

The run holds the system's raw tables and everything downstream of them (models, checks,
syncs), on today's partition. A system that already has a run waiting to start gets no second
one: the waiting run will read the same changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration import tags
from orchestration.jobs import loop_job
from orchestration.partitions import live_partition_key
from orchestration.resources import GoldloopResource
from orchestration.state import connect_state
from orchestration.translators import INGEST
from orchestration.webhooks.inbox import claim, pending_after

if TYPE_CHECKING:
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

_WAITING = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED]


def system_selection(graph: BaseAssetGraph, system: str) -> list[AssetKey]:
    """The raw tables of ``system`` and every asset downstream of them."""
    raw = [key for key in graph.get_all_asset_keys()
           if key.path[0] == system and graph.get(key).group_name == INGEST]
    return sorted(AssetSelection.assets(*raw).downstream().resolve(graph),
                  key=lambda k: k.to_user_string())


def run_key(system: str, last_seq: int) -> str:
    """The run key of the run for a system's events up to ``last_seq``.

    >>> run_key("crm", 42)
    'webhook:crm:42'
    """
    return f"webhook:{system}:{last_seq}"


@sensor(name="webhook_inbox_sensor", job=loop_job, minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
        description="Starts an incremental run of a system (and what depends on it) when its "
        "webhooks arrive in the inbox (`goldloop webhooks serve`).")
def webhook_inbox_sensor(context, goldloop: GoldloopResource) -> SensorResult | SkipReason:
    # `context` stays unannotated: Dagster checks its annotation before resolving strings
    cursor = int(context.cursor or 0)
    settings = goldloop.settings()
    graph = context.repository_def.asset_graph
    with connect_state(settings) as state:
        pending = pending_after(state, cursor)
        if not pending:
            return SkipReason("no new webhook events")
        requests: list[RunRequest] = []
        for batch in pending:
            selection = system_selection(graph, batch.system)
            if not selection:
                context.log.warning(f"{batch.events} events of unknown system {batch.system}")
                continue
            waiting = context.instance.get_run_records(
                RunsFilter(tags={tags.SYSTEM: batch.system}, statuses=_WAITING), limit=1)
            key = run_key(batch.system, batch.last_seq)
            if waiting:
                claim(state, batch, f"coalesced:{waiting[0].dagster_run.run_id}")
                continue
            requests.append(RunRequest(
                run_key=key, asset_selection=selection, partition_key=live_partition_key(),
                tags={tags.TRIGGER: "webhook", tags.SYSTEM: batch.system,
                      tags.EVENTS: str(batch.events)}))
            claim(state, batch, key)
    return SensorResult(run_requests=requests,
                        cursor=str(max(batch.last_seq for batch in pending)))


def requested_systems(requests: Sequence[RunRequest]) -> list[str]:
    """The systems a sensor result starts runs for.

    >>> requested_systems([RunRequest(tags={tags.SYSTEM: "shop"})])
    ['shop']
    """
    return [r.tags.get(tags.SYSTEM, "") for r in requests]
