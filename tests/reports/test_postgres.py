"""The report site on a Postgres warehouse: every page renders, its numbers equal the marts.

Skips when Postgres at 127.0.0.1:5432 is unreachable, unless GOLDLOOP_REQUIRE_POSTGRES is set.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings
from reports.breaks import ALL_LABELS
from tests.reports.pages import number, table_total, tile
from tests.reports.test_search import expected_ids, page_ids, searches
from tests.support import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    """A fresh database, dropped afterwards."""
    with postgres_database("goldloop_reports") as dsn:
        yield dsn


@dataclass(frozen=True)
class PostgresWorld:
    """A sandbox world extracted into Postgres and built by ``dbt build``."""

    dsn: str
    root: Path

    @property
    def settings(self) -> Settings:
        return Settings(target="postgres", postgres_dsn=self.dsn)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        con = psycopg2.connect(self.dsn)
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description else []
        finally:
            con.commit()
            con.close()

    def portable_query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of a query written with ``?`` placeholders, as the report site writes them."""
        from reports.db import adapt

        return self.query(adapt(sql, "postgres"), params)

    def scalar(self, sql: str) -> int:
        return int(self.query(sql)[0][0])


@pytest.fixture(scope="module")
def postgres_world(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> PostgresWorld:
    from tests.dbt.world import dbt, extract_world

    root = tmp_path_factory.mktemp("postgres_world")
    extract_world(root, customers=100, seed=7,
                  settings=Settings(target="postgres", postgres_dsn=postgres_dsn))
    build = dbt("build", root=root, postgres_dsn=postgres_dsn)
    assert build.returncode == 0, build.stdout[-3000:]
    return PostgresWorld(postgres_dsn, root)


def test_every_page_on_postgres_shows_the_marts_numbers(postgres_world: PostgresWorld) -> None:
    from reports.app import create_app

    client = TestClient(create_app(postgres_world.settings,
                                   dbt_target=postgres_world.root / "target"))
    scalar = postgres_world.scalar
    overview = client.get("/").text
    assert number(tile(overview, "Golden customers")) == scalar(
        "select count(*) from marts.customers where not is_deleted")
    assert table_total(client.get("/reconciliation").text, "breaks") == scalar(
        "select (select count(*) from marts.orders_vs_invoices) "
        "+ (select count(*) from marts.deals_vs_invoices)")
    customer_id, email = postgres_world.query(
        "select customer_id, email from marts.customers where email is not null "
        "order by customer_id limit 1")[0]
    found = client.get("/customers", params={"q": email.upper()}).text
    assert customer_id in found
    assert client.get("/customers", params={"q": "' or 1=1 --"}).status_code == 200
    for text in searches(postgres_world.portable_query):
        expected = expected_ids(postgres_world.portable_query, text)
        assert page_ids(client, text) == (expected[:200], len(expected)), text
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


def test_the_next_build_closes_fixed_breaks_in_the_history_on_postgres(
        postgres_world: PostgresWorld) -> None:
    """A break the next snapshot no longer finds is closed; a changed amount is a new version;
    the overview's trend counts what is open at the end of today."""
    from reports.app import create_app
    from tests.dbt.world import dbt

    snapshot = "snapshots.reconciliation_breaks_snapshot"
    opened = postgres_world.query(f"select break_id, break_kind from {snapshot} "
                                  "where dbt_valid_to is null order by break_id")
    assert sorted(opened) == sorted(postgres_world.query(
        "select break_id, break_kind from marts.reconciliation_breaks"))
    fixed, changed = opened[0][0], opened[1][0]
    # as if the next build no longer found one break and found another one changed
    postgres_world.query("delete from marts.reconciliation_breaks where break_id = %s", (fixed,))
    postgres_world.query("update marts.reconciliation_breaks set occurred_on = occurred_on - 1 "
                         "where break_id = %s", (changed,))
    again = dbt("snapshot", root=postgres_world.root, postgres_dsn=postgres_world.dsn)
    assert again.returncode == 0, again.stdout[-3000:]
    versions = dict(postgres_world.query(
        f"select break_id, count(*) from {snapshot} group by break_id"))
    closed = {b for (b,) in postgres_world.query(
        f"select break_id from {snapshot} where dbt_valid_to is not null")}
    assert closed == {fixed, changed} and versions[changed] == 2 and versions[fixed] == 1
    still_open = Counter(kind for _, kind in postgres_world.query(
        f"select break_id, break_kind from {snapshot} where dbt_valid_to is null"))
    client = TestClient(create_app(postgres_world.settings,
                                   dbt_target=postgres_world.root / "target"))
    html = client.get("/").text
    start = html.index('aria-label="Breaks open at the end of each day')
    svg = html[start:html.index("</svg>", start)]
    shown = {series: int(value) for series, value in re.findall(
        r"<title>\d\d-\d\d · ([^:<]+): (\d+)</title>", svg)}
    assert shown == {ALL_LABELS[kind]: n for kind, n in still_open.items()}
