"""Activate: each reverse-ETL sync (``reverse_etl/syncs/<name>.yml``) as ``sync/<name>``.

Its materialisation shows what the run did (processed, inserted, updated, rejected...), what is
left waiting (``dead_letter_backlog``, open conflicts) and links to the sync's report page.

A sync runs after its ``sync_*`` model: when one of that model's blocking dbt tests fails, the
model's step fails and the sync does not run. The sync's own guards (mass-change threshold,
blocking SQL checks) may still stop it; then nothing is written and the asset fails with the
reason and the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import AssetsDefinition, Failure, MaterializeResult, asset

from goldloop.errors import GoldloopError
from goldloop.settings import Settings
from orchestration.links import sync_link
from orchestration.resources import GoldloopResource
from orchestration.retries import SYNC_RETRY, as_failure
from orchestration.translators import ACTIVATE, SYSTEM_KINDS, dbt_key, sync_key

if TYPE_CHECKING:
    from reverse_etl.runner import RunSummary
    from reverse_etl.spec import SyncSpec

# A sync runs as soon as its model is built, before the steps still building other models of
# the run (a changed customer reaches the systems without waiting for the reconciliation marts).
PRIORITY_TAG = "dagster/priority"
SYNC_PRIORITY = "10"

_COUNTS = ("processed", "inserted", "updated", "deleted", "unchanged", "rejected",
           "dead_lettered", "failed", "retried", "conflicts", "queued", "skipped", "requests",
           "request_retries", "throttled")


def sync_metadata(summary: RunSummary, status: dict[str, Any]) -> dict[str, Any]:
    """What the run did, what is left waiting (dead letters, open conflicts), and the link to
    the sync's page on the report site."""
    metadata: dict[str, Any] = {name: getattr(summary, name) for name in _COUNTS}
    metadata.update({
        "run_status": summary.status,
        "sync_run_id": summary.run_id,
        "seconds": round(summary.seconds, 3),
        "records_per_second": round(summary.records_per_second, 1),
        "dead_letter_backlog": int(status.get("dead_letters", 0)),
        "open_conflicts": int(status.get("open_conflicts", 0) or 0),
        "notes": "\n".join(summary.notes) or "none",
        **sync_link(summary.sync),
    })
    return metadata


def run_one(spec: SyncSpec, settings: Settings, log: Any) -> MaterializeResult:
    """Run the sync; fail the step with the guard's reason when a guard stops it."""
    from reverse_etl.guards import GuardStop
    from reverse_etl.runner import run_sync, sync_status

    try:
        summary = run_sync(spec, settings, progress=log.info)
    except GuardStop as exc:
        raise Failure(description=str(exc), allow_retries=False,
                      metadata={"fix": exc.hint or ""}) from exc
    except GoldloopError as exc:
        raise as_failure(exc) from exc
    for note in summary.notes:
        log.info(note)
    return MaterializeResult(metadata=sync_metadata(summary, sync_status(settings, spec)))


def sync_asset(spec: SyncSpec) -> AssetsDefinition:
    """``sync/<name>``, downstream of ``dbt/<its model>``."""
    system = spec.destination.system

    @asset(key=sync_key(spec.name), deps=[dbt_key(spec.source.model)], group_name=ACTIVATE,
           kinds={"python", SYSTEM_KINDS.get(system, system)}, retry_policy=SYNC_RETRY,
           pool=f"goldloop_sync_{spec.name}", tags={"goldloop/system": system},
           op_tags={PRIORITY_TAG: SYNC_PRIORITY},
           description=spec.description or f"Reverse-ETL sync {spec.name}")
    def _sync(context, goldloop: GoldloopResource) -> MaterializeResult:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        return run_one(spec, goldloop.settings(), context.log)

    return _sync


def activate_assets() -> list[AssetsDefinition]:
    """One asset per sync spec."""
    from reverse_etl.spec import load_all

    return [sync_asset(spec) for spec in load_all()]
