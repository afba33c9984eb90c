"""The BambooHR connector against the HR emulator: complete, incremental, leavers flagged."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldloop.errors import SourceError
from goldloop.settings import Settings
from pipelines.common.summary import SystemSummary
from pipelines.run import extract
from sandbox.world.model import World
from tests.pipelines.sandbox_server import RunningSystem, serve_system, small_world
from tests.pipelines.warehouses import duckdb_settings, postgres_settings, rows


@functools.lru_cache(maxsize=1)
def hr_world() -> World:
    return small_world("hr")


@pytest.fixture
def hr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSystem]:
    monkeypatch.chdir(tmp_path)
    with serve_system("hr", hr_world(), tmp_path / "sandbox") as running:
        monkeypatch.setenv("SOURCES__HR__BASE_URL", running.base_url)
        monkeypatch.setenv("SOURCES__HR__API_KEY", running.credentials.hr_api_key)
        monkeypatch.setenv("SOURCES__HR__BACKOFF_FACTOR", "0.01")
        monkeypatch.setenv("SOURCES__HR__REQUESTS_PER_SECOND", "0")
        yield running


def run(settings: Settings, **kwargs: Any) -> SystemSummary:
    (summary,) = extract(["hr"], settings=settings, **kwargs)
    return summary


def employees_loaded(summary: SystemSummary) -> int:
    return sum(t.rows_loaded for t in summary.tables if t.table == "employees")


def assert_equals_sandbox(settings: Settings, hr: RunningSystem) -> None:
    """Every employee, once; deleted and terminated ones flagged, the others live."""
    docs = list(hr.ctx.store.iter_all("employees"))
    expected = {d.id: d.archived or d.body.get("status") == "Inactive" for d in docs}
    got = dict(rows(settings, "SELECT id, _goldloop_deleted FROM raw_hr.employees"))
    assert got == expected
    assert len(rows(settings, "SELECT id FROM raw_hr.employees")) == len(docs)


def test_full_load_then_nothing_then_exactly_the_changed_employees(hr: RunningSystem,
                                                                   tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    first = run(settings)
    assert employees_loaded(first) == hr.counts()["employees"]["total"]
    assert_equals_sandbox(settings, hr)

    assert employees_loaded(run(settings)) == 0

    since = int(time.time() * 1000) - 1
    assert sum(hr.mutate(0.2).values()) > 0
    third = run(settings)
    expected = {d.id for d in hr.ctx.store.iter_all("employees") if d.updated_ms >= since}
    marks = ", ".join(repr(i) for i in third.load_ids)
    got = {r[0] for r in rows(settings, f"SELECT id FROM raw_hr.employees "
                                        f"WHERE _dlt_load_id IN ({marks})")}
    assert got == expected
    assert_equals_sandbox(settings, hr)


def test_values_round_trip(hr: RunningSystem, tmp_path: Path) -> None:
    response = httpx.post(f"{hr.base_url}/employees", auth=(hr.credentials.hr_api_key, "x"),
                          headers={"Accept": "application/json"},
                          json={"firstName": "Zoë", "lastName": "Ñúñez 山田",
                                "workEmail": "zoe.nunez@goldloop.example",
                                "hireDate": "2024-02-29", "department": "Sales",
                                "jobTitle": "Account Executive"}, timeout=10)
    assert response.status_code == 201
    new_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    settings = duckdb_settings(tmp_path)
    run(settings)
    ((first, last, email, hired, ended),) = rows(
        settings, "SELECT first_name, last_name, work_email, CAST(hire_date AS VARCHAR), "
                  f"termination_date FROM raw_hr.employees WHERE id = '{new_id}'")
    assert (first, last, email, hired, ended) == (
        "Zoë", "Ñúñez 山田", "zoe.nunez@goldloop.example", "2024-02-29", None)

    stored = {d.id: d.body for d in hr.ctx.store.iter_all("employees") if not d.archived}
    for rid, first, last, email, hired, ended, sup in rows(
            settings, "SELECT id, first_name, last_name, work_email, "
                      "CAST(hire_date AS VARCHAR), CAST(termination_date AS VARCHAR), "
                      "supervisor_e_id FROM raw_hr.employees WHERE NOT _goldloop_deleted "
                      "OR status = 'Inactive'"):
        body = stored[rid]
        assert (first, last, email, hired, ended, sup) == (
            body.get("firstName"), body.get("lastName"), body.get("workEmail"),
            body.get("hireDate") or None, body.get("terminationDate") or None,
            body.get("supervisorEId")), rid


def test_faults_are_retried_and_a_persistent_failure_is_clear(hr: RunningSystem, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    settings = duckdb_settings(tmp_path)
    hr.faults(error_rate=1.0)
    with pytest.raises(SourceError) as failure:
        run(settings)
    assert "hr" in str(failure.value) and "503" in str(failure.value)

    monkeypatch.setenv("SOURCES__HR__REQUEST_TIMEOUT", "0.5")
    hr.faults(burst_429=2, error_rate=0.2, truncate_rate=0.2, timeout_rate=0.05,
              timeout_seconds=1.5, seed=5)
    summary = run(settings)
    assert summary.retries >= 2
    hr.faults()
    assert_equals_sandbox(settings, hr)


def test_a_wrong_api_key_names_the_secret_to_fix(hr: RunningSystem, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__HR__API_KEY", "wrong-key")
    with pytest.raises(SourceError) as failure:
        run(duckdb_settings(tmp_path))
    assert "401" in str(failure.value) and "sources.hr.api_key" in str(failure.value)


def test_a_new_field_is_loaded_and_recorded_not_fatal(hr: RunningSystem,
                                                     tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    run(settings)
    hr.faults(drift="new_field")
    hr.mutate(0.2, seed=3)
    summary = run(settings)
    hr.faults()
    assert ("employees", "sandbox_drift_note", "new_column") in {
        (c.table_name, c.column_name, c.change) for c in summary.schema_changes}
    assert ("employees", "sandbox_drift_note", "new_column") in rows(
        settings, "SELECT table_name, column_name, change FROM raw_hr._goldloop_schema_changes")
    assert rows(settings, "SELECT count(*) FROM raw_hr.employees "
                          "WHERE sandbox_drift_note IS NOT NULL")[0][0] > 0


@pytest.mark.postgres
def test_postgres_full_then_incremental(hr: RunningSystem) -> None:
    with postgres_settings() as settings:
        run(settings)
        assert_equals_sandbox(settings, hr)
        assert employees_loaded(run(settings)) == 0
        hr.mutate(0.2)
        assert employees_loaded(run(settings)) > 0
        assert_equals_sandbox(settings, hr)
