"""The whole loop through Dagster, in-process, against a 300-customer sandbox on DuckDB.

What a user of the Dagster UI would see after the hourly run: every raw table, model and sync
materialised with its checks passing, the rows in the warehouse, the numbers on the assets; then
a three-day backfill of the partitioned systems, and the sandbox's real webhooks going through
the receiver and the inbox sensor into a run of just the systems that changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from goldloop.settings import patched_environ
from tests.orchestration.support import dbt_target_dir
from tests.support import running_sandbox, source_env


@dataclass
class Loop:
    root: Path
    warehouse: Path
    instance: DagsterInstance
    result: Any
    sandbox_dir: Path
    sandbox: Any  # the sandbox's SandboxConfig

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return [tuple(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path) -> Iterator[Loop]:
    """One hourly-style run of the loop job on today's partition."""
    from orchestration.loop import run_loop

    root = tmp_path_factory.mktemp("loop_duckdb")
    warehouse = root / "warehouse.duckdb"
    cwd = os.getcwd()
    with running_sandbox(root / "sandbox") as config, patched_environ({
        **source_env(config), "GOLDLOOP_TARGET": "duckdb", "GOLDLOOP_WAREHOUSE": str(warehouse),
        "DBT_TARGET_PATH": dbt_target_dir(root),  # dagster-dbt's per-run folders
    }):
        os.chdir(root)  # dlt's working folders land under the test's folder
        try:
            instance = DagsterInstance.ephemeral()
            result = run_loop(instance=instance)  # what `goldloop demo` runs
            yield Loop(root, warehouse, instance, result, root / "sandbox", config)
        finally:
            os.chdir(cwd)


def test_the_loop_run_succeeds_and_materialises_every_asset(loop: Loop) -> None:
    from orchestration.definitions import defs

    assert loop.result.success
    expected = set(defs.resolve_job_def("goldloop_loop").asset_layer.selected_asset_keys)
    materialised = {e.asset_key for e in loop.result.get_asset_materialization_events()}
    assert materialised == expected


def test_every_blocking_check_passes(loop: Loop) -> None:
    evaluations = [e.event_specific_data for e in loop.result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) > 150  # dbt's tests (one check each) ran
    failed_blocking = [f"{ev.asset_key.to_user_string()}:{ev.check_name}" for ev in evaluations
                       if not ev.passed and ev.severity.value == "ERROR"]
    assert failed_blocking == []


def test_golden_customers_are_in_the_warehouse(loop: Loop) -> None:
    customers = loop.query("select count(*) from marts.customers")[0][0]
    records = loop.query("select count(*) from marts.customer_xref")[0][0]
    assert 200 < customers < records


def test_raw_table_metadata_shows_rows_loaded_and_the_table_total(loop: Loop) -> None:
    events = {key: e for key, e in loop.instance.get_latest_materialization_events(
        [AssetKey(["crm", "contacts"]), AssetKey(["shop", "orders"])]).items() if e}
    contacts = events[AssetKey(["crm", "contacts"])].asset_materialization
    assert contacts is not None
    in_warehouse = loop.query("select count(*) from raw_crm.contacts")[0][0]
    assert contacts.metadata["rows_loaded"].value == in_warehouse > 0
    assert contacts.metadata["dagster/row_count"].value == in_warehouse
    assert contacts.metadata["window"].value == "incremental (changes since the last load)"
    assert contacts.metadata["rows_updated"].value == 0  # a first load only inserts
    deleted = loop.query("select count(*) from raw_crm.contacts where _goldloop_deleted")[0][0]
    assert contacts.metadata["rows_flagged_deleted"].value == deleted
    assert contacts.metadata["schema_changes"].value == 0
    orders = events[AssetKey(["shop", "orders"])].asset_materialization
    assert orders is not None
    assert orders.partition is not None  # the shop is partitioned: today's key
    children = orders.metadata["child_rows_loaded"].value
    assert isinstance(children, dict) and children["orders__line_items"] > 0


def test_marts_and_syncs_show_breaks_match_rate_backlog_and_report_links(loop: Loop) -> None:
    keys = {name: AssetKey(name.split("/")) for name in (
        "dbt/customer_xref", "dbt/orders_vs_invoices", "dbt/employees", "sync/crm_contacts")}
    latest = loop.instance.get_latest_materialization_events(list(keys.values()))
    shown: dict[str, dict[str, Any]] = {}
    for name, key in keys.items():
        event = latest.get(key)
        assert event is not None and event.asset_materialization is not None, name
        shown[name] = {k: v.value for k, v in event.asset_materialization.metadata.items()}

    xref = shown["dbt/customer_xref"]
    assert 0 < xref["match_rate"] < 1
    assert xref["golden_customers"] == loop.query("select count(*) from marts.customers")[0][0]
    assert xref["report"].endswith("/customers")

    breaks = shown["dbt/orders_vs_invoices"]
    open_breaks = loop.query("select count(*) from marts.orders_vs_invoices")[0][0]
    assert breaks["breaks_open"] == open_breaks > 0  # the sandbox seeds breaks
    assert sum(breaks["breaks_open_by_break_kind"].values()) == open_breaks
    assert breaks["report"].endswith("/reconciliation")
    assert shown["dbt/employees"]["report"].endswith("/compliance")

    sync = shown["sync/crm_contacts"]
    assert sync["processed"] > 0 and sync["rejected"] >= 0
    assert isinstance(sync["dead_letter_backlog"], int)
    assert sync["report"].endswith("/syncs?sync=crm_contacts")

    checks = [e.event_specific_data for e in loop.result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.event_specific_data.asset_key == keys["dbt/customer_xref"]]
    linked = [c for c in checks if "report" in c.metadata]
    assert linked and str(linked[0].metadata["report"].value).endswith(
        "/quality?model=customer_xref")


def test_the_customer_syncs_run_before_the_rest_of_the_models(loop: Loop) -> None:
    order = [e.step_key for e in loop.result.all_events if e.event_type_value == "STEP_START"]
    assert order.index("dbt_customers") < order.index("sync__crm_contacts") < order.index(
        "dbt_build")


def test_a_three_day_backfill_materialises_exactly_those_partitions(loop: Loop) -> None:
    from dagster import AssetKey
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    from orchestration.definitions import defs

    days = ["2026-10-29", "2026-10-30", "2026-10-31"]
    backfill = loop.root / "backfill.duckdb"  # a fresh warehouse: only the windows land in it
    partitioned = [k for k in defs.resolve_asset_graph().get_all_asset_keys()
                   if k.path[0] in ("erp", "shop")]
    instance = DagsterInstance.ephemeral()
    with patched_environ({"GOLDLOOP_WAREHOUSE": str(backfill)}):
        # what a single-run backfill of the range launches
        result = defs.resolve_job_def("goldloop_loop").execute_in_process(
            instance=instance, asset_selection=partitioned, raise_on_error=False,
            tags={ASSET_PARTITION_RANGE_START_TAG: days[0],
                  ASSET_PARTITION_RANGE_END_TAG: days[-1]})
    assert result.success
    for key in (AssetKey(["shop", "orders"]), AssetKey(["erp", "invoices"])):
        assert instance.get_materialized_partitions(key) == set(days)
    window = "'2026-10-29' and updated_at < '2026-11-01'"
    con = duckdb.connect(str(backfill), read_only=True)
    try:
        loaded = con.execute("select min(updated_at), max(updated_at), count(*) "
                             "from raw_shop.orders").fetchone()
    finally:
        con.close()
    assert loaded is not None
    low, high, count = loaded
    assert str(low) >= "2026-10-29" and str(high) < "2026-11-01"
    in_full_load = loop.query(
        f"select count(*) from raw_shop.orders where updated_at >= {window}")[0][0]
    assert count == in_full_load > 0
    orders = instance.get_latest_materialization_event(AssetKey(["shop", "orders"]))
    assert orders is not None and orders.asset_materialization is not None
    assert orders.asset_materialization.metadata["window"].value == (
        "changes from 2026-10-29T00:00:00+00:00 to 2026-11-01T00:00:00+00:00")


def test_sandbox_webhooks_start_runs_for_just_the_systems_that_changed(loop: Loop) -> None:
    import threading
    import time

    import uvicorn
    from dagster import SensorResult, build_sensor_context

    from goldloop.settings import Settings
    from orchestration.definitions import defs
    from orchestration.resources import GoldloopResource
    from orchestration.state import connect_state
    from orchestration.webhooks.receiver import WebhookSecrets, create_app, inbox_store
    from sandbox import control
    from tests.support import free_ports

    settings = Settings(warehouse=loop.warehouse)
    creds = loop.sandbox.credentials
    secrets = WebhookSecrets(creds.crm_client_secret, creds.shop_webhook_secret,
                             creds.erp_webhook_key)
    port = free_ports(1)[0]
    server = uvicorn.Server(uvicorn.Config(create_app(inbox_store(settings), secrets),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        control.mutate(loop.sandbox_dir, 0.02, seed=11,
                       webhook_url=f"http://127.0.0.1:{port}/webhooks")
        deadline = time.monotonic() + 20
        systems: set[str] = set()
        while time.monotonic() < deadline and systems != {"crm", "erp", "shop"}:
            time.sleep(0.2)
            with connect_state(settings) as state:
                systems = {row[0] for row in state.rows("SELECT DISTINCT system FROM "
                                                         "webhook_inbox")}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert systems == {"crm", "erp", "shop"}  # BambooHR sends no webhooks

    result = defs.get_sensor_def("webhook_inbox_sensor")(build_sensor_context(
        instance=loop.instance, repository_def=defs.get_repository_def(),
        resources={"goldloop": GoldloopResource()}))
    assert isinstance(result, SensorResult)
    requests = {r.tags["goldloop/system"]: r for r in result.run_requests or []}
    assert sorted(requests) == ["crm", "erp", "shop"]

    shop = requests["shop"]  # run the raw part of the shop's run: the changes arrive
    raw = [k for k in shop.asset_selection or [] if k.path[0] == "shop"]
    run = defs.resolve_job_def("goldloop_loop").execute_in_process(
        instance=loop.instance, asset_selection=raw, partition_key=shop.partition_key,
        tags=shop.tags)
    assert run.success
    with connect_state(settings) as state:
        changed = {row[0] for row in state.rows(
            "SELECT object_id FROM webhook_inbox WHERE system = 'shop' "
            "AND topic IN ('customers/create', 'customers/update')")}
    assert changed
    latest_load = loop.query("select max(_dlt_load_id) from raw_shop.customers")[0][0]
    loaded = {row[0] for row in loop.query(
        f"select record_id from raw_shop.customers where _dlt_load_id = '{latest_load}'")}
    assert changed <= loaded
