"""Transform: every dbt model and seed as ``dbt/<name>``; dbt tests as asset checks.

Error-severity tests are blocking checks: when one fails, dbt skips what depends on the model and
the run stops before any sync downstream. ``dbt build`` runs with the same settings as the rest of
goldloop (DuckDB file or Postgres).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dagster import AssetsDefinition
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.resources import GoldloopResource
from orchestration.transform.project import dbt_environment, manifest_path
from orchestration.translators import TransformTranslator


def transform_assets(project: DbtProject) -> AssetsDefinition:
    """The dbt project's models and seeds, built with ``dbt build`` (tests included)."""

    @dbt_assets(manifest=manifest_path(project), project=project,
                dagster_dbt_translator=TransformTranslator(), name="dbt_build",
                pool="goldloop_dbt")
    def _dbt_build(context, dbt: DbtCliResource,
                   goldloop: GoldloopResource) -> Iterator[Any]:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        with dbt_environment(goldloop.settings()):
            yield from dbt.cli(["build"], context=context).stream()

    return _dbt_build
