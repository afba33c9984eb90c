"""The shop seeder, plus the small world and app fixtures every shop test shares.

The world comes from ``sandbox.world.generate.generate(300, seed=1)`` once that module exists;
until then a small hand-built world with the same traps (ids crossing a digit boundary, deleted
customers, cancelled and closed orders, archived products, customers without email/address).
"""

from __future__ import annotations

import functools
import importlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.config import Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.serve import build_app
from sandbox.shop.seed import seed
from sandbox.shop.shops import table
from sandbox.store import Store
from sandbox.world.model import (
    Address,
    Break,
    ShopCustomer,
    ShopLineItem,
    ShopOrder,
    ShopProduct,
    ShopVariant,
    ShopWorld,
    World,
)

NOW_MS = 1_790_870_400_000  # 2026-10-01T16:00:00Z
DAY = 86_400_000
TOKENS = SandboxConfig().credentials.shop_tokens


def hand_built_world(seed_value: int = 1) -> World:
    """Two shops, ~150 customers each, with the messy cases the emulator must serve right."""
    rng = random.Random(seed_value)
    world = World(seed=seed_value, customers=300, now_ms=NOW_MS)
    next_id = iter(range(10_000, 10_000_000)).__next__
    for shop_index, shop in enumerate(("northwind", "southwind")):
        sw = ShopWorld(name=shop)
        for p in range(8):
            status = "archived" if p == 6 else "draft" if p == 7 else "active"
            pid = str(next_id())
            variants = [ShopVariant(str(next_id()), f"SKU-{shop_index}-{p}-{v}", 1000 + 250 * v,
                                    f"Size {v}") for v in range(1 + p % 3)]
            created = NOW_MS - (400 - p) * DAY
            sw.products.append(ShopProduct(pid, f"product-{p:05d}", created, created + DAY,
                                           status == "archived", shop, f"Gadget {p}", variants,
                                           status))
        # ids 900..1049 cross the 3→4 digit boundary: paging must follow numbers, not text
        for n in range(150):
            cid = str(900 + n + shop_index * 1000)
            created = NOW_MS - rng.randint(30, 700) * DAY
            sw.customers.append(ShopCustomer(
                record_id=cid, entity_id=f"person-{n + shop_index * 75:07d}",
                created_ms=created, updated_ms=created + rng.randint(0, 20) * DAY,
                archived=n % 37 == 5, shop=shop,
                email=None if n % 29 == 3 else f"user{n}@example.com",
                first_name=f"First{n}", last_name=f"Last{n}",
                phone=None if n % 4 == 0 else f"+1212555{n:04d}",
                address=None if n % 11 == 0 else Address(f"{n} Main St", "Springfield",
                                                          f"{62700 + n}", "US", "IL"),
                accepts_marketing=n % 3 == 0, state="enabled"))
        live = [c for c in sw.customers if not c.archived]
        for k in range(200):
            oid = str(next_id())
            buyer = rng.choice(live) if k % 23 else None
            chosen = rng.sample(sw.products[:6], rng.randint(1, 3))
            lines = [ShopLineItem(str(next_id()), p.record_id, p.variants[0].record_id,
                                  p.variants[0].sku, p.title, rng.randint(1, 3),
                                  p.variants[0].price_cents) for p in chosen]
            subtotal = sum(li.price_cents * li.quantity for li in lines)
            created = NOW_MS - rng.randint(1, 300) * DAY
            cancelled = k % 17 == 4
            sw.orders.append(ShopOrder(
                record_id=oid, entity_id=f"order-{shop_index}{k:06d}", created_ms=created,
                updated_ms=created + DAY // 2, archived=cancelled, shop=shop,
                name=f"#{1001 + k}", order_number=1001 + k,
                customer_record_id=buyer.record_id if buyer else None,
                email=buyer.email if buyer else "guest@example.com", currency="USD",
                financial_status="voided" if cancelled else rng.choice(
                    ["paid", "paid", "pending", "refunded"]),
                cancelled_ms=created + DAY // 2 if cancelled else None, line_items=lines,
                total_cents=subtotal + subtotal // 10))
        rng.shuffle(sw.customers)  # the seeder must sort by id itself
        world.shops[shop] = sw
    world.breaks.append(Break("order_without_invoice", "shop", "northwind/10100", "no invoice"))
    world.breaks.append(Break("duplicate_contact", "crm", "123", "not a shop break"))
    return world


@functools.lru_cache(maxsize=1)
def shared_world() -> World:
    """The shared world: the generator's once it exists, else the hand-built one."""
    try:
        generate = importlib.import_module("sandbox.world.generate").generate
    except ModuleNotFoundError:
        return hand_built_world()
    world: World = generate(300, seed=1)
    return world


@dataclass
class ShopEnv:
    """A seeded shop emulator: its context, store and a test client."""

    ctx: SystemContext
    store: Store
    client: TestClient
    world: World

    def get(self, shop: str, path: str, **params: Any) -> httpx.Response:
        return self.client.get(f"/shops/{shop}/admin/api/2021-10/{path}", params=params,
                               headers={"X-Shopify-Access-Token": TOKENS[shop]})


def make_env(tmp_path: Path, limits: Limits | None = None,
             world: World | None = None) -> Iterator[ShopEnv]:
    world = world or shared_world()
    store = Store(tmp_path / "shop.sqlite")
    seed(world, store)
    config = SandboxConfig(limits=limits or Limits(enabled=False))
    ctx = SystemContext("shop", tmp_path, config, store)
    with TestClient(build_app(ctx)) as client:
        yield ShopEnv(ctx, store, client, world)
    store.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopEnv]:
    """One seeded emulator for this module's read-only tests."""
    yield from make_env(tmp_path_factory.mktemp("shop"))


# -- seed tests --------------------------------------------------------------------------------
def test_seed_writes_one_table_per_shop_and_type(env: ShopEnv) -> None:
    objects = set(env.store.objects())
    for shop, sw in env.world.shops.items():
        assert {table(shop, "customers"), table(shop, "orders"), table(shop, "products")} <= objects
        assert env.store.count(table(shop, "customers")) == len(sw.customers)
        assert env.store.count(table(shop, "orders")) == len(sw.orders)
        assert env.store.count(table(shop, "products")) == len(sw.products)


def test_store_order_is_numeric_id_order(env: ShopEnv) -> None:
    for shop in env.world.shops:
        ids = [int(d.id) for d in env.store.iter_all(table(shop, "customers"))]
        assert ids == sorted(ids)


def test_truth_rows_name_served_records_by_shop_and_id(env: ShopEnv) -> None:
    truth = {(obj, rid): entity for obj, rid, entity in env.store.truth_rows()}
    for shop, sw in env.world.shops.items():
        for c in sw.customers:
            key = ("customers", f"{shop}/{c.record_id}")
            if c.archived:
                assert key not in truth  # deleted in Shopify: never served
            else:
                assert truth[key] == c.entity_id
        for o in sw.orders:
            assert truth[("orders", f"{shop}/{o.record_id}")] == o.entity_id
        for p in sw.products:
            assert truth[("products", f"{shop}/{p.record_id}")] == p.entity_id


def test_only_shop_breaks_are_written(env: ShopEnv) -> None:
    expected = [(b.kind, b.record_id, b.detail) for b in env.world.breaks if b.system == "shop"]
    assert env.store.break_rows() == expected


def test_customer_is_served_in_shopify_shape(env: ShopEnv) -> None:
    shop, sw = next(iter(env.world.shops.items()))
    c = next(c for c in sw.customers if not c.archived and c.address and c.email)
    body = env.get(shop, f"customers/{c.record_id}.json").json()["customer"]
    assert body["id"] == int(c.record_id)
    assert body["email"] == c.email
    assert body["admin_graphql_api_id"] == f"gid://shopify/Customer/{c.record_id}"
    assert body["default_address"]["zip"] == c.address.postcode  # type: ignore[union-attr]
    assert body["default_address"] == body["addresses"][0]
    assert body["default_address"]["default"] is True
    assert body["created_at"][-6:] in ("-04:00", "+01:00")
    assert isinstance(body["total_spent"], str)


def test_orders_carry_status_counts_and_totals(env: ShopEnv) -> None:
    for shop, sw in env.world.shops.items():
        for o in sw.orders[:60]:
            body = env.get(shop, f"orders/{o.record_id}.json").json()["order"]
            assert body["name"] == o.name and body["order_number"] == o.order_number
            assert body["total_price"] == f"{o.total_cents // 100}.{o.total_cents % 100:02d}"
            assert [li["id"] for li in body["line_items"]] == [
                int(li.record_id) for li in o.line_items]
            cancelled = o.archived or o.cancelled_ms is not None
            assert (body["cancelled_at"] is not None) == cancelled
            if cancelled:
                assert body["current_total_price"] == "0.00"
            if o.customer_record_id is not None:
                assert body["customer"]["id"] == int(o.customer_record_id)
                assert "email" in body["customer"]


def test_customers_count_their_orders(env: ShopEnv) -> None:
    shop, sw = next(iter(env.world.shops.items()))
    per_customer: dict[str, int] = {}
    for o in sw.orders:
        if o.customer_record_id:
            per_customer[o.customer_record_id] = per_customer.get(o.customer_record_id, 0) + 1
    busy = max(per_customer, key=lambda k: per_customer[k])
    if next(c for c in sw.customers if c.record_id == busy).archived:
        return
    body = env.get(shop, f"customers/{busy}.json").json()["customer"]
    assert body["orders_count"] == per_customer[busy]
    last = max((o for o in sw.orders if o.customer_record_id == busy), key=lambda o: o.created_ms)
    assert body["last_order_id"] == int(last.record_id) and body["last_order_name"] == last.name
