"""Data tests of staging views read the rows loaded since they last passed (macros/test_scope.sql).

Works on copies of the shared 500-customer warehouse (see conftest.py), whose build passed
every test: rows are written into the raw shop tables as a later dlt load would (a new load id),
or edited in place (no new load), then the shop staging views are built and tested again.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb

from tests.dbt.world import BuiltWorld, copy_project, dbt

SELECT = ("--select", "stg_shop__orders", "stg_shop__order_lines",
          "--exclude-resource-type", "unit_test")
NEW_LOAD = "1900000000.000001"


def _copy(built: BuiltWorld, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    return warehouse


def _execute(warehouse: Path, *statements: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _failed_tests(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The tests a ``dbt build`` reported failing (their names)."""
    return {line.split(" FAIL ")[1].split()[1] for line in result.stdout.splitlines()
            if " FAIL " in line and " of " in line}


def _read_scoped_then_whole(command: str, select: tuple[str, ...], warehouse: Path,
                            tmp_path: Path) -> set[str]:
    """``dbt <command>`` as a build runs it (it passes: the row edited in place is outside the
    tests' scope), then with ``full_tests``: the tests that fail reading every row."""
    scoped = dbt(command, *select, root=tmp_path, warehouse=warehouse)
    assert scoped.returncode == 0, scoped.stdout[-3000:]
    everything = dbt(command, *select, "--vars", "{full_tests: true}", root=tmp_path,
                     warehouse=warehouse)
    assert everything.returncode != 0
    return _failed_tests(everything)


def _load_order(warehouse: Path, *, record_id: str, name: str, financial_status: str) -> None:
    """A new load writes an order (a copy of the first one under new keys) with one line."""
    _execute(
        warehouse,
        f"""insert into raw_shop.orders by name
            select * replace ('{record_id}' as record_id, 'row-{record_id}' as _dlt_id,
                '{name}' as name, '{financial_status}' as financial_status,
                '{NEW_LOAD}' as _dlt_load_id)
            from raw_shop.orders order by record_id limit 1""",
        f"""insert into raw_shop.orders__line_items by name
            select * replace ('line-{record_id}' as record_id, 'row-{record_id}' as _dlt_parent_id,
                'line-row-{record_id}' as _dlt_id)
            from raw_shop.orders__line_items order by record_id limit 1""")


def test_a_failing_staging_test_fails_every_build_until_its_rows_are_fixed(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = _copy(built, tmp_path)
    _load_order(warehouse, record_id="demo/900001", name="#X900001", financial_status="bogus")
    _execute(warehouse, "update raw_shop.orders__line_items set record_id = null "
                        "where _dlt_parent_id = 'row-demo/900001'")

    for _ in range(2):  # a failure is reported again: the rows stay in the test's scope
        failing = dbt("build", *SELECT, root=tmp_path, warehouse=warehouse)
        assert failing.returncode != 0
        failed = _failed_tests(failing)
        assert any(name.startswith("accepted_values_stg_shop__orders_financial_status")
                   for name in failed), failing.stdout[-3000:]
        # the line is in scope through its order, which the new load wrote
        assert "not_null_stg_shop__order_lines_order_line_record_id" in failed

    _execute(warehouse,
             "update raw_shop.orders set financial_status = 'paid' where record_id = 'demo/900001'",
             "update raw_shop.orders__line_items set record_id = 'line-demo/900001' "
             "where _dlt_parent_id = 'row-demo/900001'")
    fixed = dbt("build", *SELECT, root=tmp_path, warehouse=warehouse)
    assert fixed.returncode == 0, fixed.stdout[-3000:]


def test_a_new_row_repeating_a_key_already_tested_fails_unique(built: BuiltWorld,
                                                                tmp_path: Path) -> None:
    warehouse = _copy(built, tmp_path)
    shop, name = built.query("select shop, name from raw_shop.orders order by record_id limit 1")[0]
    # a new order whose reference (<shop>/<name>) an order of an earlier load already has
    _load_order(warehouse, record_id="demo/900002", name=str(name), financial_status="paid")

    result = dbt("build", *SELECT, root=tmp_path, warehouse=warehouse)

    assert result.returncode != 0
    assert "unique_stg_shop__orders_order_reference" in _failed_tests(result), (
        f"{shop}/{name}", result.stdout[-3000:])


def test_rows_passed_before_are_read_again_only_when_asked_or_the_view_changes(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = _copy(built, tmp_path)
    # a row edited in place, not by a load: the tests passed over its load and skip it
    _execute(warehouse, "update raw_shop.orders set financial_status = 'bogus' "
                        "where record_id = (select min(record_id) from raw_shop.orders)")

    failed = _read_scoped_then_whole("build", SELECT, warehouse, tmp_path)
    assert any(name.startswith("accepted_values_stg_shop__orders_financial_status")
               for name in failed)

    # the view's definition changes (a filter that keeps every row): every row is read again
    project = copy_project(tmp_path / "project")
    view = project / "models" / "staging" / "shop" / "stg_shop__orders.sql"
    view.write_text(view.read_text().replace("select * from final",
                                             "select * from final where true"))
    changed = dbt("build", *SELECT, root=tmp_path, warehouse=warehouse, project_dir=project)
    assert changed.returncode != 0
    assert any(name.startswith("accepted_values_stg_shop__orders_financial_status")
               for name in _failed_tests(changed))


def test_a_table_created_again_has_every_row_read(built: BuiltWorld, tmp_path: Path) -> None:
    """stg_crm__contacts is a table on DuckDB, incremental by load: its tests read the rows of
    new loads, and every row once a full refresh has created the table again."""
    warehouse = _copy(built, tmp_path)
    # a raw row edited in place (no new load): the incremental table keeps its old row
    _execute(warehouse, "update raw_crm.contacts set email = 'no-at-sign' "
                        "where id = (select min(id) from raw_crm.contacts)")
    rebuilt = dbt("run", "--select", "stg_crm__contacts", "--full-refresh", root=tmp_path,
                  warehouse=warehouse)
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]

    tested = dbt("test", "--select", "stg_crm__contacts", "--exclude-resource-type", "unit_test",
                 root=tmp_path, warehouse=warehouse)

    assert tested.returncode != 0
    assert "goldloop_normalized_email_stg_crm__contacts_email" in _failed_tests(tested), (
        tested.stdout[-3000:])


def test_mart_tests_read_the_rows_built_since_they_last_passed(built: BuiltWorld,
                                                               tmp_path: Path) -> None:
    """customers stamps each row with the build that wrote it (`built_at`): its tests read the
    rows built after the build they last passed in."""
    warehouse = _copy(built, tmp_path)
    select = ("--select", "customers", "--exclude-resource-type", "unit_test")
    # a row changed in place, not by a build: the tests passed over it and skip it
    _execute(warehouse, "update marts.customers set email = 'Not An Email' "
                        "where customer_id = (select min(customer_id) from marts.customers)")
    failed = _read_scoped_then_whole("test", select, warehouse, tmp_path)
    assert "goldloop_normalized_email_customers_email" in failed

    # the same row as a later build writes it: read, and failing until it is fixed
    _execute(warehouse, "update marts.customers set built_at = now()::timestamp "
                        "where email = 'Not An Email'")
    for _ in range(2):
        rebuilt = dbt("test", *select, root=tmp_path, warehouse=warehouse)
        assert "goldloop_normalized_email_customers_email" in _failed_tests(rebuilt)


def test_unique_combination_reads_the_rows_sharing_a_combination_with_new_ones(
        built: BuiltWorld, tmp_path: Path) -> None:
    """int_customer_match_keys keeps each key row's load id: `unique_combination` reads the
    rows sharing (record, rule, value) with rows of loads it has not passed over."""
    warehouse = _copy(built, tmp_path)
    select = ("--select", "int_customer_match_keys", "--exclude-resource-type", "unit_test")
    keys = "intermediate.int_customer_match_keys"
    first_key = f"(select * from {keys} where load_id is not null order by all limit 1)"
    # a key row repeated under its own load id, as if edited in place: passed over
    _execute(warehouse, f"insert into {keys} select * from {first_key}")
    failed = _read_scoped_then_whole("test", select, warehouse, tmp_path)
    assert any(name.startswith("unique_combination_int_customer_match_keys") for name in failed)

    # the same key written again by a new load: read with every row sharing it, and failing
    _execute(warehouse, f"insert into {keys} select * replace ('{NEW_LOAD}' as load_id)"
                        f" from {first_key}")
    tested = dbt("test", *select, root=tmp_path, warehouse=warehouse)
    assert tested.returncode != 0
    assert any(name.startswith("unique_combination_int_customer_match_keys")
               for name in _failed_tests(tested)), tested.stdout[-3000:]


def test_sync_feed_tests_read_the_customers_written_since_they_last_passed(
        built: BuiltWorld, tmp_path: Path) -> None:
    """A sync feed's columns are what its sync pushes (no build stamp): each build logs the
    customers it wrote (`<feed>__written`), and the feed's tests read those customers' rows,
    with every row sharing a key with them (`unique` over an expression too)."""
    warehouse = _copy(built, tmp_path)
    select = ("--select", "sync_erp__contacts", "--exclude-resource-type", "unit_test")
    feed = "marts.sync_erp__contacts"
    first, second = (row[0] for row in built.query(
        f"select sync_key from {feed} order by sync_key limit 2"))
    # one customer's name given to another in place, not by a build: the tests skip it
    _execute(warehouse, f"update {feed} set name = upper((select name from {feed}"
                        f" where sync_key = '{first}')) where sync_key = '{second}'")
    failed = _read_scoped_then_whole("test", select, warehouse, tmp_path)
    assert any(name.startswith("unique_sync_erp__contacts_lower_name") for name in failed)

    # the same customer as a later build writes it: read, and failing until it is fixed
    _execute(warehouse, f"insert into {feed}__written values ('{second}', now()::timestamp)")
    for _ in range(2):
        tested = dbt("test", *select, root=tmp_path, warehouse=warehouse)
        assert any(name.startswith("unique_sync_erp__contacts_lower_name")
                   for name in _failed_tests(tested)), tested.stdout[-3000:]


def test_the_convergence_test_reads_the_links_of_records_clustered_since_it_passed(
        built: BuiltWorld, tmp_path: Path) -> None:
    """int_customer_clusters stamps each record with the build that clustered it: the singular
    test assert_customer_clusters_converged reads the links with an end clustered after the
    build it last passed in (every other link was there, between the same customers)."""
    warehouse = _copy(built, tmp_path)
    select = ("--select", "assert_customer_clusters_converged")
    clusters = "intermediate.int_customer_clusters"
    [(record_key,)] = built.query(
        "select record_key from intermediate.int_customer_match_edges order by all limit 1")
    # a linked record moved to another customer in place, not by a build: passed over
    _execute(warehouse, f"update {clusters} set customer_id = 'cus_moved'"
                        f" where record_key = '{record_key}'")
    failed = _read_scoped_then_whole("test", select, warehouse, tmp_path)
    assert "assert_customer_clusters_converged" in failed

    # the same record as a later build clusters it: read, and failing until it is fixed
    _execute(warehouse, f"update {clusters} set built_at = now()::timestamp"
                        f" where record_key = '{record_key}'")
    for _ in range(2):
        tested = dbt("test", *select, root=tmp_path, warehouse=warehouse)
        assert "assert_customer_clusters_converged" in _failed_tests(tested), \
            tested.stdout[-3000:]
