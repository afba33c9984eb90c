"""Run the loop job in this process: what ``goldloop demo`` (and scripts) call to go through
Dagster rather than beside it. The runs land in ``$DAGSTER_HOME``'s instance when it is set, so
``make dev`` shows them; otherwise in a throwaway instance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult

from orchestration import tags
from orchestration.partitions import live_partition_key


def run_loop(*, full_refresh: bool = False, assets: Sequence[str] | None = None,
             instance: DagsterInstance | None = None) -> ExecuteInProcessResult:
    """Run ``goldloop_loop`` on today's partition (``assets``: keys like ``crm/contacts``).

    Raises the failing step's error (a :class:`dagster.Failure` carries goldloop's message).
    """
    from orchestration.definitions import defs

    if instance is None:
        instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else (
            DagsterInstance.ephemeral())
    run_tags = {tags.TRIGGER: "manual"}
    if full_refresh:
        run_tags[tags.FULL_REFRESH] = "true"
    selection = [AssetKey.from_user_string(key) for key in assets] if assets else None
    return defs.resolve_job_def("goldloop_loop").execute_in_process(
        partition_key=live_partition_key(), instance=instance, tags=run_tags,
        asset_selection=selection, raise_on_error=True)
