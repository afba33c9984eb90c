"""A build compacts the DuckDB warehouse only once enough deleted rows are stored
(plugins/goldloop_checkpoints.py: ``vacuum_dead_fraction`` 0.2 of all rows,
``vacuum_table_dead_fraction`` 0.5 of one table's, in profiles.yml).

Unit: the plugin's measure and decision on an in-memory DuckDB, and the DuckDB behaviour it
relies on. End to end: on copies of the shared 500-customer warehouse (see conftest.py), deleted
rows are left in ``int_customer_records`` as incremental builds leave them, and ``dbt show``
prints the setting dbt's connection got.
"""

from __future__ import annotations

import doctest
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from tests.dbt.world import PROJECT_DIR, BuiltWorld, dbt

RECORDS = "intermediate.int_customer_records"


def _plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "goldloop_checkpoints", PROJECT_DIR / "plugins" / "goldloop_checkpoints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plugin_examples_hold() -> None:
    assert doctest.testmod(_plugin()).failed == 0


def test_the_plugin_measures_deleted_rows_outside_the_raw_schemas() -> None:
    plugin = _plugin()
    con = duckdb.connect()
    con.execute("create schema marts; create schema raw_shop")
    con.execute("create table marts.kept as select range as id from range(200000)")
    con.execute("create table raw_shop.orders as select range as id from range(200000)")
    con.execute("set global max_vacuum_tasks = 0")
    con.execute("delete from marts.kept where id < 50000")
    con.execute("delete from raw_shop.orders where id < 150000")
    con.execute("checkpoint")
    assert plugin.stored_and_live(con) == [("marts.kept", 200000, 150000)]

    quiet = plugin.Plugin("goldloop_checkpoints", {"vacuum_dead_fraction": 0.3})
    quiet.configure_connection(con)
    assert con.execute("select current_setting('max_vacuum_tasks')").fetchone() == (0,)
    compacting = plugin.Plugin("goldloop_checkpoints", {"vacuum_dead_fraction": 0.25})
    compacting.configure_connection(con)
    assert con.execute("select current_setting('max_vacuum_tasks')").fetchone() != (0,)


def test_a_fraction_that_is_no_number_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"vacuum_dead_fraction 'a fifth'.*e\.g\. 0\.2"):
        _plugin().Plugin("goldloop_checkpoints", {"vacuum_dead_fraction": "a fifth"})
    with pytest.raises(ValueError, match=r"vacuum_table_dead_fraction 2 .*at most 1"):
        _plugin().Plugin("goldloop_checkpoints", {"vacuum_table_dead_fraction": 2})


SETTING = ("--inline", "select current_setting('max_vacuum_tasks') as vacuum_tasks")


def _vacuum_tasks(result_stdout: str) -> int:
    """The value ``dbt show`` printed for the setting (its table's last row)."""
    rows = [line for line in result_stdout.splitlines() if line.startswith("|")]
    return int(rows[-1].strip("| "))


def _leave_deleted_rows(warehouse: Path, percent: int) -> None:
    """Delete ``percent`` % of the customer records and insert them again, checkpointing without
    vacuuming: the deleted rows stay stored, as an incremental build leaves them."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set global max_vacuum_tasks = 0")
        con.execute(f"create temp table replaced as select * from {RECORDS}"
                    f" using sample {percent}% (bernoulli, 7)")
        con.execute(f"delete from {RECORDS} where record_key in"
                    " (select record_key from replaced)")
        con.execute(f"insert into {RECORDS} select * from replaced")
        con.execute("checkpoint")
    finally:
        con.close()


def test_dbt_vacuums_only_once_a_table_holds_half_of_deleted_rows(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    appending = dbt("show", *SETTING, root=tmp_path, warehouse=warehouse)
    assert appending.returncode == 0, appending.stdout[-3000:]
    assert _vacuum_tasks(appending.stdout) == 0
    assert "Compacting the warehouse" not in appending.stdout

    _leave_deleted_rows(warehouse, 30)  # 30 % of 130 %: below half of the table
    assert _vacuum_tasks(dbt("show", *SETTING, root=tmp_path, warehouse=warehouse).stdout) == 0

    _leave_deleted_rows(warehouse, 80)  # 110 % of 210 %: past half
    compacting = dbt("show", *SETTING, root=tmp_path, warehouse=warehouse)
    assert compacting.returncode == 0, compacting.stdout[-3000:]
    assert ("Compacting the warehouse this build: intermediate.int_customer_records holds"
            in compacting.stdout), compacting.stdout[-3000:]
    assert "(vacuum_table_dead_fraction 0.5)" in compacting.stdout
    assert _vacuum_tasks(compacting.stdout) > 0  # DuckDB's default


def test_without_vacuuming_a_checkpoint_leaves_the_row_groups_it_did_not_fill(
        tmp_path: Path) -> None:
    """What the plugin relies on: after 1 % of a table was deleted and inserted again, a
    checkpoint that vacuums merges the short row groups (writing them again), one that does not
    only adds the new rows."""
    row_groups = {}
    for vacuum_tasks in (0, 100):
        con = duckdb.connect(str(tmp_path / f"vacuum{vacuum_tasks}.duckdb"))
        con.execute(f"set global max_vacuum_tasks = {vacuum_tasks}")
        con.execute("create table t (id bigint, a varchar, b ubigint)")
        for batch in range(8):  # eight loads: eight row groups of 50,000 rows
            con.execute("insert into t select range, md5(range::varchar), hash(range)"
                        f" from range({batch * 50000}, {(batch + 1) * 50000})")
            con.execute("checkpoint")
        con.execute("create temp table replaced as select * from t using sample 1% (bernoulli, 3)")
        con.execute("delete from t where id in (select id from replaced)")
        con.execute("insert into t select * from replaced")
        con.execute("checkpoint")
        [(row_groups[vacuum_tasks],)] = con.execute(
            "select count(distinct row_group_id) from pragma_storage_info('t')").fetchall()
        con.close()
    assert row_groups == {0: 9, 100: 5}
