"""``goldloop quality run | record-dbt | list``: what a user sees and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from goldloop.commands.quality import app
from goldloop.settings import Settings
from tests.quality.conftest import execute
from tests.quality.test_dbt_results import write_build


def env(settings: Settings) -> dict[str, str]:
    return {"GOLDLOOP_TARGET": "duckdb", "GOLDLOOP_WAREHOUSE": str(settings.warehouse)}


def test_run_prints_each_suite_and_exits_1_when_a_blocking_check_fails(
        duckdb_marts: Settings) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["run", "--suite", "customers", "--suite", "sync_crm__contacts"],
                       env=env(duckdb_marts))
    assert ok.exit_code == 0, ok.output
    assert "ok   marts.customers" in ok.output and "ok   marts.sync_crm__contacts" in ok.output
    assert "13 results recorded in quality.check_results" in ok.output

    execute(duckdb_marts, "insert into marts.customers values ('c1', 'x@example.com', true)")
    bad = runner.invoke(app, ["run", "--suite", "customers", "--json"], env=env(duckdb_marts))
    assert bad.exit_code == 1
    body = json.loads(bad.stdout)
    assert body["blocked"] is True and body["recorded"] == 5
    (suite,) = body["suites"]
    assert (suite["suite"], suite["status"], suite["counts"]["fail"]) == ("customers", "fail", 1)
    failing = [c for c in suite["checks"] if c["status"] == "fail"]
    assert [(c["check_name"], c["failing_rows"]) for c in failing] == [
        ("gx_unique_customer_id", 2)]

    text = runner.invoke(app, ["run", "--suite", "customers", "--no-record"],
                         env=env(duckdb_marts))
    assert text.exit_code == 1
    assert "FAIL marts.customers" in text.output
    assert "fail  blocking gx_unique_customer_id: customer_id is unique: 2 of 4 rows do not" \
        in text.output
    assert "nothing recorded (--no-record)" in text.output
    assert execute(duckdb_marts, "select count(*) from quality.check_results")[0][0] == 18


def test_an_unknown_suite_is_a_clear_error(duckdb_marts: Settings) -> None:
    result = CliRunner().invoke(app, ["run", "--suite", "custmers"], env=env(duckdb_marts))
    assert result.exit_code != 0
    assert "no quality suite named 'custmers'" in str(result.exception)


def test_record_dbt_and_list(duckdb_marts: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    target = write_build(tmp_path / "target", "inv-9", [
        ("unique_sync_crm__contacts_email", "pass", 0)])
    first = runner.invoke(app, ["record-dbt", "--target-path", str(target)],
                          env=env(duckdb_marts))
    assert first.exit_code == 0 and f"1 dbt test results recorded from {target}" in first.output
    again = runner.invoke(app, ["record-dbt", "--target-path", str(target), "--json"],
                          env=env(duckdb_marts))
    assert json.loads(again.stdout) == {"target_path": str(target), "recorded": 0}

    listed = json.loads(runner.invoke(app, ["list", "--json"]).stdout)
    crm = next(s for s in listed if s["suite"] == "sync_crm__contacts")
    assert crm["blocking"] is True
    severities = {c["name"]: c["severity"] for c in crm["checks"]}
    assert severities["gx_unique_email"] == "blocking"
    assert severities["gx_email_format_email"] == "warn"
