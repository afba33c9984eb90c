"""The report site on a Postgres warehouse: every page renders, its numbers equal the marts.

Skips when Postgres at 127.0.0.1:5432 is unreachable, unless GOLDLOOP_REQUIRE_POSTGRES is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings
from tests.reports.pages import number, table_total, tile

pytestmark = pytest.mark.postgres

SERVER = "postgresql://postgres:postgres@127.0.0.1:5432"  # a trust-auth server ignores it


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A fresh database, dropped afterwards."""
    import psycopg2

    try:
        admin = psycopg2.connect(f"{SERVER}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if os.environ.get("GOLDLOOP_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            raise
        pytest.skip(f"Postgres at 127.0.0.1:5432 is unreachable: {exc}".strip())
    admin.autocommit = True
    name = f"goldloop_reports_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_every_page_on_postgres_shows_the_marts_numbers(postgres_dsn: str,
                                                        tmp_path: Path) -> None:
    import psycopg2

    from reports.app import create_app
    from tests.dbt.world import dbt, extract_world

    settings = Settings(target="postgres", postgres_dsn=postgres_dsn)
    extract_world(tmp_path, customers=100, seed=7, settings=settings)
    build = dbt("build", root=tmp_path, postgres_dsn=postgres_dsn)
    assert build.returncode == 0, build.stdout[-3000:]
    client = TestClient(create_app(settings, dbt_target=tmp_path / "target"))
    con = psycopg2.connect(postgres_dsn)
    cur = con.cursor()

    def scalar(sql: str) -> int:
        cur.execute(sql)
        return int(cur.fetchone()[0])

    try:
        overview = client.get("/").text
        assert number(tile(overview, "Golden customers")) == scalar(
            "select count(*) from marts.customers where not is_deleted")
        assert table_total(client.get("/reconciliation").text, "breaks") == scalar(
            "select (select count(*) from marts.orders_vs_invoices) "
            "+ (select count(*) from marts.deals_vs_invoices)")
        cur.execute("select customer_id, email from marts.customers where email is not null "
                    "order by customer_id limit 1")
        customer_id, email = cur.fetchone()
        found = client.get("/customers", params={"q": email.upper()}).text
        assert customer_id in found
        assert client.get("/customers", params={"q": "' or 1=1 --"}).status_code == 200
        assert client.get("/customer", params={"id": customer_id}).status_code == 200
        assert number(tile(client.get("/compliance").text, "Past the 4-hour policy")) == scalar(
            "select count(*) from marts.leavers_with_access where is_policy_breached")
        metrics = client.get("/metrics").text
        assert number(tile(metrics, "Open reconciliation breaks")) == scalar(
            "select count(*) from marts.reconciliation_breaks")
        for page in ("/conflicts", "/quality", "/dictionary", "/metrics?metric=match_rate"):
            response = client.get(page)
            assert response.status_code == 200 and 'class="notice error"' not in response.text
        dictionary = client.get("/csv/dictionary?model=customers").text
        assert "contacts.email" in dictionary
    finally:
        con.close()
