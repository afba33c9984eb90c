"""The same loop on Postgres: the warehouse in Postgres, and Dagster's own storage in Postgres
through the production instance file (``orchestration/dagster.yaml``, dagster-postgres).

Skips only when Postgres at 127.0.0.1:5432 is unreachable and GOLDLOOP_REQUIRE_POSTGRES is unset.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg2
import pytest
from dagster import AssetKey, DagsterInstance

from goldloop.settings import patched_environ
from tests.orchestration.support import dbt_target_dir
from tests.support import postgres_database, running_sandbox, source_env

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


def test_the_loop_runs_on_postgres_with_a_postgres_dagster_instance(
        tmp_path: Path, dbt_manifest: Path) -> None:
    from orchestration.definitions import defs
    from orchestration.partitions import live_partition_key

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    cwd = os.getcwd()
    with postgres_database("goldloop_wh") as warehouse_dsn, \
            postgres_database("goldloop_dagster") as dagster_dsn, \
            running_sandbox(tmp_path / "sandbox") as config, \
            patched_environ({
                **source_env(config), "GOLDLOOP_TARGET": "postgres",
                "GOLDLOOP_POSTGRES_DSN": warehouse_dsn, "GOLDLOOP_DBT_THREADS": "8",
                "DBT_TARGET_PATH": dbt_target_dir(tmp_path),
                "DAGSTER_POSTGRES_URL": dagster_dsn.replace("postgresql://",
                                                            "postgresql+psycopg2://"),
            }):
        os.chdir(tmp_path)
        instance = DagsterInstance.from_config(str(home))
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            result = defs.resolve_job_def("goldloop_loop").execute_in_process(
                partition_key=live_partition_key(), instance=instance, raise_on_error=False)
            assert result.success, [str(e.message) for e in result.all_events
                                    if e.is_failure][:5]
            stored = instance.get_run_by_id(result.run_id)
            assert stored is not None and stored.is_success
            customers = instance.get_latest_materialization_event(AssetKey(["dbt", "customers"]))
            assert customers is not None
            sync = instance.get_latest_materialization_event(AssetKey(["sync", "crm_contacts"]))
            assert sync is not None and sync.asset_materialization is not None
            assert sync.asset_materialization.metadata["dead_letter_backlog"].value == 0
            breaks = instance.get_latest_materialization_event(
                AssetKey(["dbt", "orders_vs_invoices"]))
            assert breaks is not None and breaks.asset_materialization is not None
            open_breaks = breaks.asset_materialization.metadata["breaks_open"].value
        finally:
            instance.dispose()
            os.chdir(cwd)
        con = psycopg2.connect(warehouse_dsn)
        try:
            with con.cursor() as cur:
                cur.execute("select count(*) from marts.customers")
                golden = cur.fetchone()
                cur.execute("select count(*) from raw_crm.contacts")
                contacts = cur.fetchone()
                cur.execute("select count(*) from marts.orders_vs_invoices")
                breaks_in_mart = cur.fetchone()
        finally:
            con.close()
        assert golden is not None and golden[0] > 200
        assert contacts is not None and contacts[0] > 200
        assert breaks_in_mart is not None and open_breaks == breaks_in_mart[0] > 0
