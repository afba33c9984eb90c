"""The same project builds on Postgres (the plain-SQL phone normaliser instead of phonenumbers).

Skips only when Postgres at 127.0.0.1:5432 is unreachable and GOLDLOOP_REQUIRE_POSTGRES is unset.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.model import pairwise
from goldloop.settings import Settings
from tests.dbt.world import dbt, extract_world
from tests.support import postgres_database

pytestmark = pytest.mark.postgres

# dlt's Postgres destination wants a password in the DSN; a trust-auth server ignores it.
CUSTOMER_OBJECTS = {("crm", "contacts"), ("erp", "contacts"), ("shop", "customers")}


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A fresh database, dropped afterwards."""
    with postgres_database("goldloop_dbt") as dsn:
        yield dsn


def test_build_on_postgres_matches_and_reconciles(postgres_dsn: str, tmp_path: Path) -> None:
    import psycopg2

    settings = Settings(target="postgres", postgres_dsn=postgres_dsn)
    _, truth, breaks = extract_world(tmp_path, customers=100, seed=7, settings=settings)
    build = dbt("build", root=tmp_path, postgres_dsn=postgres_dsn)
    assert build.returncode == 0, build.stdout[-5000:]

    con = psycopg2.connect(postgres_dsn)
    try:
        cur = con.cursor()
        cur.execute("select customer_id, system, object, record_id from marts.customer_xref")
        predicted = {f"{s}:{o}:{r}": c for c, s, o, r in cur.fetchall()}
        cur.execute("select break_kind, system, record_id from marts.orders_vs_invoices")
        found = set(cur.fetchall())
    finally:
        con.close()
    expected = {f"{s}:{o}:{r}": e for s, o, r, e in truth if (s, o) in CUSTOMER_OBJECTS}
    assert predicted.keys() == expected.keys()
    precision, recall = pairwise(predicted, expected)
    print(f"customer matching on Postgres: precision {precision:.4f}, recall {recall:.4f}")
    assert precision >= 0.995 and recall >= 0.95
    kinds = {"order_missing_invoice", "invoice_amount_mismatch", "duplicate_invoice"}
    assert found == {(k, s, r) for k, s, r, _ in breaks if k in kinds}

    # the incremental models run again on Postgres: order_lines (contract types,
    # delete+insert), the customer records and the clusters reworked from their kept state
    again = dbt("run", "--select", "order_lines", "int_customer_records+", "--exclude",
                "marts", root=tmp_path, postgres_dsn=postgres_dsn)
    assert again.returncode == 0, again.stdout[-3000:]
    con = psycopg2.connect(postgres_dsn)
    try:
        cur = con.cursor()
        cur.execute("select customer_id, system, object, record_id from intermediate"
                    ".int_customer_clusters")
        assert {f"{s}:{o}:{r}": c for c, s, o, r in cur.fetchall()} == predicted
    finally:
        con.close()
    con = psycopg2.connect(postgres_dsn)
    try:
        cur = con.cursor()
        cur.execute("select count(*), count(distinct order_line_id) from marts.order_lines")
        lines, distinct_lines = cur.fetchone() or (0, 0)
        cur.execute("select count(*) from staging.stg_shop__order_lines")
        staged = (cur.fetchone() or (0,))[0]
    finally:
        con.close()
    assert lines == distinct_lines == staged

    # orders and invoices rework what they pick (nothing changed: every row stays, once)
    facts = dbt("run", "--select", "orders", "invoices", root=tmp_path, postgres_dsn=postgres_dsn)
    assert facts.returncode == 0, facts.stdout[-3000:]
    con = psycopg2.connect(postgres_dsn)
    try:
        cur = con.cursor()
        cur.execute("select (select count(*) from marts.orders),"
                    " (select count(distinct order_id) from marts.orders),"
                    " (select count(*) from staging.stg_shop__orders),"
                    " (select count(*) from marts.invoices),"
                    " (select count(*) from staging.stg_erp__invoices where is_sales_invoice)")
        orders, distinct_orders, staged_orders, invoices, staged_invoices = cur.fetchone() or ()
    finally:
        con.close()
    assert orders == distinct_orders == staged_orders > 0
    assert invoices == staged_invoices > 0
