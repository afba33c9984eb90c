"""dbt_project/ parses with no warehouse at all (Dagster's dbt integration needs the manifest)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.dbt.world import dbt


def test_parse_needs_no_warehouse_and_writes_the_manifest(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    result = dbt("parse", root=tmp_path, warehouse=missing)
    assert result.returncode == 0, result.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    models = {node["name"] for node in manifest["nodes"].values()
              if node["resource_type"] == "model"}
    assert {"customers", "customer_xref", "orders_vs_invoices", "deals_vs_invoices",
            "customer_field_conflicts", "leavers_with_access"} <= models
    assert not missing.exists()


def test_a_contracted_not_null_column_is_kept_not_null_by_the_table_not_by_a_test(
        tmp_path: Path) -> None:
    # the warehouse refuses the null on write (test_incremental: ..._refuse_a_null_after_an_
    # incremental_build), so a not_null data test would only cost a node per build
    result = dbt("parse", root=tmp_path, warehouse=tmp_path / "warehouse.duckdb")
    assert result.returncode == 0, result.stdout[-3000:]
    nodes = json.loads((tmp_path / "target" / "manifest.json").read_text())["nodes"]
    enforced = {(uid, name) for uid, node in nodes.items()
                if node["resource_type"] == "model" and node["contract"]["enforced"]
                for name, column in node["columns"].items()
                if any(c["type"] == "not_null" for c in column.get("constraints", []))}
    assert enforced
    doubled = [(node["attached_node"], node["test_metadata"]["kwargs"]["column_name"])
               for node in nodes.values()
               if node["resource_type"] == "test"
               and (node.get("test_metadata") or {}).get("name") == "not_null"
               and (node["attached_node"], node["test_metadata"]["kwargs"]["column_name"])
               in enforced]
    assert doubled == []
