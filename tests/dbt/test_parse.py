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
