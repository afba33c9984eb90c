"""The dbt build benchmark's baseline: the compiled SQL replayed in one DuckDB connection.

On a real 300-customer world (``benchmarks.model.run(..., baseline=True)``: seeded, extracted,
built by dbt, replayed on the copy taken before the build) the replay must make what dbt made;
on a hand-written manifest, every kind of node and a failing test are checked one by one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from benchmarks import model
from benchmarks.harness import Figure
from benchmarks.model_baseline import copy_warehouse, run_baseline, strip_models
from goldloop.errors import ConfigError, WarehouseError
from tests.support import free_ports

LAYERS = ("staging", "intermediate", "marts", "seeds", "snapshots")
# Marts compared row for row (the others by row count: leavers_with_access and the snapshot
# stamp the time they were built).
SAME_ROWS = ("customers", "customer_xref", "order_lines", "orders_vs_invoices",
             "deals_vs_invoices", "reconciliation_breaks", "companies", "sync_crm__contacts")


# -- a real world -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Figure]]:
    """A 300-customer world run through the model benchmark with ``--baseline``."""
    root = tmp_path_factory.mktemp("model_baseline")
    ports = dict(zip(model.SYSTEMS, free_ports(4), strict=True))
    return root, model.run(300, root=root, ports=ports, baseline=True)


def relations(warehouse: Path) -> dict[tuple[str, str], int]:
    """(schema, name) -> row count of every relation the build makes."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables"
            f" where table_schema in {LAYERS}").fetchall()
        return {(s, n): con.execute(f'select count(*) from "{s}"."{n}"').fetchall()[0][0]
                for s, n in names}
    finally:
        con.close()


def figure(figures: list[Figure], name: str) -> Figure:
    return next(f for f in figures if f.name == name)


def test_the_replay_builds_every_relation_dbt_built_with_the_same_rows(
        world: tuple[Path, list[Figure]]) -> None:
    root, _ = world
    built = relations(root / "warehouse.duckdb")
    replayed = relations(root / "baseline" / "warehouse.duckdb")
    # incremental models' hooks keep what they were built from for the next build (state, not
    # models): the clusters' links and labels (and when they kept them), the records whose
    # links the key links and the decisions rewrote, the customers' members the change log compared
    # with, the loads the match features read, what the decisions read of the scorings, what
    # each mart by customer and each fact consumed of it, the values each feed's customers
    # hold, the key change log, the order_invoice links and the references each invoice named,
    # the loads each fact read and the customers each feed wrote; dbt renders hooks at run
    # time and the replay does not run them
    feeds = ("sync_crm__contacts", "sync_erp__contacts", "sync_shop__customers")
    hook_state = {
        *{("intermediate", f"{model}__{kind}")
          for model in ("int_customer_clusters", "int_customer_rule_clusters")
          for kind in ("links", "labels", "consumed")},
        *{("intermediate", f"{model}__touched")
          for model in ("int_customer_key_edges", "int_customer_pairs_decided")},
        ("intermediate", "int_customer_changes__members"),
        ("intermediate", "int_customer_pairs_decided__consumed"),
        ("intermediate", "int_customer_match_features__loads"),
        *{("marts", f"{model}__consumed")
          for model in ("customers", "customer_xref", "customer_field_conflicts", *feeds)},
        *{("marts", f"{feed}__{kind}") for feed in feeds for kind in ("shared", "written")},
        ("marts", "orders__consumed"), ("marts", "invoices__consumed"),
        ("intermediate", "int_customer_match_keys__changes"),
        *{("intermediate", f"int_customer_match_keys__order_invoice_{kind}")
          for kind in ("links", "loads")},
        *{("marts", f"orders_vs_invoices__{kind}") for kind in ("loads", "references")},
        *{("marts", f"{fact}__loads")
          for fact in ("orders", "invoices", "payments", "order_lines")}}
    assert hook_state <= built.keys()
    assert replayed == {key: rows for key, rows in built.items() if key not in hook_state}
    assert built[("marts", "customers")] > 300
    assert built[("intermediate", "int_customer_pairs_scored")] > 0  # the Python (Splink) model
    assert built[("snapshots", "reconciliation_breaks_snapshot")] > 0


def test_the_replay_makes_the_same_marts_row_for_row(world: tuple[Path, list[Figure]]) -> None:
    root, _ = world
    con = duckdb.connect()
    try:
        con.execute(f"attach '{root / 'warehouse.duckdb'}' as dbt (read_only)")
        con.execute(f"attach '{root / 'baseline' / 'warehouse.duckdb'}' as replay (read_only)")
        differ = {name: con.execute(
            f"select count(*) from (select * from dbt.marts.{name}"
            f" except all select * from replay.marts.{name})").fetchall()[0][0]
            for name in SAME_ROWS}
    finally:
        con.close()
    assert differ == dict.fromkeys(SAME_ROWS, 0)


def test_the_benchmark_reports_the_baseline_and_the_ratio(
        world: tuple[Path, list[Figure]]) -> None:
    _, figures = world
    wall = figure(figures, "dbt build wall (full refresh)")
    base = figure(figures, "compiled SQL in one connection")
    ratio = figure(figures, "dbt build wall / compiled SQL")
    assert "unit tests excluded" in wall.note
    assert base.value > 0 and base.ratio == pytest.approx(base.value / wall.value)
    assert ratio.value == pytest.approx(wall.value / base.value)
    assert figure(figures, "compiled SQL failing data tests").value == 0
    assert any(f.name.startswith("compiled SQL python table") for f in figures)


def test_the_build_left_no_unit_test_results(world: tuple[Path, list[Figure]]) -> None:
    root, _ = world
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert results and not any(r["unique_id"].startswith("unit_test.") for r in results)


# -- a hand-written manifest --------------------------------------------------------------------

def node(uid: str, code: str | None, *, parents: tuple[str, ...] = (), schema: str = "marts",
         **config: Any) -> dict[str, Any]:
    """A manifest node of the kind its unique id names (catalog ``warehouse``)."""
    kind, _, name = uid.split(".")[:3]
    config = {"enabled": True, "materialized": kind, **config}
    return {"unique_id": uid, "resource_type": kind, "name": name, "alias": name,
            "database": "warehouse", "schema": schema, "language": config.pop("language", "sql"),
            "relation_name": f'"warehouse"."{schema}"."{name}"', "compiled_code": code,
            "depends_on": {"nodes": list(parents)}, "config": config,
            "contract": {"enforced": config.pop("enforced", False)},
            "columns": config.pop("columns", {})}


PYTHON_MODEL = '''
def model(dbt, session):
    return dbt.ref("orders").filter("amount > 15").to_arrow_table()

def ref(*args, **kwargs):
    return kwargs["dbt_load_df_function"]('"warehouse"."marts"."orders"')

class dbtObj:
    def __init__(self, load_df_function) -> None:
        self.ref = lambda *args, **kwargs: ref(*args, **kwargs,
                                               dbt_load_df_function=load_df_function)
'''


def tiny_project(tmp_path: Path) -> tuple[Path, Path]:
    """A dbt project folder (profile without plugins) and a target holding a manifest of every
    kind of node: seed, ephemeral, table with contract, view, Python model, snapshot, tests."""
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    (project / "seeds" / "codes.csv").write_text("code,label\n007,bond\n042,answer\n")
    (project / "dbt_project.yml").write_text("name: tiny\nprofile: tiny\n")
    (project / "profiles.yml").write_text(
        "tiny:\n  target: duckdb\n  outputs:\n    duckdb: {type: duckdb, path: x.duckdb}\n")
    root = str(project)
    contract = {"order_id": {"name": "order_id", "data_type": "integer",
                             "constraints": [{"type": "not_null"}]},
                "amount": {"name": "amount", "data_type": "double"}}
    nodes = [
        node("seed.tiny.codes", None, schema="seeds", column_types={"code": "varchar"},
             delimiter=","),
        node("model.tiny.raw_orders", "select 1", materialized="ephemeral"),
        node("model.tiny.orders",
             "with __dbt__cte__raw_orders as (select * from (values (1, 10.0), (2, 20.5),"
             " (3, 30.0)) v(order_id, amount)) select amount, order_id"
             " from __dbt__cte__raw_orders", parents=("model.tiny.raw_orders",),
             materialized="table", enforced=True, columns=contract),
        node("model.tiny.big_orders", PYTHON_MODEL, parents=("model.tiny.orders",),
             materialized="table", language="python", schema="intermediate"),
        node("model.tiny.order_codes",
             'select code from "warehouse"."seeds"."codes" cross join'
             ' "warehouse"."marts"."orders"', parents=("seed.tiny.codes", "model.tiny.orders"),
             materialized="view", schema="staging"),
        node("snapshot.tiny.orders_snapshot", 'select * from "warehouse"."marts"."orders"',
             parents=("model.tiny.orders",), schema="snapshots", strategy="check",
             unique_key="order_id", check_cols="all", hard_deletes="ignore"),
        node("test.tiny.codes_keep_zeros", 'select * from "warehouse"."seeds"."codes"'
             " where code not like '0%'", parents=("seed.tiny.codes",), severity="error"),
        node("test.tiny.no_big_orders", 'select * from "warehouse"."marts"."orders"'
             " where amount > 15", parents=("model.tiny.orders",), severity="error",
             fail_calc="count(*)", warn_if="!= 0", error_if="!= 0"),
        node("test.tiny.few_big_orders", 'select * from "warehouse"."marts"."orders"'
             " where amount > 15", parents=("model.tiny.orders",), severity="warn"),
        node("test.tiny.broken", "select * from no_such_table",
             parents=("model.tiny.orders",), severity="error"),
    ]
    for each in nodes:
        each["root_path"] = root
    nodes[0]["original_file_path"] = "seeds/codes.csv"
    target = tmp_path / "target"
    target.mkdir()
    # listed children first: the replay must still build parents first
    (target / "manifest.json").write_text(json.dumps({
        "nodes": {n["unique_id"]: n for n in reversed(nodes)},
        "sources": {"source.tiny.raw.x": {"schema": "raw"}}}))
    return project, target


def test_a_hand_written_manifest_is_replayed_node_by_node(tmp_path: Path) -> None:
    _, target = tiny_project(tmp_path)
    warehouse = tmp_path / "copy.duckdb"  # not "warehouse": attached under the manifest's name
    duckdb.connect(str(warehouse)).close()

    result = run_baseline(target, warehouse)

    status = {n.unique_id.split(".")[2]: (n.action, n.status, n.failures) for n in result.nodes}
    assert status == {
        "codes": ("seed", "success", None), "raw_orders": ("ephemeral", "success", None),
        "orders": ("table", "success", None), "big_orders": ("python table", "success", None),
        "order_codes": ("view", "success", None),
        "orders_snapshot": ("snapshot", "success", None),
        "codes_keep_zeros": ("test", "pass", 0), "no_big_orders": ("test", "fail", 2),
        "few_big_orders": ("test", "warn", 2), "broken": ("test", "error", None)}
    failing = {n.unique_id: n.message for n in result.failing_tests}
    assert failing.keys() == {"test.tiny.no_big_orders", "test.tiny.broken"}
    assert "no_such_table" in failing["test.tiny.broken"]
    order = [n.unique_id for n in result.nodes]
    assert order.index("model.tiny.orders") < order.index("model.tiny.big_orders")
    assert result.seconds >= sum(n.seconds for n in result.nodes)
    assert "failing tests: 2, warning tests: 1" in result.summary()

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select code from seeds.codes order by 1").fetchall() == [
            ("007",), ("042",)]  # the seed's column_types kept the leading zeros
        assert con.execute("select column_name, is_nullable from information_schema.columns"
                           " where table_name = 'orders' order by ordinal_position"
                           ).fetchall() == [("order_id", "NO"), ("amount", "YES")]
        assert con.execute("select order_id from intermediate.big_orders order by 1"
                           ).fetchall() == [(2,), (3,)]
        assert con.execute("select count(*), count(dbt_scd_id), count(dbt_valid_to)"
                           " from snapshots.orders_snapshot").fetchall() == [(3, 3, 0)]
        assert con.execute("select count(*) from staging.order_codes").fetchall() == [(6,)]
    finally:
        con.close()


def test_a_built_copy_is_stripped_back_to_its_raw_tables_and_replayed_again(
        tmp_path: Path) -> None:
    _, target = tiny_project(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw; create table raw.x as select 1 as id")
    con.close()
    run_baseline(target, warehouse)
    copy = copy_warehouse(warehouse, tmp_path / "baseline" / "warehouse.duckdb")

    dropped = strip_models(copy, target)

    assert sorted(dropped) == ["intermediate.big_orders", "marts.orders", "seeds.codes",
                               "snapshots.orders_snapshot", "staging.order_codes"]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        left = con.execute("select table_schema || '.' || table_name"
                           " from information_schema.tables").fetchall()
    finally:
        con.close()
    assert left == [("raw.x",)]
    assert len(run_baseline(target, copy).failing_tests) == 2


def test_a_failing_model_stops_the_replay_with_its_name(tmp_path: Path) -> None:
    _, target = tiny_project(tmp_path)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["nodes"]["model.tiny.orders"]["compiled_code"] = "select * from nowhere"
    (target / "manifest.json").write_text(json.dumps(manifest))
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()

    with pytest.raises(WarehouseError, match=r"model\.tiny\.orders failed"):
        run_baseline(target, warehouse)


def test_a_target_without_compiled_code_says_to_compile_first(tmp_path: Path) -> None:
    _, target = tiny_project(tmp_path)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["nodes"]["model.tiny.orders"]["compiled_code"] = None
    (target / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(ConfigError, match="dbt compile"):
        run_baseline(target, tmp_path / "warehouse.duckdb")
