"""Ingest: one Dagster multi-asset per system, one asset per raw table (``crm/contacts``).

Asset specs come from the dlt sources through dagster-dlt; a run calls
:func:`pipelines.run.extract_system`, which loads the whole system (its resources share one dlt
pipeline and state), and reports every selected table with the pipeline's summary.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    multi_asset,
)
from dagster_dlt import build_dlt_asset_specs

from goldloop.errors import GoldloopError
from orchestration.ingest.metadata import describe_window, table_metadata
from orchestration.ingest.specs import spec_pipeline, spec_source
from orchestration.partitions import DAILY, PARTITIONED_SYSTEMS, window_of
from orchestration.resources import GoldloopResource
from orchestration.retries import EXTRACT_RETRY, as_failure
from orchestration.tags import is_full_refresh
from orchestration.translators import IngestTranslator

SYSTEMS: tuple[str, ...] = ("crm", "erp", "shop", "hr")


def run_extract(context: AssetExecutionContext, system: str,
                goldloop: GoldloopResource) -> Iterator[MaterializeResult]:
    """Extract ``system`` into the warehouse and report each selected raw table."""
    from pipelines.run import extract_system

    start, end = window_of(context)
    full_refresh = is_full_refresh(context.run.tags)
    if full_refresh and (start or end):
        raise Failure(description=f"a full refresh of {system} reloads every record: run it on "
                      "today's partition, not on a past day", allow_retries=False)
    window = describe_window(start, end, full_refresh)
    context.log.info(f"{system}: {window}")
    try:
        summary = extract_system(system, settings=goldloop.settings(), full_refresh=full_refresh,
                                 start=start, end=end, progress=context.log.info,
                                 pipelines_dir=goldloop.pipelines_path())
    except GoldloopError as exc:
        raise as_failure(exc) from exc
    for warning in summary.warnings:
        context.log.warning(warning)
    for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
        yield MaterializeResult(asset_key=key,
                                metadata=table_metadata(summary, key.path[-1], window=window))


def system_assets(system: str) -> AssetsDefinition:
    """The raw tables of one system as one multi-asset (partitioned daily for erp and shop)."""
    partitioned = system in PARTITIONED_SYSTEMS
    specs = build_dlt_asset_specs(spec_source(system), spec_pipeline(system), IngestTranslator())

    @multi_asset(
        name=f"ingest_{system}",
        specs=specs,
        can_subset=True,
        partitions_def=DAILY if partitioned else None,
        backfill_policy=BackfillPolicy.single_run() if partitioned else None,
        retry_policy=EXTRACT_RETRY,
        pool=f"goldloop_dlt_{system}",
        op_tags={"goldloop/system": system},
        description=f"Extract {system} with pipelines/{system} (dlt) into raw_{system}.",
    )
    def _ingest(context, goldloop: GoldloopResource) -> Iterator[MaterializeResult]:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        yield from run_extract(context, system, goldloop)

    return _ingest


def ingest_assets() -> list[AssetsDefinition]:
    """Every system's raw tables."""
    return [system_assets(system) for system in SYSTEMS]
