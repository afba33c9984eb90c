"""Realistic changes in every shop: customers edit their phone, address or marketing consent,
new customers sign up, customers place orders and cancel some; each change gets a fresh
``updated_at`` (real now) and Shopify's signed webhooks.

A customer placing or cancelling an order is a customer update too (orders count, total
spent), as in Shopify; counts never count one record twice.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sandbox.context import SystemContext
from sandbox.shop import customers as customer_writes
from sandbox.shop.bulk import put_docs, transaction
from sandbox.shop.render import cents, iso, money, order_address, order_record
from sandbox.shop.resources import customer_doc, email_taken, order_doc
from sandbox.shop.shops import (
    ORDER_NUMBER_COUNTER,
    default_currency,
    new_id,
    seeded_shops,
    table,
    utc_offset_minutes,
)
from sandbox.shop.views import customer_view, order_views
from sandbox.shop.webhooks import deliver
from sandbox.store import Doc, Store
from sandbox.webhooks import now_ms
from sandbox.world.model import ShopLineItem, ShopOrder
from sandbox.world.names import person_name

Json = dict[str, Any]

_STREETS = ("Main St", "Oak Avenue", "High Street", "Station Road", "Elm Street",
            "Park Lane", "Mill Road", "Church Street", "Lake View", "River Walk")


def fake_phone(rng: random.Random, country: str | None) -> str:
    """A plausible E.164 mobile number for a country.

    >>> fake_phone(random.Random(1), "GB").startswith("+447")
    True
    """
    if country == "GB":
        return f"+447{rng.randint(400_000_000, 999_999_999)}"
    if country == "DE":
        return f"+4915{rng.randint(10_000_000, 99_999_999)}"
    if country == "FR":
        return f"+336{rng.randint(10_000_000, 99_999_999)}"
    return f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def sample_docs(store: Store, obj: str, k: int, where: str, rng: random.Random) -> list[Doc]:
    """About ``k`` random rows of ``obj`` matching ``where`` (by random row numbers)."""
    last = store.query(obj, order="seq DESC", limit=1)
    if k <= 0 or not last:
        return []
    top = last[0].seq or 0
    picked: dict[str, Doc] = {}
    for _attempt in range(4):
        need = k - len(picked)
        if need <= 0:
            break
        seqs = rng.sample(range(1, top + 1), min(top, need * 3))
        for start in range(0, len(seqs), 500):
            part = seqs[start:start + 500]
            rows = store.query(obj, f"({where}) AND seq IN ({','.join('?' * len(part))})",
                               tuple(part))
            for doc in rows:
                if len(picked) < k:
                    picked.setdefault(doc.id, doc)
    return list(picked.values())


def default_address(customer: Json) -> Json:
    """A stored customer's default address (empty when it has none)."""
    return next((a for a in customer.get("addresses") or [] if a.get("default")), {})


def _entity_of(store: Store, obj: str, record_id: str) -> str | None:
    with store.lock:
        row = store.conn.execute("SELECT entity_id FROM truth WHERE object = ? AND "
                                 "record_id = ?", (obj, record_id)).fetchone()
    return None if row is None else str(row[0])


class ShopMutation:
    """One shop's changes, gathered in memory and written at the end."""

    def __init__(self, ctx: SystemContext, shop: str, rng: random.Random) -> None:
        self.ctx, self.shop, self.rng = ctx, shop, rng
        self.store = ctx.store
        self.offset = utc_offset_minutes(shop)
        self.now = now_ms()
        self.customers: dict[str, Json] = {}  # touched customers, by id
        self.created_customers: set[str] = set()
        self.orders: dict[str, Json] = {}
        self.created_orders: set[str] = set()
        self.cancelled_orders: set[str] = set()
        self.truth: list[tuple[str, str, str]] = []

    def _new_id(self) -> int:
        return new_id(self.store)

    def _customer(self, doc: Doc) -> Json:
        return self.customers.get(doc.id, doc.body)

    def _change_customer(self, body: Json, changes: Json) -> None:
        after = customer_writes.apply_changes(body, changes, now_ms=self.now,
                                              offset=self.offset, new_id=self._new_id)
        if after is not body:
            self.customers[str(after["id"])] = after

    def update_customers(self, k: int) -> None:
        for doc in sample_docs(self.store, table(self.shop, "customers"), k, "archived = 0",
                               self.rng):
            body = self._customer(doc)
            default = default_address(body)
            kind = self.rng.choice(("phone", "address", "accepts_marketing"))
            if kind == "phone":
                changes: Json = {"phone": fake_phone(self.rng, default.get("country_code"))}
            elif kind == "address":
                address: Json = {"address1": f"{self.rng.randint(1, 999)} "
                                             f"{self.rng.choice(_STREETS)}",
                                 "zip": default.get("zip") or f"{self.rng.randint(10000, 99999)}",
                                 "city": default.get("city") or "Springfield",
                                 "country_code": default.get("country_code") or "US"}
                if default.get("id") is not None:
                    address["id"] = default["id"]
                changes = {"addresses": [address]}
            else:
                changes = {"accepts_marketing": not body.get("accepts_marketing")}
            self._change_customer(body, changes)

    def create_customers(self, k: int, other_shops: list[str]) -> None:
        for _ in range(k):
            changes, entity = self._cross_shop_customer(other_shops)
            cid = self._new_id()
            if changes is None:
                first, last = person_name(self.rng)
                changes = {
                    "first_name": first, "last_name": last,
                    "email": f"{first}.{last}.{cid}@example.com".lower(),
                    "phone": fake_phone(self.rng, "US"),
                    "accepts_marketing": self.rng.random() < 0.4,
                    "addresses": [{"address1": f"{self.rng.randint(1, 999)} "
                                               f"{self.rng.choice(_STREETS)}",
                                   "city": "Springfield", "zip": "62701", "country_code": "US"}],
                }
                entity = f"person-{self.shop}-{cid}"
            body = customer_writes.new_customer(cid, changes, now_ms=self.now,
                                                offset=self.offset,
                                                currency=default_currency(self.shop),
                                                new_id=self._new_id)
            self.customers[str(cid)] = body
            self.created_customers.add(str(cid))
            self.truth.append(("customers", f"{self.shop}/{cid}", str(entity)))

    def _cross_shop_customer(self, other_shops: list[str]) -> tuple[Json | None, str | None]:
        """A customer of another shop who now also buys here (same person, same email)."""
        if not other_shops:
            return None, None
        other = self.rng.choice(other_shops)
        for doc in sample_docs(self.store, table(other, "customers"), 3, "archived = 0",
                               self.rng):
            email = doc.body.get("email")
            taken = email and email_taken(self.store, self.shop, email, None)
            entity = _entity_of(self.store, "customers", f"{other}/{doc.id}")
            if email and not taken and entity:
                keep = ("first_name", "last_name", "email", "phone", "accepts_marketing")
                changes = {k: doc.body.get(k) for k in keep}
                default = default_address(doc.body)
                if default:
                    changes["addresses"] = [{k: default.get(k) for k in (
                        "address1", "city", "zip", "province", "country_code")}]
                return changes, entity
        return None, None

    def place_orders(self, k: int) -> None:
        products = [d.body for d in self.store.query(table(self.shop, "products"),
                                                     "key = 'active'")]
        variants = [(p, v) for p in products for v in p["variants"]]
        if not variants:
            return
        buyers = sample_docs(self.store, table(self.shop, "customers"), k, "archived = 0",
                             self.rng)
        for doc in buyers:
            customer = self._customer(doc)
            oid = self._new_id()
            number = self.store.next_id(ORDER_NUMBER_COUNTER.format(shop=self.shop), 1000)
            lines = []
            for p, v in self.rng.sample(variants, min(len(variants), self.rng.randint(1, 3))):
                lines.append(ShopLineItem(
                    record_id=str(self._new_id()), product_record_id=str(p["id"]),
                    variant_record_id=str(v["id"]), sku=v["sku"], title=p["title"],
                    quantity=self.rng.randint(1, 3), price_cents=cents(v["price"])))
            total = sum(li.price_cents * li.quantity for li in lines)
            paid = self.rng.random() < 0.8
            order = ShopOrder(
                record_id=str(oid), entity_id=f"order-{self.shop}-{oid}", created_ms=self.now,
                updated_ms=self.now, archived=False, shop=self.shop, name=f"#{number}",
                order_number=number, customer_record_id=str(customer["id"]),
                email=customer.get("email"), currency=customer.get("currency") or
                default_currency(self.shop), financial_status="paid" if paid else "pending",
                cancelled_ms=None, line_items=lines, total_cents=total)
            body = order_record(order, offset=self.offset, status="open", closed_ms=None,
                                billing_address=order_address(default_address(customer))
                                if default_address(customer) else None,
                                buyer_accepts_marketing=bool(customer.get("accepts_marketing")))
            self.orders[str(oid)] = body
            self.created_orders.add(str(oid))
            self.truth.append(("orders", f"{self.shop}/{oid}", order.entity_id))
            self._order_placed(customer, body, total if paid else 0)

    def _order_placed(self, customer: Json, order: Json, spent_cents: int) -> None:
        after = {**customer, "orders_count": int(customer.get("orders_count") or 0) + 1,
                 "total_spent": money(cents(customer.get("total_spent") or "0") + spent_cents),
                 "last_order_id": order["id"], "last_order_name": order["name"],
                 "updated_at": iso(self.now, self.offset)}
        self.customers[str(after["id"])] = after

    def cancel_orders(self, k: int) -> None:
        for doc in sample_docs(self.store, table(self.shop, "orders"), k, "key = 'open'",
                               self.rng):
            if doc.id in self.orders:
                continue
            order = dict(doc.body)
            was_paid = order.get("financial_status") == "paid"
            order.update({
                "cancelled_at": iso(self.now, self.offset), "cancel_reason": "customer",
                "financial_status": "refunded" if was_paid else "voided",
                "updated_at": iso(self.now, self.offset),
            })
            self.orders[doc.id] = order
            self.cancelled_orders.add(doc.id)
            stub = order.get("customer") or {}
            if was_paid and stub.get("id") is not None:
                cdoc = self.store.get(table(self.shop, "customers"), str(stub["id"]))
                if cdoc is not None and not cdoc.archived:
                    customer = self._customer(cdoc)
                    spent = max(cents(customer.get("total_spent") or "0") -
                                cents(order["total_price"]), 0)
                    self.customers[cdoc.id] = {**customer, "total_spent": money(spent),
                                               "updated_at": iso(self.now, self.offset)}

    def write(self) -> None:
        store = self.store
        with transaction(store):
            put_docs(store, table(self.shop, "customers"),
                     [customer_doc(b, self.now) for b in self.customers.values()])
            put_docs(store, table(self.shop, "orders"),
                     [order_doc(b, self.now, "cancelled" if k in self.cancelled_orders
                                else "open") for k, b in self.orders.items()])
            store.add_truth(self.truth)

    def notify(self) -> None:
        for cid, body in self.customers.items():
            topic = "customers/create" if cid in self.created_customers else "customers/update"
            deliver(self.ctx, self.shop, topic, customer_view(body))
        served = order_views(self.store, self.shop, list(self.orders.values()))
        for order in served:
            oid = str(order["id"])
            if oid in self.created_orders:
                deliver(self.ctx, self.shop, "orders/create", order)
            else:
                deliver(self.ctx, self.shop, "orders/cancelled", order)
                deliver(self.ctx, self.shop, "orders/updated", order)

    def counts(self) -> Counter[str]:
        created = len(self.created_customers)
        return Counter({
            "customers_updated": len(self.customers) - created,
            "customers_created": created,
            "orders_created": len(self.created_orders),
            "orders_cancelled": len(self.cancelled_orders),
        })


def _share(total: int, fraction: float, part: float = 1.0) -> int:
    """How many of ``total`` records to change (at least one when there are any).

    >>> _share(1000, 0.01), _share(1000, 0.01, 0.2), _share(0, 0.5)
    (10, 2, 0)
    """
    return max(1, round(total * fraction * part)) if total else 0


def mutate(ctx: SystemContext, fraction: float, rng: random.Random) -> dict[str, int]:
    """Change about ``fraction`` of each shop's customers (and some orders); send webhooks.

    Returns ``updated`` / ``created`` / ``archived`` (cancelled orders) and a per-object
    breakdown (``customers_updated``, ``customers_created``, ``orders_created``,
    ``orders_cancelled``).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    totals: Counter[str] = Counter()
    shops = seeded_shops(ctx.store)
    for shop in shops:
        store = ctx.store
        n_customers = store.count(table(shop, "customers"), "archived = 0")
        n_orders = store.count(table(shop, "orders"))
        m = ShopMutation(ctx, shop, rng)
        m.update_customers(_share(n_customers, fraction))
        m.create_customers(_share(n_customers, fraction, 0.2), [s for s in shops if s != shop])
        m.place_orders(_share(n_orders, fraction, 0.5))
        m.cancel_orders(_share(n_orders, fraction, 0.2))
        m.write()
        m.notify()
        totals.update(m.counts())
    return {
        "updated": totals["customers_updated"],
        "created": totals["customers_created"] + totals["orders_created"],
        "archived": totals["orders_cancelled"],
        **{k: totals[k] for k in ("customers_updated", "customers_created", "orders_created",
                                  "orders_cancelled")},
    }
