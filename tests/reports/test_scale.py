"""Pages hold one page of rows, never a table: on a copy of the world grown to thousands of
customers (the benchmark's own SQL growth, ``benchmarks/reports.py``), no query a page runs
returns more rows than the largest page size, and deep pages show the warehouse's rows."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings
from reports.tables import PAGE_SIZES
from tests.reports.conftest import ReportWorld
from tests.reports.pages import table_rows, table_total

CUSTOMERS = 4000


@pytest.fixture(scope="module")
def grown(world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> ReportWorld:
    """The world's warehouse grown to 4,000 golden customers (records, conflicts, history)."""
    from benchmarks.reports import grow

    copy = tmp_path_factory.mktemp("grown") / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    counts = grow(copy, CUSTOMERS)
    assert counts["marts.customers"] == CUSTOMERS
    return ReportWorld(copy, world.dbt_target)


def test_no_page_fetches_more_than_a_page_of_rows(grown: ReportWorld,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.app import create_app
    from reports.db import Reader

    largest: dict[str, int] = {}
    current = {"url": ""}
    original = Reader.rows

    def counted(self: Reader, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        found = original(self, sql, params)
        largest[current["url"]] = max(largest.get(current["url"], 0), len(found))
        return found

    monkeypatch.setattr(Reader, "rows", counted)
    customer_id = grown.scalar("select max(customer_id) from marts.customers")
    client = TestClient(create_app(Settings(warehouse=grown.warehouse),
                                   dbt_target=grown.dbt_target))
    for url in ("/", "/reconciliation", "/customers", "/customers?page=40",
                "/customers?q=gmail", f"/customer?id={customer_id}", "/conflicts",
                "/conflicts?field=email&page=3", "/compliance", "/quality", "/metrics",
                "/metrics?metric=customers", "/dictionary"):
        current["url"] = url
        assert client.get(url).status_code == 200, url
    assert grown.scalar("select count(*) from marts.customer_xref") > 2 * max(PAGE_SIZES)
    assert grown.scalar("select count(*) from marts.customer_field_conflicts") > max(PAGE_SIZES)
    assert {url: n for url, n in largest.items() if n > max(PAGE_SIZES)} == {}


def test_a_deep_page_shows_the_warehouses_rows_in_order(grown: ReportWorld) -> None:
    from reports.app import create_app

    client = TestClient(create_app(Settings(warehouse=grown.warehouse),
                                   dbt_target=grown.dbt_target))
    html = client.get("/customers?page=57&size=50").text
    expected = [c for (c,) in grown.query(
        "select customer_id from marts.customers order by customer_id limit 50 offset 2800")]
    assert [r["customer_id"] for r in table_rows(html, "customers")] == expected
    assert table_total(html, "customers") == CUSTOMERS
    last = client.get("/customers?page=80").text
    assert [r["customer_id"] for r in table_rows(last, "customers")] == [c for (c,) in grown.query(
        "select customer_id from marts.customers order by customer_id limit 50 offset 3950")]
