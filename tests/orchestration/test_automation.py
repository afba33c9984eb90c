"""Sensors and schedules: what starts a run, for which system, and what a failure leaves behind."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from dagster import (
    AssetCheckResult,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    RunRequest,
    SensorResult,
    SkipReason,
    asset,
    asset_check,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    job,
    materialize,
    op,
)
from dagster._core.test_utils import create_run_for_test

from goldloop.settings import Settings, patched_environ
from orchestration.partitions import live_partition_key
from orchestration.resources import AlertResource, GoldloopResource
from orchestration.state import connect_state
from orchestration.webhooks.events import InboxEvent
from orchestration.webhooks.inbox import store_events
from tests.support import free_ports


@pytest.fixture(scope="module")
def defs(dbt_manifest: Path) -> Definitions:
    from orchestration.definitions import defs as location

    return location


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def event(system: str, event_id: str, object_id: str = "1") -> InboxEvent:
    return InboxEvent(system, event_id, "x.update", object_id, None, "{}")


def inbox_rows(warehouse: Path) -> list[tuple[Any, ...]]:
    with connect_state(Settings(warehouse=warehouse)) as state:
        return state.rows("SELECT system, event_id, claimed_by FROM webhook_inbox ORDER BY seq")


def evaluate_inbox(defs: Definitions, instance: DagsterInstance, warehouse: Path,
                   cursor: str | None) -> SensorResult | SkipReason:
    sensor = defs.get_sensor_def("webhook_inbox_sensor")
    context = build_sensor_context(instance=instance, cursor=cursor,
                                   repository_def=defs.get_repository_def(),
                                   resources={"goldloop": GoldloopResource(
                                       warehouse=str(warehouse))})
    result = sensor(context)
    assert isinstance(result, SensorResult | SkipReason)
    return result


# -- the webhook inbox sensor ---------------------------------------------------------------------

def test_inbox_events_start_one_run_per_affected_system_only(defs: Definitions,
                                                            warehouse: Path) -> None:
    with connect_state(Settings(warehouse=warehouse)) as state:
        store_events(state, [event("crm", "1:1"), event("crm", "1:2"), event("shop", "w-1")])
    result = evaluate_inbox(defs, DagsterInstance.ephemeral(), warehouse, None)
    assert isinstance(result, SensorResult)
    requests: list[RunRequest] = list(result.run_requests or [])
    assert [r.tags["goldloop/system"] for r in requests] == ["crm", "shop"]
    crm = {k.to_user_string() for k in requests[0].asset_selection or []}
    assert {"crm/contacts", "crm/owners", "dbt/stg_crm__contacts", "dbt/customers",
            "sync/crm_contacts"} <= crm
    assert not any(k.split("/")[0] in ("erp", "shop", "hr") for k in crm)
    assert requests[0].tags["goldloop/webhook_events"] == "2"
    assert requests[0].partition_key == live_partition_key()
    assert result.cursor == "3"
    assert [row[2] for row in inbox_rows(warehouse)] == [requests[0].run_key] * 2 + [
        requests[1].run_key]


def test_the_inbox_sensor_skips_when_nothing_new_arrived(defs: Definitions,
                                                        warehouse: Path) -> None:
    with connect_state(Settings(warehouse=warehouse)) as state:
        store_events(state, [event("erp", "t:1")])
    instance = DagsterInstance.ephemeral()
    first = evaluate_inbox(defs, instance, warehouse, None)
    assert isinstance(first, SensorResult)
    again = evaluate_inbox(defs, instance, warehouse, first.cursor)
    assert isinstance(again, SkipReason)
    assert "no new webhook events" in str(again.skip_message)
    assert isinstance(evaluate_inbox(defs, instance, warehouse, None), SkipReason) is False


def test_a_system_with_a_run_already_waiting_gets_no_second_run(defs: Definitions,
                                                               warehouse: Path) -> None:
    instance = DagsterInstance.ephemeral()
    waiting = create_run_for_test(instance, job_name="goldloop_loop",
                                  status=DagsterRunStatus.NOT_STARTED,
                                  tags={"goldloop/system": "crm"})
    with connect_state(Settings(warehouse=warehouse)) as state:
        store_events(state, [event("crm", "1:9"), event("shop", "w-9")])
    result = evaluate_inbox(defs, instance, warehouse, None)
    assert isinstance(result, SensorResult)
    assert [r.tags["goldloop/system"] for r in result.run_requests or []] == ["shop"]
    assert inbox_rows(warehouse)[0][2] == f"coalesced:{waiting.run_id}"


# -- schedules ------------------------------------------------------------------------------------

def test_the_hourly_schedule_runs_the_loop_on_the_days_partition(defs: Definitions) -> None:
    schedule = defs.get_schedule_def("hourly_incremental_loop")
    when = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    request = schedule(build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, RunRequest)
    assert (request.partition_key, schedule.job_name) == ("2026-11-25", "goldloop_loop")
    assert "goldloop/full_refresh" not in request.tags


def test_the_nightly_schedule_is_a_full_reconciliation(defs: Definitions) -> None:
    schedule = defs.get_schedule_def("nightly_full_reconciliation")
    when = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    request = schedule(build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, RunRequest)
    assert request.partition_key == "2026-11-26"
    assert request.tags["goldloop/full_refresh"] == "true"
    assert schedule.execution_timezone == "UTC"


# -- the run-failure sensor -----------------------------------------------------------------------

class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def chat_webhook() -> Iterator[str]:
    """A Slack-compatible incoming webhook on a free port; ``_Hook.received`` holds the posts."""
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", free_ports(1)[0]), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks/alerts"
    finally:
        server.shutdown()


@op
def extract_crm_fails() -> None:
    raise RuntimeError("crm: 503 from GET /crm/v3/objects/contacts after 5 retries")


@job
def failing_job() -> None:
    extract_crm_fails()


def failure_context(defs: Definitions, instance: DagsterInstance, resources: dict[str, Any]
                    ) -> Any:
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    failure = instance.get_records_for_run(
        result.run_id, of_type=DagsterEventType.RUN_FAILURE).records[0].event_log_entry
    assert failure.dagster_event is not None
    return build_run_status_sensor_context(
        sensor_name="run_failure_alerts", dagster_event=failure.dagster_event,
        dagster_instance=instance, dagster_run=run, resources=resources,
        repository_def=defs.get_repository_def()).for_run_failure()


def test_a_failed_run_is_recorded_once_and_posted_to_chat(defs: Definitions, warehouse: Path,
                                                          chat_webhook: str) -> None:
    instance = DagsterInstance.ephemeral()
    resources = {"goldloop": GoldloopResource(warehouse=str(warehouse)),
                 "alerts": AlertResource(webhook_url=chat_webhook)}
    context = failure_context(defs, instance, resources)
    sensor = defs.get_sensor_def("run_failure_alerts")
    sensor(context)
    sensor(context)  # the same failure seen twice: one alert
    with connect_state(Settings(warehouse=warehouse)) as state:
        rows = state.rows("SELECT run_id, job_name, failed_steps, message, notified "
                          "FROM run_alerts")
    assert len(rows) == 1
    run_id, job_name, steps, message, notified = rows[0]
    assert (job_name, steps, notified) == ("failing_job", "extract_crm_fails", 1)
    assert "503 from GET /crm/v3/objects/contacts" in message
    assert len(_Hook.received) == 1
    text = _Hook.received[0]["text"]
    assert f"failing_job (run {run_id})" in text and "extract_crm_fails" in text


def test_an_unreachable_chat_webhook_still_leaves_the_alert_row(defs: Definitions,
                                                                warehouse: Path) -> None:
    instance = DagsterInstance.ephemeral()
    dead_url = f"http://127.0.0.1:{free_ports(1)[0]}/nobody-listens"
    resources = {"goldloop": GoldloopResource(warehouse=str(warehouse)),
                 "alerts": AlertResource(webhook_url=dead_url, timeout_seconds=1.0)}
    defs.get_sensor_def("run_failure_alerts")(failure_context(defs, instance, resources))
    with connect_state(Settings(warehouse=warehouse)) as state:
        (notified, error), = state.rows("SELECT notified, notify_error FROM run_alerts")
    assert notified == 0
    assert "ConnectError" in error


# -- blocking checks ------------------------------------------------------------------------------

def test_a_failing_blocking_check_on_the_sync_model_stops_the_sync(warehouse: Path) -> None:
    from orchestration.activate import sync_asset
    from reverse_etl.spec import find_spec

    @asset(key=AssetKey(["dbt", "sync_crm__contacts"]))
    def model() -> None:
        return None

    @asset_check(asset=model, name="unique_sync_key", blocking=True)
    def duplicate_keys() -> AssetCheckResult:
        return AssetCheckResult(passed=False, metadata={"failing_rows": 3})

    sync = sync_asset(find_spec("crm_contacts"))
    result = materialize([model, duplicate_keys, sync], raise_on_error=False,
                         resources={"goldloop": GoldloopResource(warehouse=str(warehouse))})
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialised == {AssetKey(["dbt", "sync_crm__contacts"])}  # the sync never ran
    assert not result.success


def test_a_full_refresh_of_a_past_day_is_refused_before_touching_anything(
        defs: Definitions, warehouse: Path) -> None:
    erp = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "erp"]
    nowhere = f"http://127.0.0.1:{free_ports(1)[0]}/api.xro/2.0"  # nothing may be called
    with patched_environ({"GOLDLOOP_WAREHOUSE": str(warehouse), "GOLDLOOP_TARGET": "duckdb",
                          "SOURCES__ERP__BASE_URL": nowhere}):
        result = defs.resolve_job_def("goldloop_full_reconciliation").execute_in_process(
            partition_key="2026-10-01", asset_selection=erp, raise_on_error=False,
            instance=DagsterInstance.ephemeral())
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert "run it on today's partition" in str(failures[0].step_failure_data.error)
    assert not warehouse.exists()


# -- partitions → dlt windows ---------------------------------------------------------------------

def test_a_partition_run_reads_its_days_and_todays_partition_reads_incrementally() -> None:
    from dagster import PartitionKeyRange, build_asset_context

    from orchestration.partitions import window_of

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    one_day = window_of(build_asset_context(partition_key="2026-10-30"), now)
    assert one_day == (datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    days = window_of(build_asset_context(
        partition_key_range=PartitionKeyRange("2026-10-29", "2026-10-31")), now)
    assert days == (datetime(2026, 10, 29, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert window_of(build_asset_context(partition_key="2026-11-25"), now) == (None, None)
    assert window_of(build_asset_context(), now) == (None, None)
