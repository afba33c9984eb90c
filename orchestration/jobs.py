"""Jobs: the whole loop, incremental (hourly, webhooks) or as a full reconciliation (nightly)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration import tags

LOOP_JOB = "goldloop_loop"
FULL_RECONCILIATION_JOB = "goldloop_full_reconciliation"

loop_job = define_asset_job(
    LOOP_JOB,
    selection=AssetSelection.all(),
    description="The loop, incremental: extract what changed, build and test the models, "
    "check quality, push the syncs. Run on today's partition (the live edge).",
)

full_reconciliation_job = define_asset_job(
    FULL_RECONCILIATION_JOB,
    selection=AssetSelection.all(),
    tags={tags.FULL_REFRESH: "true"},
    description="The loop from scratch: every source reloads every record (deletes a "
    "connector missed are found), then the models, checks and syncs run.",
)
