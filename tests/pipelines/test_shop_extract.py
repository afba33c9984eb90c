"""The shop connector against the Shopify emulator: counts, values, incremental runs, deletes.

Each test serves a freshly seeded emulator (two shops) on a loopback port and loads it with the
real runner (``pipelines.run.extract_system``) into a DuckDB file in ``tmp_path``; the Postgres
variant loads into a throw-away database.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

import pipelines.shop
from goldloop.settings import Settings
from pipelines.common.summary import SystemSummary
from pipelines.run import extract_system
from sandbox.shop.shops import table
from sandbox.store import Doc
from sandbox.webhooks import now_ms
from sandbox.world.model import World
from tests.pipelines.sandbox_server import RunningSystem, serve_system, small_world
from tests.pipelines.test_erp_extract import assert_requests_match, record_requests
from tests.pipelines.warehouses import rows

SHOPS = ("northwind", "southwind")
OBJECTS = ("customers", "orders", "products")


@functools.lru_cache(maxsize=1)
def world() -> World:
    return small_world("shop")


@dataclass
class ShopRun:
    """A seeded Shopify emulator, the warehouse it loads into, and the runner's working dir."""

    sandbox: RunningSystem
    settings: Settings
    dlt_dir: Path

    def extract(self, **kwargs: Any) -> SystemSummary:
        return extract_system("shop", settings=self.settings, pipelines_dir=self.dlt_dir,
                              **kwargs)

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        return rows(self.settings, text)

    def docs(self, shop: str, obj: str, where: str = "1=1",
             params: tuple[Any, ...] = ()) -> list[Doc]:
        return self.sandbox.ctx.store.query(table(shop, obj), where, params)



def shop_config_env(sandbox: RunningSystem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the connector at the emulator through dlt's env-var config, as a user would."""
    shops = [{"name": name, "base_url": f"{sandbox.root}/shops/{name}/admin/api/2021-10"}
             for name in SHOPS]
    monkeypatch.setenv("SOURCES__SHOP__SHOPS", json.dumps(shops))
    monkeypatch.setenv("SOURCES__SHOP__ACCESS_TOKENS", json.dumps(sandbox.credentials.shop_tokens))
    monkeypatch.setenv("SOURCES__SHOP__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__SHOP__BACKOFF_FACTOR", "0.005")
    monkeypatch.setenv("SOURCES__SHOP__PAGE_SIZE", "100")  # several pages per object


@contextmanager
def running_shop(tmp_path: Path, settings: Settings,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopRun]:
    with serve_system("shop", world(), tmp_path / "sandbox") as sandbox:
        shop_config_env(sandbox, monkeypatch)
        yield ShopRun(sandbox, settings, tmp_path / "dlt")


@pytest.fixture
def shop(tmp_path: Path, duckdb_warehouse: Settings,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopRun]:
    with running_shop(tmp_path, duckdb_warehouse, monkeypatch) as run:
        yield run


def changed_since(run: ShopRun, obj: str, since_ms: int) -> set[str]:
    """``record_id`` of every record of ``obj`` the emulator changed at or after ``since_ms``."""
    floor = since_ms - since_ms % 1000  # the emulator keeps whole seconds
    return {f"{shop}/{d.id}" for shop in SHOPS
            for d in run.docs(shop, obj, "updated_ms >= ?", (floor,))}


def rows_in_load(run: ShopRun, obj: str, load_id: str) -> int:
    """Rows one load wrote (counted in the warehouse: dlt's csv writer for Postgres counts
    cells, not rows, in the normalize metrics)."""
    rows = run.sql(f"SELECT count(*) FROM raw_shop.{obj} WHERE _dlt_load_id = '{load_id}'")
    return int(rows[0][0])


def summary_rows(summary: SystemSummary, table: str) -> int:
    """Rows the run summary says one table loaded."""
    return next(t.rows_loaded for t in summary.tables if t.table == table)


def child_rows_in_load(run: ShopRun, child: str, root: str, load_id: str) -> int:
    """Rows of a nested table (line items, variants) under the root rows one load wrote."""
    rows = run.sql(f"SELECT count(*) FROM raw_shop.{child} c JOIN raw_shop.{root} r "
                   f"ON c._dlt_parent_id = r._dlt_id WHERE r._dlt_load_id = '{load_id}'")
    return int(rows[0][0])


def ids_in_load(run: ShopRun, obj: str, load_id: str) -> set[str]:
    rows = run.sql(f"SELECT record_id FROM raw_shop.{obj} WHERE _dlt_load_id = '{load_id}'")
    return {r[0] for r in rows}


# -- the whole incremental life cycle, on both warehouses ---------------------------------------
def test_full_then_nothing_then_exactly_the_changes(tmp_path: Path, warehouse: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with running_shop(tmp_path, warehouse, monkeypatch) as run:
        sent = record_requests(monkeypatch, pipelines.shop)
        counts = run.sandbox.counts()
        first = run.extract()

        # full load = the emulator's own counts; deleted customers are never served by Shopify
        for shop in SHOPS:
            customers = counts[table(shop, "customers")]
            rows = run.sql("SELECT count(*), sum(CASE WHEN _goldloop_deleted THEN 1 ELSE 0 END) "
                           f"FROM raw_shop.customers WHERE shop = '{shop}'")
            assert rows[0][0] == customers["total"] - customers["archived"]
            assert rows[0][1] == 0
            for obj in ("orders", "products"):
                expected = counts[table(shop, obj)]
                rows = run.sql("SELECT count(*), sum(CASE WHEN _goldloop_deleted THEN 1 ELSE 0 "
                               f"END) FROM raw_shop.{obj} WHERE shop = '{shop}'")
                assert (rows[0][0], rows[0][1]) == (expected["total"], expected["archived"]), obj
        assert first.rows_loaded > 0 and first.retries == 0
        # the summary counts rows, not cells (dlt's csv writer for Postgres counts cells)
        for child in ("orders__line_items", "products__variants"):
            stored = run.sql(f"SELECT count(*) FROM raw_shop.{child}")[0][0]
            assert summary_rows(first, child) == stored > 0, child
        assert summary_rows(first, "orders") == run.sql(
            "SELECT count(*) FROM raw_shop.orders")[0][0]

        # nothing changed: nothing loads, though the lag window is read again
        second = run.extract()
        assert second.rows_loaded == 0
        assert second.requests > 0

        # 1 % changes: the next run loads exactly the changed records, no more, no less
        before = now_ms()
        changes = run.sandbox.mutate(0.01, seed=1)
        assert changes["customers_updated"] > 0 and changes["orders_created"] > 0
        third = run.extract()
        for obj in OBJECTS:
            changed = changed_since(run, obj, before)
            assert ids_in_load(run, obj, third.load_ids[-1]) == changed, obj
            assert rows_in_load(run, obj, third.load_ids[-1]) == len(changed), obj
            assert summary_rows(third, obj) == len(changed), obj
        lines = child_rows_in_load(run, "orders__line_items", "orders", third.load_ids[-1])
        assert summary_rows(third, "orders__line_items") == lines > 0

        # cancelled orders (some just now) and archived products are flagged, none dropped
        for obj in ("orders", "products"):
            gone = {f"{n}/{d.id}" for n in SHOPS for d in run.docs(n, obj, "archived = 1")}
            rows = run.sql(f"SELECT record_id FROM raw_shop.{obj} WHERE _goldloop_deleted")
            assert {r[0] for r in rows} == gone, obj
            rows = run.sql(f"SELECT count(*) FROM raw_shop.{obj}")
            assert rows[0][0] == sum(len(run.docs(n, obj)) for n in SHOPS), obj
        assert changes["orders_cancelled"] > 0
        assert run.extract().rows_loaded == 0

    # one client, two servers: every request is valid per the Shopify spec, and a page_info
    # request carries only limit and fields, as Shopify demands
    queries = [parse_qs(urlsplit(r.url or "").query) for r in sent]
    assert any("updated_at_min" in q for q in queries)
    assert any("page_info" in q for q in queries)
    assert all(set(q) <= {"page_info", "limit", "fields"} for q in queries if "page_info" in q)
    assert all(q.get("fields") for q in queries)
    assert_requests_match(sent, "shopify/shopify-admin-2021-10.ballerina.openapi.yml", "",
                          [f"/admin/api/2021-10/{name}.json" for name in OBJECTS],
                          strip=r"^/shops/[^/]+")


# -- values ------------------------------------------------------------------------------------
def served(run: ShopRun, shop: str, obj: str) -> dict[str, dict[str, Any]]:
    """Every record the emulator serves for ``obj`` (all statuses), keyed by ``record_id``."""
    params: dict[str, Any] | None = {"limit": 250, **LIST_FILTERS.get(obj, {})}
    url = f"{run.sandbox.root}/shops/{shop}/admin/api/2021-10/{obj}.json"
    token = run.sandbox.credentials.shop_tokens[shop]
    found: dict[str, dict[str, Any]] = {}
    while url:
        response = httpx.get(url, params=params, headers={"X-Shopify-Access-Token": token})
        response.raise_for_status()
        found.update({f"{shop}/{r['id']}": r for r in response.json()[obj]})
        url, params = response.links.get("next", {}).get("url", ""), None
    return found


LIST_FILTERS: dict[str, dict[str, str]] = {"orders": {"status": "any"},
                                           "products": {"status": "active,archived,draft"}}


def test_values_round_trip(shop: ShopRun) -> None:
    edited = shop.docs("northwind", "customers", "archived = 0")[0]
    edited.body.update(first_name="Zoë", last_name="Ångström-Øre 山田")
    shop.sandbox.ctx.store.put(table("northwind", "customers"), edited)
    shop.extract()
    rows = shop.sql("SELECT first_name, last_name FROM raw_shop.customers "
                    f"WHERE record_id = 'northwind/{edited.id}'")
    assert rows == [("Zoë", "Ångström-Øre 山田")]

    for name in SHOPS:
        customers = served(shop, name, "customers")
        rows = shop.sql("SELECT record_id, id, email, first_name, last_name, phone, total_spent, "
                        f"updated_at, default_address__city FROM raw_shop.customers "
                        f"WHERE shop = '{name}'")
        assert {r[0] for r in rows} == set(customers)
        for record_id, shopify_id, email, first, last, phone, spent, updated, city in rows:
            body = customers[record_id]
            assert shopify_id == body["id"] and record_id == f"{name}/{body['id']}"
            assert (email, first, last, phone) == (body["email"], body["first_name"],
                                                    body["last_name"], body["phone"])
            assert spent == Decimal(body["total_spent"])  # exact money, not a float
            # the shop's local offset (-04:00 / +01:00) becomes the same instant in UTC
            assert updated == datetime.fromisoformat(body["updated_at"])
            assert updated.utcoffset() == UTC.utcoffset(None)
            assert city == (body.get("default_address") or {}).get("city")

        orders = served(shop, name, "orders")
        rows = shop.sql("SELECT record_id, name, total_price, cancelled_at, customer_record_id "
                        f"FROM raw_shop.orders WHERE shop = '{name}'")
        assert {r[0] for r in rows} == set(orders)
        for record_id, order_name, total, cancelled, customer in rows:
            body = orders[record_id]
            assert order_name == body["name"] and total == Decimal(body["total_price"])
            assert (cancelled is None) == (body["cancelled_at"] is None)
            stub = body.get("customer")
            assert customer == (f"{name}/{stub['id']}" if stub else None)
        lines = shop.sql("SELECT l.record_id, l.price, l.quantity, o.record_id "
                         "FROM raw_shop.orders__line_items l JOIN raw_shop.orders o "
                         f"ON l._dlt_parent_id = o._dlt_id WHERE o.shop = '{name}'")
        assert {r[0]: (r[1], r[2], r[3]) for r in lines} == {
            f"{name}/{li['id']}": (Decimal(li["price"]), li["quantity"], order_id)
            for order_id, body in orders.items() for li in body["line_items"]}

        products = served(shop, name, "products")
        variants = shop.sql("SELECT v.record_id, v.price, p.record_id "
                            "FROM raw_shop.products__variants v JOIN raw_shop.products p "
                            f"ON v._dlt_parent_id = p._dlt_id WHERE p.shop = '{name}'")
        assert {r[0]: (r[1], r[2]) for r in variants} == {
            f"{name}/{v['id']}": (Decimal(v["price"]), product_id)
            for product_id, body in products.items() for v in body["variants"]}


# -- deletes -----------------------------------------------------------------------------------
def test_deleted_customers_are_found_by_the_id_sweep(shop: ShopRun,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shop.extract()
    store = shop.sandbox.ctx.store
    gone = shop.docs("northwind", "customers", "archived = 0")[:2]
    last_known = shop.sql("SELECT record_id, email, first_name FROM raw_shop.customers WHERE "
                          f"record_id IN ('northwind/{gone[0].id}', 'northwind/{gone[1].id}') "
                          "ORDER BY record_id")
    for doc in gone:  # Shopify deletes for real: the emulator stops serving them
        store.put(table("northwind", "customers"),
                  Doc(doc.id, doc.updated_ms, doc.body, archived=True, key=doc.key))

    monkeypatch.setenv("SOURCES__SHOP__DELETE_SWEEP", "true")
    summary = shop.extract()
    customers = next(t for t in summary.tables if t.table == "customers")
    assert customers.rows_loaded == 2 and customers.rows_flagged_deleted == 2
    rows = shop.sql("SELECT record_id, email, first_name FROM raw_shop.customers "
                    "WHERE _goldloop_deleted ORDER BY record_id")
    # flagged, and still carrying their last known values
    assert rows == last_known and len(rows) == 2
    live = shop.sql("SELECT count(*) FROM raw_shop.customers WHERE NOT _goldloop_deleted")
    counts = shop.sandbox.counts()
    assert live[0][0] == sum(counts[table(n, "customers")]["total"]
                             - counts[table(n, "customers")]["archived"] for n in SHOPS)
    assert shop.extract().rows_loaded == 0  # found once, not again

    # a full refresh drops and reloads the tables: the deleted customers survive it, flagged
    monkeypatch.delenv("SOURCES__SHOP__DELETE_SWEEP")
    shop.extract(full_refresh=True)
    rows = shop.sql("SELECT record_id FROM raw_shop.customers WHERE _goldloop_deleted")
    assert sorted(r[0] for r in rows) == sorted(f"northwind/{d.id}" for d in gone)


# -- backfill window ---------------------------------------------------------------------------
def test_start_end_window_loads_only_that_window(shop: ShopRun) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 6, 1, tzinfo=UTC)
    shop.extract(start=start, end=end)
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    for obj in OBJECTS:
        expected = {f"{n}/{d.id}" for n in SHOPS
                    for d in shop.docs(n, obj, "updated_ms >= ? AND updated_ms < ?", (lo, hi))
                    if not (obj == "customers" and d.archived)}
        rows = shop.sql(f"SELECT record_id FROM raw_shop.{obj}")
        assert {r[0] for r in rows} == expected, obj
        assert expected, obj


# -- a record served twice in one load ----------------------------------------------------------
class ServedTwice:
    """Serve the first order of a northwind walk again on the walk's next page.

    Shopify pages with a cursor over a sort order; a record that changes while a load pages can
    come again on a later page. ``newer``: the second copy changed in between (a second later,
    one line item fewer); else it is the same version again.
    """

    def __init__(self, newer: bool) -> None:
        self.newer = newer
        self.first: dict[str, Any] | None = None
        self.again: dict[str, Any] | None = None

    def __call__(self, path: str, query: str, body: bytes) -> bytes:
        if not path.endswith("/northwind/admin/api/2021-10/orders.json") or self.again:
            return body
        payload = json.loads(body)
        if "page_info" not in query:
            if self.first is None and payload["orders"]:
                self.first = json.loads(json.dumps(payload["orders"][0]))
            return body
        if self.first is None:
            return body
        again = json.loads(json.dumps(self.first))
        if self.newer:
            moment = datetime.fromisoformat(again["updated_at"]) + timedelta(seconds=1)
            again["updated_at"] = moment.isoformat()
            again["line_items"] = again["line_items"][:-1]
        payload["orders"].append(again)
        self.again = again
        return json.dumps(payload).encode()


def orphan_lines(run: ShopRun) -> int:
    """Line items whose order row is missing (the dbt relationship test's failure)."""
    rows = run.sql("SELECT count(*) FROM raw_shop.orders__line_items l LEFT JOIN raw_shop.orders o "
                   "ON l._dlt_parent_id = o._dlt_id WHERE o._dlt_id IS NULL")
    return int(rows[0][0])


def test_a_record_on_two_pages_of_one_load_lands_once_with_its_own_lines(
        tmp_path: Path, warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    twice = ServedTwice(newer=True)
    with serve_system("shop", world(), tmp_path / "sandbox", rewrite=twice) as sandbox:
        shop_config_env(sandbox, monkeypatch)
        run = ShopRun(sandbox, warehouse, tmp_path / "dlt")
        run.extract()
        assert twice.again is not None, "the emulator served fewer than two pages of orders"
        key = f"northwind/{twice.again['id']}"
        rows = run.sql(f"SELECT updated_at FROM raw_shop.orders WHERE record_id = '{key}'")
        assert rows == [(datetime.fromisoformat(twice.again["updated_at"]),)]  # once, newest
        lines = run.sql("SELECT l.record_id FROM raw_shop.orders__line_items l JOIN "
                        "raw_shop.orders o ON l._dlt_parent_id = o._dlt_id "
                        f"WHERE o.record_id = '{key}'")
        assert sorted(r[0] for r in lines) == sorted(
            f"northwind/{li['id']}" for li in twice.again["line_items"])
        assert orphan_lines(run) == 0
        unique = run.sql("SELECT count(*), count(DISTINCT record_id) "
                         "FROM raw_shop.orders__line_items")
        assert unique[0][0] == unique[0][1]

        # the next load merges over it cleanly
        run.sandbox.mutate(0.05, seed=4)
        run.extract()
        assert orphan_lines(run) == 0
        counts = run.sql("SELECT count(*), count(DISTINCT record_id) FROM raw_shop.orders")
        assert counts[0][0] == counts[0][1]
