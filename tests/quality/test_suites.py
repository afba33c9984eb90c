"""The suites on a small DuckDB warehouse: good data passes, a bad row fails, every result is
appended to quality.check_results, and a failing blocking check stops the sync reading it."""

from __future__ import annotations

from typing import Any

import pytest

from goldloop.quality.results import CheckOutcome
from goldloop.quality.run import QualityRun, run_suites
from goldloop.settings import Settings
from goldloop.warehouse import connect
from tests.quality.conftest import execute


def by_check(run: QualityRun, suite: str) -> dict[str, CheckOutcome]:
    found = next(s for s in run.suites if s.name == suite)
    return {o.check_name: o for o in found.outcomes}


def recorded(settings: Settings, where: str = "true") -> list[tuple[Any, ...]]:
    return execute(settings, "select model_name, check_name, source, severity, status, "
                   "failing_rows, run_id from quality.check_results where "
                   f"{where} order by run_id, model_name, check_name")


def test_good_data_passes_and_a_duplicate_key_fails_only_its_check(
        duckdb_marts: Settings) -> None:
    good = run_suites(duckdb_marts, ["customers"])
    assert not good.blocked
    assert {o.status for o in good.outcomes()} == {"pass"}
    assert good.recorded == len(good.outcomes()) == 5

    execute(duckdb_marts, "insert into marts.customers values ('c2', 'carl@example.com', true)")
    bad = run_suites(duckdb_marts, ["customers"])
    checks = by_check(bad, "customers")
    assert bad.blocked and bad.suites[0].status == "fail"
    unique = checks["gx_unique_customer_id"]
    assert (unique.status, unique.severity, unique.failing_rows) == ("fail", "blocking", 2)
    assert unique.message == "customer_id is unique: 2 of 4 rows do not"
    assert {name for name, o in checks.items() if o.status != "pass"} == {
        "gx_unique_customer_id"}


def test_a_bad_email_only_warns(duckdb_marts: Settings) -> None:
    execute(duckdb_marts, "insert into marts.customers values ('c4', 'not an e-mail', true)")
    run = run_suites(duckdb_marts, ["customers"])
    email = by_check(run, "customers")["gx_email_format_email"]
    assert (email.status, email.severity, email.failing_rows) == ("warn", "warn", 1)
    assert not run.blocked and run.suites[0].status == "warn"


def test_results_are_appended_run_after_run(duckdb_marts: Settings) -> None:
    first = run_suites(duckdb_marts)
    execute(duckdb_marts, "insert into marts.customers values ('c1', 'dup@example.com', null)")
    second = run_suites(duckdb_marts)
    assert first.run_id != second.run_id
    rows = recorded(duckdb_marts)
    assert len(rows) == len(first.outcomes()) + len(second.outcomes())
    assert {r[6] for r in rows} == {first.run_id, second.run_id}
    assert {r[2] for r in rows} == {"gx"}
    failing = [(r[1], r[4], r[5]) for r in rows if r[6] == second.run_id and r[4] != "pass"
               and r[0] == "customers"]
    assert sorted(failing) == [("gx_not_null_has_marketing_consent", "fail", 1),
                               ("gx_unique_customer_id", "fail", 2)]
    # models the small warehouse lacks are errors, recorded too (they block their syncs)
    orders = [r for r in rows if r[0] == "orders" and r[6] == first.run_id]
    assert orders and {r[4] for r in orders} == {"error"}


@pytest.mark.parametrize("chunk_rows", [10, 1000])
def test_chunked_reads_find_duplicates_in_any_chunk(duckdb_marts: Settings,
                                                    chunk_rows: int) -> None:
    execute(duckdb_marts, "insert into marts.customers select 'k' || i, "
            "'p' || i || '@example.com', i % 2 = 0 from range(40) t(i)")
    execute(duckdb_marts, "insert into marts.customers values ('k17', 'x@example.com', true), "
            "('k40', 'bad', true)")
    run = run_suites(duckdb_marts, ["customers"], chunk_rows=chunk_rows, record=False)
    checks = by_check(run, "customers")
    assert {n: (o.status, o.failing_rows) for n, o in checks.items() if o.status != "pass"} == {
        "gx_unique_customer_id": ("fail", 2), "gx_email_format_email": ("warn", 1)}
    assert run.recorded == 0


def test_a_missing_column_is_an_error_of_its_checks_only(duckdb_marts: Settings) -> None:
    execute(duckdb_marts, "alter table marts.customers drop column email")
    checks = by_check(run_suites(duckdb_marts, ["customers"]), "customers")
    email = checks["gx_email_format_email"]
    assert email.status == "error" and email.failing_rows is None
    assert "marts.customers has no column email" in (email.message or "")
    assert checks["gx_unique_customer_id"].status == "pass"


def test_a_blocking_failure_stops_the_sync_and_a_fix_releases_it(
        duckdb_marts: Settings) -> None:
    from reverse_etl.guards import GuardStop, evaluate, quality_checks
    from reverse_etl.plan import Plan
    from reverse_etl.spec import find_spec

    spec = find_spec("crm_contacts")  # reads marts.sync_crm__contacts
    plan = Plan("crm_contacts", {}, [], 3, 0, 0.0)
    execute(duckdb_marts, "insert into marts.sync_crm__contacts values "
            "('c4', 'ann@example.com', null, 'true')")
    run = run_suites(duckdb_marts, ["sync_crm__contacts"])
    assert run.blocked
    with connect(duckdb_marts) as con:
        failing = [c.name for c in quality_checks(con, "duckdb", spec) or []
                   if c.failing and c.blocking]
        assert failing == ["gx_unique_email"]
        with pytest.raises(GuardStop, match="gx_unique_email"):
            evaluate(con, "duckdb", spec, plan, approve=True)

    execute(duckdb_marts, "delete from marts.sync_crm__contacts where sync_key = 'c4'")
    assert not run_suites(duckdb_marts, ["sync_crm__contacts"]).blocked
    with connect(duckdb_marts) as con:
        assert [c for c in quality_checks(con, "duckdb", spec) or [] if c.failing] == []
        evaluate(con, "duckdb", spec, plan, approve=False)  # the latest results pass: no stop


def test_a_warning_does_not_stop_the_sync(duckdb_marts: Settings) -> None:
    from reverse_etl.guards import evaluate
    from reverse_etl.plan import Plan
    from reverse_etl.spec import find_spec

    execute(duckdb_marts, "update marts.sync_crm__contacts set email = 'bob at example' "
            "where sync_key = 'c2'")
    run = run_suites(duckdb_marts, ["sync_crm__contacts"])
    assert not run.blocked
    assert recorded(duckdb_marts, "status <> 'pass'") == [
        ("sync_crm__contacts", "gx_email_format_email", "gx", "warn", "warn", 1, run.run_id)]
    with connect(duckdb_marts) as con:  # evaluates without GuardStop
        evaluate(con, "duckdb", find_spec("crm_contacts"),
                 Plan("crm_contacts", {}, [], 3, 0, 0.0), approve=False)
