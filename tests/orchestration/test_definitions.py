"""The code location loads, and its assets, checks and automation are exactly the expected ones.

``snapshots/definitions.json`` is the snapshot: it changes only on purpose. After adding a model,
a dbt test, a table or a sync, regenerate it and review the diff:

    GOLDLOOP_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/orchestration/test_definitions.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, Definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


@pytest.fixture(scope="module")
def defs(dbt_manifest: Path) -> Definitions:
    from orchestration.definitions import defs as location

    return location


def describe(defs: Definitions) -> dict[str, Any]:
    """The location's shape: assets (group, partitions, freshness), checks, automation."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        policy = node.freshness_policy
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "freshness": type(policy).__name__ if policy else None,
            # the seams between layers (raw → staging, sync model → sync), not dbt's own DAG
            "upstream": sorted(k.to_user_string() for k in node.parent_keys
                               if k.path[0] != "dbt" or key.path[0] != "dbt"),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        spec = graph.get_check_spec(check_key)
        checks[check_key.to_user_string()] = {"blocking": spec.blocking}
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": {s.name: s.cron_schedule for s in defs.get_repository_def().schedule_defs},
        "sensors": sorted(s.name for s in defs.get_repository_def().sensor_defs),
    }


def test_the_definitions_load(defs: Definitions) -> None:
    Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("goldloop_loop") is not None


def test_assets_checks_and_automation_match_the_snapshot(defs: Definitions) -> None:
    current = describe(defs)
    if os.environ.get("GOLDLOOP_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    hint = "regenerate on purpose: GOLDLOOP_UPDATE_SNAPSHOTS=1 pytest " + __file__
    assert sorted(current["assets"]) == sorted(expected["assets"]), hint
    assert current["assets"] == expected["assets"], hint
    assert sorted(current["checks"]) == sorted(expected["checks"]), hint
    assert current == expected, hint


def test_keys_start_with_the_system_or_the_layer_and_groups_follow(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    groups = {"crm": "ingest", "erp": "ingest", "shop": "ingest", "hr": "ingest",
              "dbt": "transform", "sync": "activate"}
    wrong = [k.to_user_string() for k in graph.get_all_asset_keys()
             if groups.get(k.path[0]) != graph.get(k).group_name]
    assert wrong == []


def test_dbt_sources_are_the_raw_tables_dlt_loads(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    stray = sorted(k.to_user_string() for k in graph.get_all_asset_keys() - materializable)
    assert stray == []  # no dbt source left as an external asset
    staging = graph.get(AssetKey(["dbt", "stg_shop__order_lines"]))
    assert AssetKey(["shop", "orders"]) in staging.parent_keys  # orders__line_items → shop/orders


def test_error_severity_dbt_tests_block_downstream(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    customers = [graph.get_check_spec(k) for k in graph.asset_check_keys
                 if k.asset_key == AssetKey(["dbt", "customers"])]
    assert customers
    assert all(spec.blocking for spec in customers if spec.name.startswith("unique_"))


def test_each_sync_runs_after_its_sync_model(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    syncs = [k for k in graph.get_all_asset_keys() if k.path[0] == "sync"]
    assert {k.path[-1] for k in syncs} == {"crm_contacts", "erp_contacts", "shop_customers",
                                           "deal_invoices"}
    for key in syncs:
        parents = graph.get(key).parent_keys
        assert len(parents) == 1
        assert next(iter(parents)).path[-1].startswith("sync_")


def test_orders_and_invoices_are_daily_partitioned(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    for key in (AssetKey(["shop", "orders"]), AssetKey(["erp", "invoices"])):
        partitions = graph.get(key).partitions_def
        assert partitions is not None
        assert partitions.get_last_partition_key() is not None
    assert graph.get(AssetKey(["crm", "contacts"])).partitions_def is None


def test_golden_marts_carry_a_freshness_policy(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey(["dbt", "customers"])).freshness_policy is not None
    assert graph.get(AssetKey(["dbt", "stg_crm__contacts"])).freshness_policy is None


def test_the_loop_job_covers_every_asset(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("goldloop_loop")
    assert set(job.asset_layer.selected_asset_keys) == set(graph.get_all_asset_keys())


def test_the_customer_syncs_feeds_build_first_and_the_syncs_jump_the_queue(
        defs: Definitions) -> None:
    job = defs.resolve_job_def("goldloop_loop")
    graph = defs.resolve_asset_graph()
    step_of = {key: graph.get(key).assets_def.node_def.name
               for key in graph.get_all_asset_keys()}
    first = {k.path[-1] for k, step in step_of.items() if step == "dbt_customers"}
    assert {"customers", "customer_xref", "sync_crm__contacts", "sync_erp__contacts",
            "sync_shop__customers", "stg_shop__customers"} <= first
    assert {"orders", "orders_vs_invoices", "sync_erp__invoices", "employees"}.isdisjoint(first)
    assert step_of[AssetKey(["dbt", "orders"])] == "dbt_build"

    def priority(step: str) -> int:
        return int(job.graph.node_named(step).tags.get("dagster/priority", 0))

    # among ready steps the syncs start first and the rest of the models last
    assert priority("sync__crm_contacts") > priority("dbt_customers") > priority("dbt_build")
