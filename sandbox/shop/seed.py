"""Render the world's shops into the store: customers, products (variants nested) and orders
(line items nested, customer filled in when served), one table per shop and type.

Rows go in id order, in chunks, so that store order is Shopify's id order (paging relies on
it). Deleted (archived) customers are stored but never served and get no truth row; archived
orders are cancelled; archived products have status ``archived``.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from goldloop.errors import SandboxError
from sandbox.shop.bulk import big_cache, put_docs, transaction
from sandbox.shop.render import (
    CustomerStats,
    address_record,
    customer_record,
    int_id,
    order_address,
    order_record,
    order_state,
    product_json,
)
from sandbox.shop.resources import customer_doc, order_doc, product_doc
from sandbox.shop.shops import (
    ID_COUNTER,
    ORDER_NUMBER_COUNTER,
    default_currency,
    table,
    utc_offset_minutes,
)
from sandbox.shop.views import vendor
from sandbox.store import Store
from sandbox.world.model import ShopOrder, ShopWorld, World

T = TypeVar("T")
Json = dict[str, Any]
CHUNK = 20_000
_SPENDING = ("paid", "partially_paid", "partially_refunded")


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items.

    >>> [len(c) for c in chunks(range(5), 2)]
    [2, 2, 1]
    """
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def customer_stats(orders: Iterable[ShopOrder]) -> dict[str, CustomerStats]:
    """Orders count, money spent and last order per customer record id."""
    stats: dict[str, CustomerStats] = {}
    for o in orders:
        if o.customer_record_id is None:
            continue
        s = stats.get(o.customer_record_id)
        if s is None:
            s = stats[o.customer_record_id] = CustomerStats()
        s.orders_count += 1
        cancelled = o.archived or o.cancelled_ms is not None
        if o.financial_status in _SPENDING and not cancelled:
            s.spent_cents += o.total_cents
        if o.created_ms > s.last_order_ms:
            s.last_order_ms = o.created_ms
            s.last_order_id = int(o.record_id)
            s.last_order_name = o.name
    return stats


def shop_currency(shop: str, orders: list[ShopOrder]) -> str:
    """The currency most of the shop's orders use (the shop's default when it has none)."""
    counts = Counter(o.currency for o in orders)
    return counts.most_common(1)[0][0] if counts else default_currency(shop)


def _seed_customers(name: str, world: ShopWorld, store: Store, currency: str,
                    stats: dict[str, CustomerStats]) -> int:
    offset = utc_offset_minutes(name)
    empty = CustomerStats()
    customers = sorted(world.customers, key=lambda c: int(c.record_id))
    for batch in chunks(customers):
        docs = []
        for c in batch:
            s = stats.get(c.record_id, empty)
            updated = max(c.updated_ms, s.last_order_ms)  # an order touches its customer
            body = customer_record(c, offset=offset, currency=currency, stats=s,
                                   updated_ms=updated)
            docs.append(customer_doc(body, updated, deleted=c.archived))
        with transaction(store):
            put_docs(store, table(name, "customers"), docs)
            store.add_truth(("customers", f"{name}/{c.record_id}", c.entity_id)
                            for c in batch if not c.archived)
    return int_id(customers[-1].record_id, "customer") if customers else 0


def _seed_products(name: str, world: ShopWorld, store: Store) -> int:
    offset, seller, max_id = utc_offset_minutes(name), vendor(name), 0
    products = sorted(world.products, key=lambda p: int_id(p.record_id, "product"))
    for batch in chunks(products):
        with transaction(store):
            put_docs(store, table(name, "products"),
                     [product_doc(product_json(p, offset=offset, vendor=seller), p.updated_ms)
                      for p in batch])
            store.add_truth(("products", f"{name}/{p.record_id}", p.entity_id) for p in batch)
        for p in batch:
            max_id = max([max_id, int_id(p.record_id, "product"),
                          *(int_id(v.record_id, "variant") for v in p.variants)])
    return max_id


def _seed_orders(name: str, world: ShopWorld, store: Store, now_ms: int) -> int:
    offset, max_id = utc_offset_minutes(name), 0
    by_id = {c.record_id: c for c in world.customers}
    billing: dict[str, Json | None] = {}  # per buyer: most buy more than once
    orders = sorted(world.orders, key=lambda o: int(o.record_id))
    for batch in chunks(orders):
        docs = []
        for o in batch:
            status, closed_ms = order_state(o, now_ms)
            customer = by_id.get(o.customer_record_id) if o.customer_record_id else None
            if customer is not None and customer.record_id not in billing:
                billing[customer.record_id] = None if customer.address is None else (
                    order_address(address_record(customer.address, address_id=0,
                                                 first_name=customer.first_name,
                                                 last_name=customer.last_name,
                                                 phone=customer.phone)))
            body = order_record(o, offset=offset, status=status, closed_ms=closed_ms,
                                billing_address=billing.get(customer.record_id)
                                if customer is not None else None,
                                buyer_accepts_marketing=bool(customer and
                                                             customer.accepts_marketing))
            docs.append(order_doc(body, max(o.updated_ms, closed_ms or 0), status))
            if o.line_items:
                max_id = max(max_id, *(int(li.record_id) for li in o.line_items))
        with transaction(store):
            put_docs(store, table(name, "orders"), docs)
            store.add_truth(("orders", f"{name}/{o.record_id}", o.entity_id) for o in batch)
    if orders:
        max_id = max(max_id, int_id(orders[-1].record_id, "order"))
        last_number = max(o.order_number for o in orders)
        store.meta_set(f"counter:{ORDER_NUMBER_COUNTER.format(shop=name)}", str(last_number))
    return max_id


def seed_shop(name: str, world: ShopWorld, now_ms: int, store: Store) -> int:
    """Write one shop's records and truth rows; returns the largest id it used."""
    for obj in ("customers", "products", "orders"):
        store.ensure(table(name, obj))  # an empty shop still has its (empty) tables
    try:
        currency = shop_currency(name, world.orders)
        stats = customer_stats(world.orders)
        return max(_seed_customers(name, world, store, currency, stats),
                   _seed_products(name, world, store),
                   _seed_orders(name, world, store, now_ms))
    except ValueError as exc:
        raise SandboxError(f"shop {name}: a record id is not an integer ({exc})",
                           hint="the world generator must give shop records numeric ids") from exc


def seed(world: World, store: Store) -> None:
    """Render every shop of ``world`` into ``store``, with truth rows and the shop's breaks."""
    max_id = 0
    # Millions of short-lived dicts and no reference cycles: the cyclic collector would only
    # rescan the world's objects over and over (about a third of the time at 100k customers).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with big_cache(store):
            for name, shop_world in sorted(world.shops.items()):
                max_id = max(max_id, seed_shop(name, shop_world, world.now_ms, store))
    finally:
        if collecting:
            gc.enable()
    current = store.meta_get(f"counter:{ID_COUNTER}")
    store.meta_set(f"counter:{ID_COUNTER}", str(max(max_id, int(current or 0))))
    with transaction(store):
        store.add_breaks((b.kind, b.record_id, b.detail) for b in world.breaks
                         if b.system == "shop")
