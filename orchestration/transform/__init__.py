"""Transform: every dbt model, seed and snapshot as ``dbt/<name>``; dbt tests as asset checks.

One ``dbt build`` step. Error-severity tests are blocking checks: when one fails, dbt skips what
depends on the model and the run stops before any sync downstream. ``dbt build`` runs with the
same settings as the rest of goldloop (DuckDB file or Postgres); its test results are recorded
in ``quality.check_results``. Each materialisation links to its report page; the
reconciliation marts carry the breaks open and ``customer_xref`` the match rate (see
:mod:`orchestration.transform.metadata`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dagster import AssetsDefinition
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from goldloop.quality.dbt_results import record_dbt_results
from orchestration.resources import GoldloopResource
from orchestration.transform.metadata import enrich
from orchestration.transform.project import (
    dbt_environment,
    keep_partial_parse,
    manifest_path,
    shared_target_path,
)
from orchestration.translators import TransformTranslator

REST_STEP = "dbt_build"


def dbt_step(project: DbtProject, name: str) -> AssetsDefinition:
    """One ``dbt build`` step over the whole project."""

    @dbt_assets(manifest=manifest_path(project), project=project,
                dagster_dbt_translator=TransformTranslator(), name=name, pool="goldloop_dbt")
    def _dbt_build(context, dbt: DbtCliResource,
                   goldloop: GoldloopResource) -> Iterator[Any]:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        settings = goldloop.settings()
        with dbt_environment(settings):
            invocation = dbt.cli(["build"], context=context)
            try:
                yield from enrich(invocation.stream(), context.asset_key_for_output, settings)
            finally:  # failed builds too: their tests are the quality history
                record_dbt_results(settings, invocation.target_path)
        # the next run reuses this run's parse (same profile): no full reparse each run
        keep_partial_parse(invocation.target_path, shared_target_path(project.project_dir))

    return _dbt_build


def transform_assets(project: DbtProject) -> list[AssetsDefinition]:
    """The dbt project's models, seeds and snapshots in one ``dbt build`` step (tests included).

    One step: on Postgres the customer path's upstream differs from DuckDB's (no Splink model),
    so a customers-first split of the DuckDB manifest skipped the rest of the build there.
    """
    return [dbt_step(project, REST_STEP)]
