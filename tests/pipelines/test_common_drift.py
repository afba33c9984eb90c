"""Schema drift, run summaries and error messages: the parts of a run a user reads."""

from __future__ import annotations

import json
from pathlib import Path

import dlt
import pytest
import requests
from dlt.common.schema.typing import TTableSchemaColumns

from goldloop.errors import SourceError
from pipelines.common.drift import detect_schema_changes, schema_snapshot
from pipelines.common.failures import source_error
from pipelines.common.summary import SchemaChange, SystemSummary, TableSummary, render_text
from tests.pipelines.warehouses import duckdb_settings, rows


def _pipeline(tmp_path: Path) -> dlt.Pipeline:
    settings = duckdb_settings(tmp_path)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline("drift_test", destination=dlt.destinations.duckdb(str(settings.warehouse)),
                        dataset_name="raw_test", pipelines_dir=str(tmp_path / "dlt"))


def test_new_columns_and_type_changes_are_recorded_after_the_baseline(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    columns: TTableSchemaColumns = {"seen_at": {"name": "seen_at", "data_type": "timestamp"}}
    before = schema_snapshot(pipeline)
    info = pipeline.run([{"id": 1, "seen_at": "2024-01-01T00:00:00Z"}], table_name="people",
                        columns=columns)
    assert detect_schema_changes(pipeline, before, info.loads_ids[-1]) == []  # the baseline

    before = schema_snapshot(pipeline)
    info = pipeline.run([{"id": 2, "seen_at": "last tuesday", "nickname": "Zoë"}],
                        table_name="people", columns=columns)
    changes = detect_schema_changes(pipeline, before, info.loads_ids[-1])
    assert {(c.table_name, c.column_name, c.change) for c in changes} == {
        ("people", "seen_at", "type_changed"), ("people", "nickname", "new_column")}
    settings = duckdb_settings(tmp_path)
    assert sorted(rows(settings, "SELECT table_name, column_name, change, data_type "
                                 "FROM raw_test._goldloop_schema_changes")) == [
        ("people", "nickname", "new_column", "text"),
        ("people", "seen_at", "type_changed", "text")]


def test_the_summary_renders_as_text_and_json() -> None:
    summary = SystemSummary(
        "crm", [TableSummary("contacts", 12, 2, 1, 40)], requests=7, retries=1, throttled=1,
        schema_changes=[SchemaChange("1", "contacts", "email", "type_changed", "json", "t")],
        seconds=1.25, load_ids=["1"])
    text = render_text([summary])
    assert "contacts" in text and "12" in text
    assert "WARNING: schema drift in raw_crm.contacts: email type_changed (json)" in text
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["rows_loaded"] == 12 and data["requests"] == 7
    assert data["warnings"] == ["schema drift in raw_crm.contacts: email type_changed (json)"]


@pytest.mark.parametrize(("status", "fix"), [
    (401, "sources.erp.access_token and sources.erp.tenant_id"),
    (403, "lack a read scope"),
    (404, "sources.erp.base_url"),
    (429, "sources.erp.requests_per_second"),
    (503, "run again later"),
])
def test_http_failures_name_the_system_the_endpoint_and_the_fix(status: int, fix: str) -> None:
    response = requests.Response()
    response.status_code = status
    response.url = "https://api.xero.com/api.xro/2.0/Contacts?page=2&token=hush"
    response._content = b'{"Message": "nope"}'
    error = source_error("erp", requests.HTTPError(response=response))
    assert isinstance(error, SourceError)
    assert str(error).startswith(f"erp: GET /api.xro/2.0/Contacts answered {status}: nope")
    assert fix in str(error) and "hush" not in str(error)


def test_an_unreachable_system_says_where_to_look() -> None:
    error = source_error("hr", requests.ConnectionError("refused"))
    assert "hr:" in str(error) and "sources.hr.base_url" in str(error)
