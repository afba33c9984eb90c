"""Transform: every dbt model, seed and snapshot as ``dbt/<name>``; dbt tests as asset checks.

Two ``dbt build`` steps: ``dbt_customers`` builds the feeds of the customer syncs
(``sync_crm__contacts``, ``sync_erp__contacts``, ``sync_shop__customers``) and everything they
read (staging, identity resolution, ``customers``, ``customer_xref``); ``dbt_build`` builds the
rest (orders, invoices, reconciliation, employees...). The second step has the lowest priority:
a changed customer reaches the syncs (and the checks they wait for) without waiting for the
reconciliation marts, which still build in the same run.

Error-severity tests are blocking checks: when one fails, dbt skips what depends on the model and
the run stops before any sync downstream. ``dbt build`` runs with the same settings as the rest of
goldloop (DuckDB file or Postgres); its test results are recorded in ``quality.check_results``.
Each materialisation links to its report page; the reconciliation marts carry the breaks open
and ``customer_xref`` the match rate (see :mod:`orchestration.transform.metadata`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dagster import AssetsDefinition
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from goldloop.quality.dbt_results import record_dbt_results
from orchestration.resources import GoldloopResource
from orchestration.tags import is_full_refresh
from orchestration.transform.metadata import enrich
from orchestration.transform.project import (
    dbt_environment,
    keep_partial_parse,
    manifest_path,
    shared_target_path,
)
from orchestration.translators import TransformTranslator

# reverse-ETL destination objects that hold customers: their feeds build first
CUSTOMER_OBJECTS = frozenset({"contacts", "customers"})
CUSTOMERS_STEP = "dbt_customers"
REST_STEP = "dbt_build"
PRIORITY_TAG = "dagster/priority"
# the rest waits while anything else is ready (the customer syncs and the checks they wait for)
REST_PRIORITY = -10
_BUILT = frozenset({"model", "seed", "snapshot"})


def customer_feeds() -> list[str]:
    """The ``sync_*`` models the customer syncs read (from ``reverse_etl/syncs/*.yml``)."""
    from reverse_etl.spec import load_all

    return sorted({spec.source.model for spec in load_all()
                   if spec.destination.object in CUSTOMER_OBJECTS})


def upstream_nodes(manifest: Mapping[str, Any], models: Sequence[str]) -> list[str]:
    """``models`` and every model, seed and snapshot upstream of them, as dbt selectors
    (each node's fully qualified name, the form dagster-dbt selects subsets with).

    Listed one by one (not ``+model``) so that dbt builds the same nodes as the asset graph
    shows whatever the target: on Postgres the Splink model is disabled and a ``+model``
    selection evaluated there would leave out what only it reads.

    >>> def node(kind, name, *parents):
    ...     return {"resource_type": kind, "name": name, "fqn": ["p", name],
    ...             "depends_on": {"nodes": list(parents)}}
    >>> manifest = {"nodes": {"model.p.a": node("model", "a"), "seed.p.s": node("seed", "s"),
    ...     "model.p.b": node("model", "b", "model.p.a", "seed.p.s", "source.p.x.y"),
    ...     "model.p.c": node("model", "c")}}
    >>> upstream_nodes(manifest, ["b"])
    ['p.a', 'p.b', 'p.s']
    """
    nodes = manifest["nodes"]
    todo = [uid for uid, node in nodes.items()
            if node["resource_type"] in _BUILT and node["name"] in models]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen or uid not in nodes or nodes[uid]["resource_type"] not in _BUILT:
            continue
        seen.add(uid)
        todo.extend(nodes[uid].get("depends_on", {}).get("nodes", []))
    return sorted(".".join(nodes[uid]["fqn"]) for uid in seen)


def built_nodes(manifest: Mapping[str, Any]) -> list[str]:
    """Every model, seed and snapshot of the project, as dbt selectors (fully qualified names).

    >>> built_nodes({"nodes": {"model.p.a": {"resource_type": "model", "fqn": ["p", "a"]},
    ...                        "test.p.t": {"resource_type": "test", "fqn": ["p", "t"]}}})
    ['p.a']
    """
    return sorted(".".join(node["fqn"]) for node in manifest["nodes"].values()
                  if node["resource_type"] in _BUILT)


def build_args(run_tags: Mapping[str, str]) -> list[str]:
    """The ``dbt`` arguments of a run: a full reconciliation rebuilds the incremental models
    (order lines, the Splink scores and their trained model) from scratch.

    >>> build_args({}), build_args({"goldloop/full_refresh": "true"})
    (['build'], ['build', '--full-refresh'])
    """
    return ["build", "--full-refresh"] if is_full_refresh(run_tags) else ["build"]


def dbt_step(project: DbtProject, name: str, *, select: str = "fqn:*", exclude: str = "",
             priority: int = 0) -> AssetsDefinition:
    """One ``dbt build`` step over the nodes ``select``/``exclude`` pick.

    Among the steps ready to run, Dagster starts the higher ``priority`` first.
    """

    @dbt_assets(manifest=manifest_path(project), project=project, select=select,
                exclude=exclude, dagster_dbt_translator=TransformTranslator(), name=name,
                pool="goldloop_dbt", op_tags={PRIORITY_TAG: str(priority)})
    def _dbt_build(context, dbt: DbtCliResource,
                   goldloop: GoldloopResource) -> Iterator[Any]:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        settings = goldloop.settings()
        with dbt_environment(settings):
            invocation = dbt.cli(build_args(context.run.tags), context=context)
            try:
                yield from enrich(invocation.stream(), context.asset_key_for_output, settings)
            finally:  # failed builds too: their tests are the quality history
                record_dbt_results(settings, invocation.target_path)
        # the next run reuses this run's parse (same profile): no full reparse each run
        keep_partial_parse(invocation.target_path, shared_target_path(project.project_dir))

    return _dbt_build


def transform_assets(project: DbtProject) -> list[AssetsDefinition]:
    """The dbt project's models, seeds and snapshots in two ``dbt build`` steps (tests
    included): the customer syncs' feeds with what they read, then the rest."""
    feeds = customer_feeds()
    if not feeds:
        return [dbt_step(project, REST_STEP)]
    manifest = json.loads(manifest_path(project).read_text())
    customers = upstream_nodes(manifest, feeds)
    # the rest named too (not "all but customers"): a test of a rest model that refers to a
    # customer model (orders → customers) stays an asset check of the rest step
    rest = sorted(set(built_nodes(manifest)) - set(customers))
    return [dbt_step(project, CUSTOMERS_STEP, select=" ".join(customers)),
            dbt_step(project, REST_STEP, select=" ".join(rest), priority=REST_PRIORITY)]
