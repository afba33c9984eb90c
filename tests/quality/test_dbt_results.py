"""dbt's test results land in quality.check_results once per build, and a failing error-severity
test on a sync feed stops that sync like a failing expectation does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from goldloop.quality.dbt_results import record_dbt_results
from goldloop.settings import Settings
from goldloop.warehouse import connect
from tests.quality.conftest import execute


def write_build(folder: Path, invocation: str, results: list[tuple[str, str, int | None]],
                at: str = "2026-11-25T10:00:00Z") -> Path:
    """A dbt target folder: ``results`` are (test name, status, failures) of tests attached
    to marts.sync_crm__contacts, severity error except for names starting with ``warn_``."""
    folder.mkdir(parents=True, exist_ok=True)
    nodes: dict[str, Any] = {"model.goldloop.sync_crm__contacts": {"name": "sync_crm__contacts"}}
    run_results = []
    for name, status, failures in results:
        uid = f"test.goldloop.{name}"
        nodes[uid] = {"name": name, "attached_node": "model.goldloop.sync_crm__contacts",
                      "config": {"severity": "warn" if name.startswith("warn_") else "ERROR"}}
        run_results.append({"unique_id": uid, "status": status, "failures": failures,
                            "message": f"Got {failures} results" if failures else None})
    run_results.append({"unique_id": "model.goldloop.sync_crm__contacts", "status": "success"})
    (folder / "manifest.json").write_text(json.dumps({"nodes": nodes, "unit_tests": {}}))
    (folder / "run_results.json").write_text(json.dumps({
        "metadata": {"generated_at": at, "invocation_id": invocation}, "results": run_results}))
    return folder


def test_each_test_result_is_recorded_once_per_build(duckdb_marts: Settings,
                                                     tmp_path: Path) -> None:
    target = write_build(tmp_path / "target", "inv-1", [
        ("unique_sync_crm__contacts_sync_key", "pass", 0),
        ("unique_sync_crm__contacts_email", "fail", 2),
        ("warn_sync_crm__contacts_phone", "warn", 3),
        ("not_null_sync_crm__contacts_sync_key", "skipped", None)])
    assert record_dbt_results(duckdb_marts, target) == 3
    assert record_dbt_results(duckdb_marts, target) == 0  # the same build again: nothing new
    rows = execute(duckdb_marts, "select model_name, check_name, source, severity, status, "
                   "failing_rows, run_id, cast(checked_at as varchar) "
                   "from quality.check_results order by check_name")
    assert rows == [
        ("sync_crm__contacts", "unique_sync_crm__contacts_email", "dbt", "blocking", "fail", 2,
         "inv-1", "2026-11-25 10:00:00"),
        ("sync_crm__contacts", "unique_sync_crm__contacts_sync_key", "dbt", "blocking", "pass",
         0, "inv-1", "2026-11-25 10:00:00"),
        ("sync_crm__contacts", "warn_sync_crm__contacts_phone", "dbt", "warn", "warn", 3,
         "inv-1", "2026-11-25 10:00:00")]


def test_no_build_records_nothing(duckdb_marts: Settings, tmp_path: Path) -> None:
    assert record_dbt_results(duckdb_marts, tmp_path / "nowhere") == 0


def test_a_failing_dbt_test_stops_the_sync_until_a_later_build_passes(
        duckdb_marts: Settings, tmp_path: Path) -> None:
    from reverse_etl.guards import GuardStop, evaluate
    from reverse_etl.plan import Plan
    from reverse_etl.spec import find_spec

    spec, plan = find_spec("crm_contacts"), Plan("crm_contacts", {}, [], 3, 0, 0.0)
    record_dbt_results(duckdb_marts, write_build(tmp_path / "b1", "inv-1", [
        ("unique_sync_crm__contacts_email", "fail", 2)], at="2026-11-25T10:00:00Z"))
    with connect(duckdb_marts) as con, pytest.raises(GuardStop, match="unique_sync_crm__"):
        evaluate(con, "duckdb", spec, plan, approve=True)
    record_dbt_results(duckdb_marts, write_build(tmp_path / "b2", "inv-2", [
        ("unique_sync_crm__contacts_email", "pass", 0)], at="2026-11-25T11:00:00Z"))
    with connect(duckdb_marts) as con:
        evaluate(con, "duckdb", spec, plan, approve=False)
