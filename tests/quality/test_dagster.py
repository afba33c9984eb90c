"""The suites as Dagster asset checks: recorded under the run's id, blocking the sync downstream
when a blocking expectation fails, only warning otherwise."""

from __future__ import annotations

from typing import Any

from dagster import AssetCheckSeverity, AssetKey, asset, materialize

from goldloop.settings import Settings
from orchestration.quality import SUITE_CHECK, quality_checks, suite_checks
from orchestration.resources import GoldloopResource
from orchestration.translators import dbt_key
from tests.quality.conftest import execute

MODEL = dbt_key("sync_crm__contacts")
SYNC = AssetKey(["sync", "crm_contacts"])


def run_loop(settings: Settings) -> Any:
    """The sync model, its suite check and the sync after it, materialised in process."""
    @asset(key=MODEL)
    def model() -> None:
        return None  # the table is already in the warehouse

    @asset(key=SYNC, deps=[model])
    def sync() -> None:
        return None

    return materialize([model, sync, *suite_checks({MODEL})], raise_on_error=False,
                       resources={"goldloop": GoldloopResource(
                           target="duckdb", warehouse=str(settings.warehouse))})


def test_every_suite_is_a_check_on_its_model_and_the_stewards_checks_stay() -> None:
    keys = {dbt_key(name) for name in ("customers", "orders", "customer_xref",
                                       "orders_vs_invoices", "sync_crm__contacts")}
    specs = [spec for check in quality_checks(keys) for spec in check.check_specs]
    names = sorted((s.asset_key.to_user_string(), s.name, s.blocking) for s in specs)
    assert names == [
        ("dbt/customer_xref", "customers_matched", False),
        ("dbt/customer_xref", SUITE_CHECK, True),
        ("dbt/customers", SUITE_CHECK, True),
        ("dbt/orders", SUITE_CHECK, True),
        ("dbt/orders_vs_invoices", "breaks_open", False),
        ("dbt/sync_crm__contacts", SUITE_CHECK, True)]


def test_a_blocking_failure_fails_the_check_and_the_sync_does_not_run(
        duckdb_marts: Settings) -> None:
    execute(duckdb_marts, "insert into marts.sync_crm__contacts values "
            "('c9', 'ann@example.com', null, 'true')")
    result = run_loop(duckdb_marts)
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        SUITE_CHECK, False, AssetCheckSeverity.ERROR)
    assert evaluation.metadata["checks_fail"].value == 1
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialised == {MODEL}  # the sync never ran
    recorded = execute(duckdb_marts, "select distinct run_id from quality.check_results")
    assert recorded == [(result.run_id,)]


def test_a_warning_lets_the_sync_run(duckdb_marts: Settings) -> None:
    execute(duckdb_marts, "update marts.sync_crm__contacts set email = 'bob at example' "
            "where sync_key = 'c2'")
    result = run_loop(duckdb_marts)
    (evaluation,) = result.get_asset_check_evaluations()
    assert (evaluation.passed, evaluation.severity) == (False, AssetCheckSeverity.WARN)
    assert {e.asset_key for e in result.get_asset_materialization_events()} == {MODEL, SYNC}
    assert result.success
