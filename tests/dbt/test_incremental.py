"""order_lines is incremental: after late and ordinary changes an incremental build gives exactly
what a full refresh gives (lines rewritten per changed order, removed lines gone).

Works on a copy of the shared 500-customer warehouse (see conftest.py): the raw shop tables are
edited as a later extract would leave them, then `dbt run -s order_lines` runs twice.
"""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute
import pytest
import yaml

from tests.dbt.world import BuiltWorld, dbt

LINES = "select * exclude (built_at) from marts.order_lines order by order_line_id"
# the load ids the edits below stamp on the raw rows they change, as a dlt load does
ORDERS_LOAD = "9999999999.000010"
INVOICES_LOAD = "9999999999.000011"
PEOPLE_LOAD = "9999999999.000001"


def _orders_with_lines(con: duckdb.DuckDBPyConnection, n: int) -> list[tuple[str, str]]:
    """``n`` orders with at least two lines: (order _dlt_id, order record_id)."""
    return [(str(a), str(b)) for a, b in con.execute("""
        select o._dlt_id, o.record_id
        from raw_shop.orders o
        join raw_shop.orders__line_items l on l._dlt_parent_id = o._dlt_id
        group by o._dlt_id, o.record_id
        having count(*) >= 2
        order by o.record_id
        limit ?
    """, [n]).fetchall()]


def _change_raw_orders(warehouse: Path) -> dict[str, str]:
    """Edit raw orders as a later load would; returns {what: order record id}."""
    con = duckdb.connect(str(warehouse))
    try:
        (changed_row, changed), (shrunk_row, shrunk), (late_row, late) = _orders_with_lines(con, 3)
        latest = con.execute("select max(updated_at) from raw_shop.orders").fetchone()
        assert latest is not None
        # an ordinary change: a line's quantity and price, the order stamped after every other
        con.execute("""
            update raw_shop.orders__line_items set quantity = quantity + 5, price = 1234.5
            where _dlt_id = (select min(_dlt_id) from raw_shop.orders__line_items
                             where _dlt_parent_id = ?)
        """, [changed_row])
        con.execute("update raw_shop.orders set updated_at = ? + interval 1 hour, "
                    "_dlt_load_id = ? where _dlt_id = ?", [latest[0], ORDERS_LOAD, changed_row])
        # a line removed from an order
        con.execute("""
            delete from raw_shop.orders__line_items
            where _dlt_id = (select max(_dlt_id) from raw_shop.orders__line_items
                             where _dlt_parent_id = ?)
        """, [shrunk_row])
        con.execute("update raw_shop.orders set updated_at = ? + interval 2 hour, "
                    "_dlt_load_id = ? where _dlt_id = ?", [latest[0], ORDERS_LOAD, shrunk_row])
        # a late change: loaded now, stamped a day before the latest order the mart holds
        con.execute("""
            update raw_shop.orders__line_items set price = 99.99
            where _dlt_parent_id = ?
        """, [late_row])
        con.execute("update raw_shop.orders set updated_at = ? - interval 1 day, "
                    "_dlt_load_id = ? where _dlt_id = ?", [latest[0], ORDERS_LOAD, late_row])
    finally:
        con.close()
    return {"changed": changed, "shrunk": shrunk, "late": late}


def _rows(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [tuple(row) for row in con.execute(sql).fetchall()]
    finally:
        con.close()


def test_incremental_order_lines_equal_a_full_refresh(built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    before = _rows(warehouse, LINES)
    orders = _change_raw_orders(warehouse)

    incremental = dbt("run", "--select", "order_lines", root=tmp_path, warehouse=warehouse)
    assert incremental.returncode == 0, incremental.stdout[-3000:]
    after_incremental = _rows(warehouse, LINES)
    full = dbt("run", "--select", "order_lines", "--full-refresh", root=tmp_path,
               warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    after_full = _rows(warehouse, LINES)

    assert after_incremental == after_full
    assert after_incremental != before
    lines = {(row[1], row[8]) for row in after_incremental}  # (order_id, unit_price)
    assert (orders["changed"], Decimal("1234.50")) in lines
    assert (orders["late"], Decimal("99.99")) in lines
    shrunk_before = sum(1 for row in before if row[1] == orders["shrunk"])
    shrunk_after = sum(1 for row in after_incremental if row[1] == orders["shrunk"])
    assert shrunk_after == shrunk_before - 1


# -- probabilistic matching: int_customer_pairs_scored ----------------------------------------

PAIRS = ("select record_key_a, record_key_b, match_probability"
         " from intermediate.int_customer_pairs_scored")


def _change_raw_people(warehouse: Path) -> dict[str, str]:
    """A CRM contact renamed, a shop customer erased (GDPR: no name left, flagged deleted) and a
    CRM contact typed in twice."""
    con = duckdb.connect(str(warehouse))
    try:
        scored = [tuple(row) for row in con.execute(f"{PAIRS} order by 1, 2").fetchall()]
        crm = sorted({k for a, b, _ in scored for k in (a, b) if k.startswith("crm:")})
        shop = sorted({k for a, b, _ in scored for k in (a, b) if k.startswith("shop:")})
        renamed, twin = crm[0], crm[-1]
        deleted = shop[0]
        # as a later dlt load leaves them: every row it writes carries its load id
        load_id = PEOPLE_LOAD
        con.execute("update raw_crm.contacts set lastname = 'Zyxwvutsrq', firstname = 'Qqq',"
                    " email = null, phone = null, mobilephone = null, address = null, zip = null,"
                    " _dlt_load_id = ? where id = ?", [load_id, renamed.split(":")[-1]])
        con.execute("update raw_shop.customers set _goldloop_deleted = true, first_name = null,"
                    " last_name = null, email = null, phone = null, _dlt_load_id = ?"
                    " where record_id = ?", [load_id, deleted.split(":", 2)[-1]])
        con.execute("""
            insert into raw_crm.contacts
            select * replace ('990000001' as id, null as erp_contact_id, ? as _dlt_load_id)
            from raw_crm.contacts where id = ?
        """, [load_id, twin.split(":")[-1]])
    finally:
        con.close()
    return {"renamed": renamed, "deleted": deleted, "twin": twin,
            "new": "crm:contacts:990000001"}


KEPT_HASHES = "select * from intermediate.int_customer_pairs_scored__records order by all"
PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
SPLINK_MODEL = PROJECT_DIR / "models" / "intermediate" / "identity" / "int_customer_pairs_scored.py"


def _scored_against_every_record(warehouse: Path, keys: set[str]) -> dict[tuple[str, str], float]:
    """The pairs of ``keys`` scored as Splink scores them with every record at hand: the kept
    model, term frequencies computed by Splink, the records compared against all others."""
    import importlib.util

    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    spec = importlib.util.spec_from_file_location("pairs_scored", SPLINK_MODEL)
    assert spec is not None and spec.loader is not None
    scored = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scored)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        records = con.sql(f"select *, {scored.HOUSE_NUMBER_SQL}"
                          " from intermediate.int_customer_match_features").to_arrow_table()
        model_json = con.execute("select model_json"
                                 " from intermediate.int_customer_pairs_scored__model").fetchone()
    finally:
        con.close()
    assert model_json is not None
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records, table_name="everyone"), json.loads(model_json[0]))
    for column in scored.tf_columns():
        linker.table_management.compute_tf_table(column)
    is_key = pa.compute.is_in(records["record_key"], pa.array(sorted(keys)))
    inside, outside = records.filter(is_key), records.filter(pa.compute.invert(is_key))
    inside_df = db_api.register(inside, table_name="inside")
    threshold = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"][
        "identity_candidate_threshold"]
    predictions = [linker.inference.predict_within(
                       inside_df, threshold_match_probability=threshold, warning_mode="never"),
                   linker.inference.predict_between(
                       inside_df, db_api.register(outside, table_name="outside"),
                       threshold_match_probability=threshold, warning_mode="never")]
    return {(row["record_key_a"], row["record_key_b"]): row["match_probability"]
            for row in scored.pairs_table(db_api, predictions).to_pylist()}


def test_incremental_scoring_rescores_only_the_changed_records(built: BuiltWorld,
                                                                tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    before = {(a, b): p for a, b, p in _rows(warehouse, PAIRS)}
    people = _change_raw_people(warehouse)
    # and 40 more contacts lose their e-mail: pairs they keep come through every blocking rule
    con = duckdb.connect(str(warehouse))
    try:
        emptied = [f"crm:contacts:{contact_id}" for (contact_id,) in con.execute("""
            update raw_crm.contacts set email = null, _dlt_load_id = ?
            where id in (select id from raw_crm.contacts where email is not null
                         order by id limit 40)
            returning id
        """, [PEOPLE_LOAD]).fetchall()]
    finally:
        con.close()

    run = dbt("run", "--select", "+int_customer_pairs_scored", root=tmp_path,
              warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    after = {(a, b): p for a, b, p in _rows(warehouse, PAIRS)}

    changed = {people["renamed"], people["deleted"], people["new"], *emptied}
    assert not any(people["renamed"] in pair or people["deleted"] in pair for pair in after)
    assert tuple(sorted((people["twin"], people["new"]))) in after  # the second entry is found
    # the changed records' pairs, scored against their blocking neighbours only, are the ones
    # scoring them against every record gives
    rescored = {k: p for k, p in after.items() if changed & set(k)}
    assert len(rescored) > len(emptied), len(rescored)
    assert rescored == pytest.approx(_scored_against_every_record(warehouse, changed))
    # pairs of two untouched records keep their scores exactly
    assert {k: p for k, p in before.items() if not changed & set(k)} == {
        k: p for k, p in after.items() if not changed & set(k)}
    # dbt-duckdb's leftover table of the new rows is dropped; the state follows the records
    assert _rows(warehouse, "select count(*) from information_schema.tables"
                            " where table_name like '%dbt_tmp%'") == [(0,)]
    kept = _rows(warehouse, KEPT_HASHES)
    assert len(kept) == _rows(warehouse, "select count(*)"
                                         " from intermediate.int_customer_match_features")[0][0]

    full = dbt("run", "--select", "int_customer_pairs_scored", "--full-refresh",
               root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    # the hashes kept after the change (changed, gone and new records updated in place) are
    # the ones hashing every record anew keeps
    assert kept == _rows(warehouse, KEPT_HASHES)
    refreshed = {(a, b): p for a, b, p in _rows(warehouse, PAIRS)}
    # a full refresh retrains the model on the changed data: pairs near the candidate
    # threshold may come and go, the pairs that matter do not
    assert {k for k, p in refreshed.items() if p >= 0.1} <= after.keys()
    assert {k for k, p in after.items() if p >= 0.1} <= refreshed.keys()


# -- clusters: int_customer_rule_clusters and int_customer_clusters ---------------------------

# the rule clusters' rows, without when they were clustered
CLUSTERS = {"intermediate.int_customer_rule_clusters": "select * exclude (built_at) from {}",
            "intermediate.int_customer_clusters": "select * exclude (built_at) from {}"}


FEATURES = "select * from intermediate.int_customer_match_features order by record_key"


def test_incremental_match_features_equal_a_full_refresh(built: BuiltWorld,
                                                         tmp_path: Path) -> None:
    """int_customer_match_features recomputes the records loaded since, the CRM contacts of a
    company loaded since (its domain is their company key) and drops a record left without a
    name: the rows a full refresh gives."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        (company_id,) = con.execute("""
            update raw_crm.companies set domain = 'renamed-company.example', _dlt_load_id = ?
            where id = (select min(associatedcompanyid) from raw_crm.contacts
                        where associatedcompanyid is not null)
            returning id""", [PEOPLE_LOAD]).fetchone() or (None,)
    finally:
        con.close()
    assert company_id is not None

    run = dbt("run", "--select", "+int_customer_match_features", root=tmp_path,
              warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = (tmp_path / "target" / "compiled" / "goldloop" / "models" / "intermediate"
                / "identity" / "int_customer_match_features.sql").read_text()
    assert "__loads" in compiled  # only what was loaded since was recomputed
    incremental = _rows(warehouse, FEATURES)
    keys = {row[0] for row in incremental}
    assert people["new"] in keys and people["deleted"] not in keys  # erased: no name left
    assert ("renamed-company.example",) in _rows(
        warehouse, "select crm_company_domain from intermediate.int_customer_match_features")

    full = dbt("run", "--select", "int_customer_match_features", "--full-refresh",
               root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    assert incremental == _rows(warehouse, FEATURES)


DECIDED = ("select * exclude (built_at) from intermediate.int_customer_pairs_decided"
           " order by all")


def test_incremental_decisions_equal_deciding_every_pair(built: BuiltWorld,
                                                         tmp_path: Path) -> None:
    """int_customer_pairs_decided decides again only the pairs of the rule clusters whose
    records, scores or candidates changed: the same rows as deciding every pair."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)

    run = dbt("run", "--select", "+int_customer_pairs_decided", root=tmp_path,
              warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = (tmp_path / "target" / "compiled" / "goldloop" / "models" / "intermediate"
                / "identity" / "int_customer_pairs_decided.sql").read_text()
    assert "int_customer_pairs_decided__dirty" in compiled  # only the dirty pairs were decided
    # the changed records' pairs were logged by the scoring, and the log was consumed
    logged = {key for (key,) in _rows(
        warehouse, "select record_key from intermediate.int_customer_pairs_scored__rescored")}
    assert {people["renamed"], people["new"]} <= logged
    assert _rows(warehouse, "select count(*) from information_schema.tables"
                            " where table_name = 'int_customer_pairs_decided__dirty'") == [(0,)]
    decided = _rows(warehouse, DECIDED)
    assert any(people["new"] in pair[:2] for pair in decided)  # the twin's pair was decided

    full = dbt("run", "--select", "int_customer_pairs_decided", "--full-refresh",
               root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    assert decided == _rows(warehouse, DECIDED)




def test_incremental_clusters_equal_clustering_everything(built: BuiltWorld,
                                                          tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)

    run = dbt("run", "--select", "+int_customer_clusters", root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = (tmp_path / "target" / "compiled" / "goldloop" / "models" / "intermediate"
                / "identity")
    for model in ("int_customer_rule_clusters", "int_customer_clusters"):
        # the build reworked only what changed (the previous rows were read)
        assert "previous_components" in (compiled / f"{model}.sql").read_text(), model
    # the kept links and labels had this build's changes applied: they are what was clustered
    labels = set(_rows(warehouse, "select record_key, anchor_label"
                                  " from intermediate.int_customer_records"))
    for model, edges in (("int_customer_rule_clusters", "int_customer_key_edges"),
                         ("int_customer_clusters", "int_customer_match_edges")):
        assert set(_rows(warehouse, "select record_key, linked_record_key"
                                    f" from intermediate.{model}__links")) == set(_rows(
            warehouse, f"select record_key, linked_record_key from intermediate.{edges}"))
        assert set(_rows(warehouse, f"select * from intermediate.{model}__labels")) == labels
    assert _rows(warehouse, "select count(*) from information_schema.tables"
                            " where table_name like '%__changed_l%'") == [(0,)]
    reworked = {table: sorted(_rows(warehouse, sql.format(table)))
                for table, sql in CLUSTERS.items()}
    full = dbt("run", "--select", "int_customer_rule_clusters", "int_customer_clusters",
               "--full-refresh", root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]

    for table, sql in CLUSTERS.items():
        assert reworked[table] == sorted(_rows(warehouse, sql.format(table))), table
    # the new second entry joined its twin's customer
    customer_of = dict(_rows(warehouse, "select record_key, customer_id"
                                        " from intermediate.int_customer_clusters"))
    assert customer_of[people["new"]] == customer_of[people["twin"]]
    assert _rows(warehouse, "select count(*) from intermediate.int_customer_clusters__links") \
        == _rows(warehouse, "select count(*) from intermediate.int_customer_match_edges")


def _compared(log: str, model: str, table: str) -> str:
    """How the last build in the debug ``log`` wrote ``model``'s comparison with its kept
    state (the table ``<model>__<table>``): 'touched' (only the records logged or written
    since) or 'all'."""
    head = re.findall(rf'create table \S*{model}__{table}" as\s+(\w+)', log)
    assert head, f"no {table} of {model} in the log"
    return "touched" if head[-1] == "with" else "all"


def _clustered(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    return {table: sorted(_rows(warehouse, sql.format(table))) for table, sql in CLUSTERS.items()}


CLUSTERINGS = ("int_customer_rule_clusters", "int_customer_clusters")


def _cluster_again(warehouse: Path, root: Path, select: str = "+int_customer_clusters") -> str:
    """Build ``select`` (the clusterings and what they read); the debug log of the build."""
    (root / "logs" / "dbt.log").unlink(missing_ok=True)
    run = dbt("run", "--select", select, "--log-level-file", "debug", root=root,
              warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    return (root / "logs" / "dbt.log").read_text()


def test_clusterings_compare_only_what_was_logged_or_written_since(
        built: BuiltWorld, tmp_path: Path) -> None:
    """Each clustering compares with the links it kept only those of the records the link
    models logged as rewritten, and with the labels it kept only those of the records written
    since (`built_at`), while the logs cover what came since it last clustered and the records
    were not all rewritten; every link when a log starts later (restarted, pruned), every
    label after a full refresh of the records. The clusters of clustering everything each
    time."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)

    log = _cluster_again(warehouse, tmp_path)
    for model in CLUSTERINGS:
        assert _compared(log, model, "changed_links") == "touched", model
        assert _compared(log, model, "changed_labels") == "touched", model
    touched = {key for (key,) in _rows(
        warehouse, "select record_key from intermediate.int_customer_key_edges__touched")}
    assert people["new"] in touched  # it joined its twin's e-mail group
    decided = {key for (key,) in _rows(
        warehouse, "select record_key from intermediate.int_customer_pairs_decided__touched")}
    assert people["renamed"] in decided
    reworked = _clustered(warehouse)

    # the key links' log restarted after the clusterings last read it, and a record's e-mail
    # changed to a shop customer's: both compare every link, the labels written since only
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("""
            delete from intermediate.int_customer_key_edges__touched;
            insert into intermediate.int_customer_key_edges__touched
            select null, consumed_at + interval 1 second
            from intermediate.int_customer_rule_clusters__consumed""")
        con.execute("""
            update raw_crm.contacts set _dlt_load_id = '9999999999.000002',
                email = (select min(email) from raw_shop.customers where email is not null)
            where id = ?""", [people["twin"].split(":")[-1]])
    finally:
        con.close()
    log = _cluster_again(warehouse, tmp_path)
    for model in CLUSTERINGS:
        assert _compared(log, model, "changed_links") == "all", model
        assert _compared(log, model, "changed_labels") == "touched", model
    relinked = _clustered(warehouse)
    assert relinked != reworked

    # every record written again: every label compared
    refreshed = dbt("run", "--select", "int_customer_records", "--full-refresh",
                    root=tmp_path, warehouse=warehouse)
    assert refreshed.returncode == 0, refreshed.stdout[-3000:]
    log = _cluster_again(warehouse, tmp_path)
    for model in CLUSTERINGS:
        assert _compared(log, model, "changed_labels") == "all", model
    assert _clustered(warehouse) == relinked

    full = dbt("run", "--select", *CLUSTERINGS, "--full-refresh", root=tmp_path,
               warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    assert relinked == _clustered(warehouse)


# -- marts by customer (macros/changed_customers.sql) ------------------------------------------

BY_CUSTOMER = {
    "customers": "select * exclude (built_at) from marts.customers order by customer_id",
    "customer_xref": "select * exclude (built_at) from marts.customer_xref order by record_key",
    "customer_field_conflicts": ("select * exclude (built_at) from marts.customer_field_conflicts"
                                 " order by all"),
}


def test_the_change_log_compares_only_the_members_written_since(built: BuiltWorld,
                                                                tmp_path: Path) -> None:
    """int_customer_changes compares with the members it kept only those whose clusters or
    records row was written since it last logged, and every member once the clusters were
    rebuilt whole: the same customers logged either way."""
    logged_now = ("select customer_id from intermediate.int_customer_changes"
                  " where changed_at = (select max(changed_at)"
                  " from intermediate.int_customer_changes)")
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    _change_raw_people(warehouse)
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    shutil.copy(warehouse, rebuilt / "warehouse.duckdb")

    log = _cluster_again(warehouse, tmp_path, "+int_customer_changes")
    assert _compared(log, "int_customer_changes", "member_changes") == "touched"
    logged = set(_rows(warehouse, logged_now))
    assert len(logged) >= 2  # the new twin's customer and the renamed contact's

    again = rebuilt / "warehouse.duckdb"
    for args in (("+int_customer_clusters",), ("int_customer_clusters", "--full-refresh")):
        run = dbt("run", "--select", *args, root=rebuilt, warehouse=again)
        assert run.returncode == 0, run.stdout[-3000:]
    log = _cluster_again(again, rebuilt, "int_customer_changes")
    assert _compared(log, "int_customer_changes", "member_changes") == "all"
    assert set(_rows(again, logged_now)) == logged


def test_marts_by_customer_rework_only_the_changed_customers(built: BuiltWorld,
                                                              tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        # a mark on a customer no change touches: a build that reworks it wipes the mark
        untouched = con.execute("""
            select customer_id from marts.customers
            where customer_id not in (
                select customer_id from intermediate.int_customer_clusters
                where record_key in (?, ?, ?))
            order by customer_id limit 1
        """, [people["renamed"], people["deleted"], people["twin"]]).fetchone()
        assert untouched is not None
        con.execute("update marts.customers set city = 'Marked' where customer_id = ?",
                    [untouched[0]])
    finally:
        con.close()

    run = dbt("run", "--select", "+customers", "customer_xref", "customer_field_conflicts",
              root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    reworked = {model: _rows(warehouse, sql) for model, sql in BY_CUSTOMER.items()}
    full = dbt("run", "--select", *BY_CUSTOMER, "--full-refresh", root=tmp_path,
               warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    refreshed = {model: _rows(warehouse, sql) for model, sql in BY_CUSTOMER.items()}

    # the untouched customer kept its row (mark and all); every other row of every mart is
    # what a full refresh gives
    assert "Marked" in next(row for row in reworked["customers"] if row[0] == untouched[0])
    assert "Marked" not in next(row for row in refreshed["customers"] if row[0] == untouched[0])
    for model in BY_CUSTOMER:
        assert [row for row in reworked[model] if untouched[0] not in row] == [
            row for row in refreshed[model] if untouched[0] not in row], model
    customer_of = dict(_rows(warehouse, "select record_key, customer_id"
                                        " from intermediate.int_customer_clusters"))
    twins = _rows(warehouse, "select source_record_count from marts.customers"
                             f" where customer_id = '{customer_of[people['new']]}'")
    assert twins and twins[0][0] >= 2  # the second entry is counted with its twin
    assert _rows(warehouse, "select count(*) from information_schema.tables"
                            " where table_name like '%\\_\\_changed' escape '\\'") == [(0,)]


def test_contracted_not_null_columns_refuse_a_null_after_an_incremental_build(
        built: BuiltWorld, tmp_path: Path) -> None:
    # a not-null column of an enforced contract carries no not_null data test: the table
    # itself must refuse the null, also once incremental builds have appended to it
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    _change_raw_people(warehouse)
    run = dbt("run", "--select", "+customers", *BY_CUSTOMER, "sync_crm__contacts",
              "sync_erp__contacts", "sync_shop__customers", root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    held = [(node["schema"], node["alias"], column)
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["config"].get("contract", {}).get("enforced")
            for column, spec in node["columns"].items()
            if any(c["type"] == "not_null" for c in spec.get("constraints", []))]
    assert {"customers", "sync_erp__contacts"} <= {table for _, table, _ in held}
    con = duckdb.connect(str(warehouse))
    try:
        declared = set(con.execute("select table_name, unnest(constraint_column_names)"
                                   " from duckdb_constraints()"
                                   " where constraint_type = 'NOT NULL'").fetchall())
        refused = []
        for schema, table, column in held:
            try:
                con.execute(f'update {schema}."{table}" set "{column}" = null'
                            f' where rowid = (select min(rowid) from {schema}."{table}")')
            except duckdb.ConstraintException:
                refused.append((table, column))
        empty = {table for schema, table in {(s, t) for s, t, _ in held}
                 if con.execute(f'select count(*) from {schema}."{table}"').fetchone() == (0,)}
    finally:
        con.close()
    # a row the update could reach is refused; an empty table declares the constraint
    missing = [(t, c) for _, t, c in held
               if (t, c) not in refused and not (t in empty and (t, c) in declared)]
    assert not missing, missing


def test_a_mart_left_out_of_a_build_catches_up_from_the_change_log(built: BuiltWorld,
                                                                    tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    before = _rows(warehouse, BY_CUSTOMER["customer_xref"])
    _change_raw_people(warehouse)
    # the change is logged and consumed by customers, not by customer_xref
    first = dbt("run", "--select", "+int_customer_changes", "customers", root=tmp_path,
                warehouse=warehouse)
    assert first.returncode == 0, first.stdout[-3000:]
    assert _rows(warehouse, BY_CUSTOMER["customer_xref"]) == before
    # a later build with nothing new to log: customer_xref still reworks what it missed
    later = dbt("run", "--select", "int_customer_changes", "customer_xref", root=tmp_path,
                warehouse=warehouse)
    assert later.returncode == 0, later.stdout[-3000:]
    caught_up = _rows(warehouse, BY_CUSTOMER["customer_xref"])
    full = dbt("run", "--select", "customer_xref", "--full-refresh", root=tmp_path,
               warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]
    assert caught_up == _rows(warehouse, BY_CUSTOMER["customer_xref"]) != before


def test_a_mart_that_consumed_less_than_the_pruned_log_reworks_everyone(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("update marts.customers set city = 'Marked'")
    finally:
        con.close()
    # nothing changed, but the log keeps no day: what customers consumed is past its horizon
    run = dbt("run", "--select", "int_customer_changes", "customers", "--vars",
              "{identity_change_log_days: 0}", root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    assert _rows(warehouse, "select count(*) from marts.customers where city = 'Marked'") == [
        (0,)]
    log = _rows(warehouse, "select customer_id from intermediate.int_customer_changes")
    assert log == [(None,)]  # the horizon alone: every older row pruned


# -- deterministic keys and links (macros/match_keys.sql) -------------------------------------

KEYS = ("select record_key, match_rule, match_value, load_id"
        " from intermediate.int_customer_match_keys order by all")
LINKS = "select * from intermediate.int_customer_key_edges order by all"
ADDRESSED = "select * from intermediate.int_erp_contacts_addressed order by contact_id"


def _change_order_invoice_keys(warehouse: Path) -> tuple[str, str]:
    """Three ERP contacts holding order_invoice keys: one loses its names (no longer a person:
    no order_invoice key), the other's shop order is re-billed to a second person, the third's
    invoices come to name an order that does not exist (their old reference links no more)."""
    con = duckdb.connect(str(warehouse))
    try:
        (unnamed,), (rebilled,), (moved,) = con.execute("""
            select distinct match_value from intermediate.int_customer_match_keys
            where match_rule = 'order_invoice' order by 1 limit 3
        """).fetchall()
        other = con.execute("""
            select contact_id from raw_erp.contacts
            where first_name is not null and contact_id not in (?, ?, ?) order by 1 limit 1
        """, [unnamed, rebilled, moved]).fetchone()
        assert other is not None
        load_id = "9999999999.000002"
        con.execute("update raw_erp.contacts set first_name = null, last_name = null,"
                    " _dlt_load_id = ? where contact_id = ?", [load_id, unnamed])
        con.execute("update raw_erp.invoices set contact__contact_id = ?, _dlt_load_id = ?"
                    " where contact__contact_id = ? and reference like '%/#%'",
                    [other[0], load_id, rebilled])
        con.execute("update raw_erp.invoices set reference = reference || '-moved',"
                    " _dlt_load_id = ? where contact__contact_id = ? and reference like '%/#%'",
                    [load_id, moved])
    finally:
        con.close()
    return unnamed, rebilled


def test_incremental_keys_and_links_equal_a_full_refresh(built: BuiltWorld,
                                                         tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    people = _change_raw_people(warehouse)
    unnamed, rebilled = _change_order_invoice_keys(warehouse)
    keys_before = _rows(warehouse, KEYS)
    # a mark on an untouched record's e-mail key: a build that rekeys the record wipes it
    marked = next(k[0] for k in keys_before if k[1] == "email" and k[0].startswith("shop:")
                  and k[0] not in people.values())
    con = duckdb.connect(str(warehouse))
    con.execute("update intermediate.int_customer_match_keys set load_id = 'marked'"
                " where record_key = ? and match_rule = 'email'", [marked])
    con.close()

    run = dbt("run", "--select", "+int_customer_key_edges", root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = (tmp_path / "target" / "compiled" / "goldloop" / "models" / "intermediate"
                / "identity")
    assert "int_customer_match_keys__changed" in (
        compiled / "int_customer_match_keys.sql").read_text()
    assert "int_customer_key_edges__groups" in (
        compiled / "int_customer_key_edges.sql").read_text()
    keys, links = _rows(warehouse, KEYS), _rows(warehouse, LINKS)
    assert [k[3] for k in keys if k[0] == marked and k[1] == "email"] == ["marked"]
    keys = [k for k in keys if k[0] != marked]
    # the log of changed key groups was consumed and restarted empty
    assert _rows(warehouse, "select count(*) from intermediate.int_customer_match_keys__changes"
                 ) == [(0,)]
    addressed = _rows(warehouse, ADDRESSED)
    full = dbt("run", "--select", "int_erp_contacts_addressed", "int_customer_match_keys",
               "int_customer_key_edges", "--full-refresh", root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]

    # the ERP contacts (phones read by a Python function) reworked only where reloaded
    assert addressed == _rows(warehouse, ADDRESSED)
    assert next(row for row in addressed if row[0] == unnamed)[4:6] == (None, None)
    assert keys == [k for k in _rows(warehouse, KEYS) if k[0] != marked]
    assert links == _rows(warehouse, LINKS)
    assert keys != keys_before
    assert not any(key[0] == people["renamed"] and key[1] == "email" for key in keys)
    assert not any(key[1] == "order_invoice" and key[2] == unnamed for key in keys)
    assert any(key[0] == people["new"] for key in keys)
    assert any(key[1] == "order_invoice" and key[2] == rebilled for key in keys_before)


def test_a_disabled_order_invoice_rule_reads_no_orders_and_drops_its_keys(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    assert any(key[1] == "order_invoice" for key in _rows(warehouse, KEYS))
    rules = ["crm_erp_reference", "email", "phone_last_name", "phone_first_name",
             "name_postcode", "address_last_name", "address_first_name"]

    run = dbt("run", "--select", "int_customer_match_keys", "int_customer_key_edges",
              "--vars", json.dumps({"identity_rules": rules}), "--log-level-file", "debug",
              root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]

    assert not any(key[1] == "order_invoice" for key in _rows(warehouse, KEYS))
    assert not any(link[2] == "order_invoice" for link in _rows(warehouse, LINKS))
    # the keys' pre-hook computed no order_invoice groups: orders and invoices were not read
    # (the SQL run is in the file log at debug level; the project's default is info)
    log = (tmp_path / "logs" / "dbt.log").read_text()
    hook = log[log.index("int_customer_match_keys__order_invoice\" as"):][:2000]
    assert "stg_shop__orders" not in hook and "stg_erp__invoices" not in hook


# -- sync feeds: incremental by customer, entangled customers together --------------------------

FEEDS = {feed: f"select * from marts.{feed} order by sync_key"
         for feed in ("sync_crm__contacts", "sync_shop__customers", "sync_erp__contacts")}


def _feeds(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    return {feed: _rows(warehouse, sql) for feed, sql in FEEDS.items()}


def _share_values(warehouse: Path, load_id: str, *, undo: bool = False) -> None:
    """Values two customers come to share, as a later load leaves them (``undo``: each goes
    back to a value nobody shares): a CRM contact takes another customer's golden e-mail, a
    shop account another customer's, and a live ERP contact takes the name of a person the ERP
    feed creates."""
    con = duckdb.connect(str(warehouse))
    try:
        people = "not is_deleted and not is_business_account and email is not null"
        (_, email_a), (crm_b, _) = con.execute(
            f"select crm_contact_id, email from marts.customers where is_in_crm and {people}"
            " order by customer_id limit 2").fetchall()
        con.execute("update raw_crm.contacts set email = ?, _dlt_load_id = ? where id = ?",
                    ["crm.b@unshared.example" if undo else email_a, load_id, crm_b])
        (_, shop_email_a), (shop_b, _) = con.execute(
            f"select shop_customer_id, email from marts.customers where is_in_shop and {people}"
            " order by customer_id desc limit 2").fetchall()
        con.execute("update raw_shop.customers set email = ?, _dlt_load_id = ?"
                    " where record_id = ?",
                    ["shop.b@unshared.example" if undo else shop_email_a, load_id, shop_b])
        # (a name is no match key: the two customers stay apart, their rows are entangled)
        new_name = con.execute("select name from marts.sync_erp__contacts where contact_id is"
                               " null order by sync_key limit 1 offset 10").fetchone()
        live = con.execute("select contact_id from staging.stg_erp__contacts"
                           " where not is_deleted order by contact_id limit 1").fetchone()
        assert new_name is not None and live is not None
        con.execute("update raw_erp.contacts set name = ?, _dlt_load_id = ?"
                    " where contact_id = ?",
                    ["Unshared Name Ltd" if undo else new_name[0], load_id, live[0]])
    finally:
        con.close()


def _full_refresh_feeds(warehouse: Path, root: Path) -> dict[str, list[tuple[object, ...]]]:
    """The feeds a full refresh gives on a copy of ``warehouse``."""
    root.mkdir()
    copy = root / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    full = dbt("run", "--select", *FEEDS, "--full-refresh", root=root, warehouse=copy)
    assert full.returncode == 0, full.stdout[-3000:]
    return _feeds(copy)


def test_incremental_feeds_equal_a_full_refresh_as_values_come_to_be_shared(
        built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    before = _feeds(warehouse)
    select = ("--select", "+sync_crm__contacts", "+sync_shop__customers", "+sync_erp__contacts")

    _share_values(warehouse, "9999999999.000003")
    run = dbt("run", *select, root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = tmp_path / "target" / "compiled" / "goldloop" / "models" / "marts" / "sync"
    for feed in FEEDS:
        assert f"{feed}__changed" in (compiled / f"{feed}.sql").read_text(), feed
    shared = _feeds(warehouse)
    assert shared == _full_refresh_feeds(warehouse, tmp_path / "shared")
    assert [feed for feed in FEEDS if shared[feed] == before[feed]] == []

    # the values are unshared again: customers entangled at the last build are reworked too
    _share_values(warehouse, "9999999999.000004", undo=True)
    again = dbt("run", *select, root=tmp_path, warehouse=warehouse)
    assert again.returncode == 0, again.stdout[-3000:]
    assert _feeds(warehouse) == _full_refresh_feeds(warehouse, tmp_path / "unshared")


# -- facts by order, invoice and payment ----------------------------------------------------------

FACTS = {
    "orders": "select * exclude (built_at) from marts.orders order by order_id",
    "invoices": "select * exclude (built_at) from marts.invoices order by invoice_id",
    "payments": "select * exclude (built_at) from marts.payments order by payment_id",
    "orders_vs_invoices": ("select * exclude (built_at) from marts.orders_vs_invoices"
                           " order by break_id"),
}


def _change_raw_invoices(warehouse: Path) -> tuple[str, str]:
    """A late invoice: an order's invoice deleted from raw until now, loaded after its order;
    and a corrected invoice total. Returns (the late invoice's reference, the corrected id)."""
    con = duckdb.connect(str(warehouse))
    try:
        latest = con.execute("select max(updated_date_utc) from raw_erp.invoices").fetchone()
        late = con.execute("""
            select reference from raw_erp.invoices
            where reference like '%/#%' order by invoice_id limit 1
        """).fetchone()
        corrected = con.execute("""
            select invoice_id from raw_erp.invoices
            where reference like '%/#%' order by invoice_id desc limit 1
        """).fetchone()
        assert latest is not None and late is not None and corrected is not None
        # the late invoice now names another order of the same shop (re-billed), stamped now
        con.execute("update raw_erp.invoices set reference = reference || '0',"
                    " updated_date_utc = ? + interval 1 hour, _dlt_load_id = ?"
                    " where reference = ?", [latest[0], INVOICES_LOAD, late[0]])
        con.execute("update raw_erp.invoices set total = total + 10,"
                    " updated_date_utc = ? + interval 2 hour, _dlt_load_id = ?"
                    " where invoice_id = ?", [latest[0], INVOICES_LOAD, corrected[0]])
        con.execute("update raw_erp.payments set amount = amount + 1,"
                    " updated_date_utc = ? + interval 2 hour, _dlt_load_id = ?"
                    " where invoice__invoice_id = ?", [latest[0], INVOICES_LOAD, corrected[0]])
    finally:
        con.close()
    return late[0], corrected[0]


def test_incremental_facts_equal_a_full_refresh(built: BuiltWorld, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    before = {model: _rows(warehouse, sql) for model, sql in FACTS.items()}
    _change_raw_orders(warehouse)
    _share_values(warehouse, "9999999999.000005")  # two customers merge: ids of facts move
    _change_raw_invoices(warehouse)

    run = dbt("run", "--select", "+orders", "+invoices", "+payments", "+orders_vs_invoices",
              root=tmp_path, warehouse=warehouse)
    assert run.returncode == 0, run.stdout[-3000:]
    compiled = tmp_path / "target" / "compiled" / "goldloop" / "models" / "marts" / "core"
    for model in ("orders", "invoices"):
        assert f"{model}__consumed" in (compiled / f"{model}.sql").read_text(), model
    breaks = compiled.parent / "reconciliation" / "orders_vs_invoices.sql"
    assert "orders_vs_invoices__reworked" in breaks.read_text()
    reworked = {model: _rows(warehouse, sql) for model, sql in FACTS.items()}
    full = dbt("run", "--select", *FACTS, "--full-refresh", root=tmp_path, warehouse=warehouse)
    assert full.returncode == 0, full.stdout[-3000:]

    for model, sql in FACTS.items():
        assert reworked[model] == _rows(warehouse, sql), model
        assert reworked[model] != before[model], model
    # the merge moved orders to another customer without the orders changing
    was = {row[0]: (row[1], row[-1]) for row in before["orders"]}
    assert [row[0] for row in reworked["orders"]
            if row[0] in was and was[row[0]][1] == row[-1] and was[row[0]][0] != row[1]]
