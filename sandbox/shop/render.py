"""Render world records as the Shopify (Admin REST 2021-10) records the store keeps.

World ids must be numeric strings; the hot renderers call ``int()`` directly (a ``ValueError``
means the world broke that rule, see :func:`int_id`).

Stored customers and orders are *compact*: the fields that carry information, under Shopify's
names (snake_case, integer ids, money as strings, ISO-8601 times with the shop's UTC offset).
:mod:`sandbox.shop.views` adds the constant and derived fields when a record is served, so a
million orders stay small and fast to seed. Products are few and stored whole. An order's
``customer`` is an ``{"id": ...}`` stub, filled in from the live customer when served.

These functions are pure: nothing here touches the store.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.shop.shops import ADDRESS_ID_OFFSET, INVENTORY_ITEM_ID_OFFSET, OPTION_ID_OFFSET
from sandbox.world.model import Address, ShopCustomer, ShopLineItem, ShopOrder, ShopProduct

Json = dict[str, Any]

_COUNTRIES: dict[str, str] = {
    "US": "United States", "CA": "Canada", "GB": "United Kingdom", "IE": "Ireland",
    "DE": "Germany", "FR": "France", "NL": "Netherlands", "BE": "Belgium", "ES": "Spain",
    "IT": "Italy", "PT": "Portugal", "AT": "Austria", "CH": "Switzerland", "SE": "Sweden",
    "NO": "Norway", "DK": "Denmark", "FI": "Finland", "PL": "Poland", "AU": "Australia",
    "NZ": "New Zealand", "JP": "Japan", "MX": "Mexico", "BR": "Brazil", "IN": "India",
    "ZA": "South Africa", "SG": "Singapore",
}
_EPOCH = datetime(1970, 1, 1)


@functools.lru_cache(maxsize=8192)
def _day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")


@functools.lru_cache(maxsize=1)
def _times_of_day() -> tuple[str, ...]:
    return tuple(f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                 for s in range(60))


@functools.lru_cache(maxsize=64)
def _suffix(offset_minutes: int) -> str:
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def iso(ms: int, offset_minutes: int) -> str:
    """Epoch milliseconds as Shopify renders times: whole seconds with the shop's offset.

    (A cached date per day and a table of the day's 86,400 times: a million records call this
    millions of times.)

    >>> iso(1_790_870_400_000, -240)
    '2026-10-01T12:00:00-04:00'
    >>> iso(1_790_870_400_999, 0), iso(-1000, 60)
    ('2026-10-01T16:00:00+00:00', '1970-01-01T00:59:59+01:00')
    """
    days, second = divmod(ms // 1000 + offset_minutes * 60, 86_400)
    return _day(days) + _times_of_day()[second] + _suffix(offset_minutes)


def floor_second(ms: int) -> int:
    """Drop the milliseconds (served times have second precision, filters must agree).

    >>> floor_second(1_700_000_000_999)
    1700000000000
    """
    return ms - ms % 1000


@functools.lru_cache(maxsize=65_536)  # prices repeat across a catalog's line items
def money(cents: int) -> str:
    """Integer cents as Shopify's decimal string.

    >>> money(123456), money(-5), money(0)
    ('1234.56', '-0.05', '0.00')
    """
    if cents < 0:
        return "-" + money(-cents)
    units, hundredths = divmod(cents, 100)
    return f"{units}.{hundredths:02d}"


def cents(amount: str) -> int:
    """A money string back to integer cents.

    >>> cents("1234.56"), cents("7")
    (123456, 700)
    """
    return int((Decimal(amount) * 100).to_integral_value())


def gid(kind: str, record_id: int) -> str:
    """The GraphQL id every REST record also carries.

    >>> gid("Customer", 42)
    'gid://shopify/Customer/42'
    """
    return f"gid://shopify/{kind}/{record_id}"


def country_name(code: str) -> str:
    """English country name for an ISO alpha-2 code (the code itself when unknown).

    >>> country_name("gb"), country_name("XX")
    ('United Kingdom', 'XX')
    """
    return _COUNTRIES.get(code.upper(), code.upper())


def handle(title: str) -> str:
    """Shopify's URL handle for a product title.

    >>> handle("Burton Custom Freestyle 151!")
    'burton-custom-freestyle-151'
    """
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def project(record: Json, fields: list[str] | None) -> Json:
    """Keep only ``fields`` (Shopify's ``fields=`` parameter); all fields when None.

    >>> project({"id": 1, "email": "a@b.c", "phone": None}, ["id", "phone", "nope"])
    {'id': 1, 'phone': None}
    """
    if not fields:
        return record
    return {k: v for k, v in record.items() if k in fields}


def int_id(value: str, what: str) -> int:
    """A world record id as Shopify's integer id.

    >>> int_id("1001", "customer")
    1001
    """
    try:
        return int(value)
    except ValueError:
        from goldloop.errors import SandboxError

        raise SandboxError(f"shop {what} id {value!r} is not an integer",
                           hint="the world generator must give shop records numeric ids") from None


# -- customers --------------------------------------------------------------------------------
@dataclass(slots=True)
class CustomerStats:
    """What a customer's orders add to the customer record."""

    orders_count: int = 0
    spent_cents: int = 0
    last_order_id: int | None = None
    last_order_name: str | None = None
    last_order_ms: int = -1


def address_record(address: Address, *, address_id: int, first_name: str | None,
                   last_name: str | None, phone: str | None, default: bool = True) -> Json:
    """A stored customer address (``views.address_view`` adds names and derived fields)."""
    return {"id": address_id, "first_name": first_name, "last_name": last_name,
            "address1": address.line1, "city": address.city,
            "province": address.region or None, "zip": address.postcode,
            "country_code": address.country_code.upper(), "phone": phone, "default": default}


def customer_record(c: ShopCustomer, *, offset: int, currency: str, stats: CustomerStats,
                    updated_ms: int | None = None) -> Json:
    """One stored customer (``updated_ms`` overrides the record's last edit)."""
    cid = int(c.record_id)
    addresses = []
    if c.address is not None:
        addresses.append(address_record(c.address, address_id=ADDRESS_ID_OFFSET + cid,
                                        first_name=c.first_name, last_name=c.last_name,
                                        phone=c.phone))
    created = iso(c.created_ms, offset)
    return {
        "id": cid, "email": c.email, "accepts_marketing": c.accepts_marketing,
        "created_at": created,
        "updated_at": iso(c.updated_ms if updated_ms is None else updated_ms, offset),
        "first_name": c.first_name, "last_name": c.last_name,
        "orders_count": stats.orders_count, "state": c.state,
        "total_spent": money(stats.spent_cents), "last_order_id": stats.last_order_id,
        "note": None, "verified_email": c.email is not None, "phone": c.phone, "tags": "",
        "last_order_name": stats.last_order_name, "currency": currency,
        "accepts_marketing_updated_at": created,
        "marketing_opt_in_level": "single_opt_in" if c.accepts_marketing else None,
        "addresses": addresses,
    }


# -- orders -----------------------------------------------------------------------------------
def order_state(o: ShopOrder, now_ms: int, close_after_days: int = 14) -> tuple[str, int | None]:
    """``(status, closed_ms)``: cancelled, closed (paid or refunded and old enough), or open.

    Shops that auto-archive close paid orders: a connector that keeps Shopify's default
    ``status=open`` misses them.
    """
    if o.archived or o.cancelled_ms is not None:
        return "cancelled", None
    old = o.created_ms <= now_ms - close_after_days * 86_400_000
    if o.financial_status in ("paid", "refunded") and old:
        return "closed", o.updated_ms
    return "open", None


def line_item_record(li: ShopLineItem) -> Json:
    """One stored ``line_items[]`` entry."""
    return {"id": int(li.record_id), "product_id": int(li.product_record_id),
            "variant_id": int(li.variant_record_id), "sku": li.sku,
            "title": li.title, "quantity": li.quantity, "price": money(li.price_cents)}


def order_address(address: Json) -> Json:
    """A customer address (stored form) as an order's billing / shipping address.

    >>> order_address({"id": 9, "default": True, "first_name": "A", "zip": "1"})
    {'first_name': 'A', 'zip': '1'}
    """
    return {k: v for k, v in address.items() if k not in ("id", "default", "customer_id")}


def order_totals(line_items: list[ShopLineItem], total_cents: int) -> dict[str, int]:
    """Subtotal, tax and discounts that add up to the order's total.

    >>> order_totals([], 500)
    {'subtotal': 0, 'tax': 500, 'discounts': 0}
    """
    subtotal = sum(li.price_cents * li.quantity for li in line_items)
    diff = total_cents - subtotal
    return {"subtotal": subtotal, "tax": max(diff, 0), "discounts": max(-diff, 0)}


def order_record(o: ShopOrder, *, offset: int, status: str, closed_ms: int | None,
                 billing_address: Json | None = None,
                 buyer_accepts_marketing: bool = False) -> Json:
    """One stored order; ``customer`` is an id stub, filled in when served.

    ``billing_address`` is the buyer's address at the time (see :func:`order_address`).
    """
    cancelled = status == "cancelled"
    cancelled_ms = o.cancelled_ms if o.cancelled_ms is not None else (
        o.updated_ms if cancelled else None)
    totals = order_totals(o.line_items, o.total_cents)
    body: Json = {
        "id": int(o.record_id), "name": o.name, "order_number": o.order_number,
        "email": o.email, "created_at": iso(o.created_ms, offset),
        "updated_at": iso(o.updated_ms, offset),
        "cancelled_at": iso(cancelled_ms, offset) if cancelled_ms is not None else None,
        "closed_at": iso(closed_ms, offset) if closed_ms is not None else None,
        "financial_status": o.financial_status, "currency": o.currency,
        "total_price": money(o.total_cents), "subtotal_price": money(totals["subtotal"]),
        "total_tax": money(totals["tax"]), "total_discounts": money(totals["discounts"]),
        "buyer_accepts_marketing": buyer_accepts_marketing,
        "line_items": [line_item_record(li) for li in o.line_items],
    }
    if o.customer_record_id is not None:
        body["customer"] = {"id": int(o.customer_record_id)}
    if billing_address is not None:
        body["billing_address"] = billing_address
    return body


# -- products ---------------------------------------------------------------------------------
def product_json(p: ShopProduct, *, offset: int, vendor: str) -> Json:
    """One product with its variants nested."""
    pid = int_id(p.record_id, "product")
    created, updated = iso(p.created_ms, offset), iso(p.updated_ms, offset)
    variants = []
    for position, v in enumerate(p.variants, start=1):
        vid = int_id(v.record_id, "variant")
        stock = vid % 200
        variants.append({
            "id": vid, "product_id": pid, "title": v.title, "price": money(v.price_cents),
            "sku": v.sku, "position": position, "inventory_policy": "deny",
            "compare_at_price": None, "fulfillment_service": "manual",
            "inventory_management": "shopify", "option1": v.title, "created_at": created,
            "updated_at": updated, "taxable": True, "grams": 0, "weight": 0,
            "weight_unit": "kg", "inventory_item_id": INVENTORY_ITEM_ID_OFFSET + vid,
            "inventory_quantity": stock, "old_inventory_quantity": stock,
            "requires_shipping": True, "admin_graphql_api_id": gid("ProductVariant", vid),
        })
    return {
        "id": pid, "title": p.title, "body_html": "", "vendor": vendor, "product_type": "",
        "created_at": created, "handle": handle(p.title), "updated_at": updated,
        "published_at": created if p.status == "active" else None, "template_suffix": None,
        "status": p.status, "published_scope": "web", "tags": "",
        "admin_graphql_api_id": gid("Product", pid), "variants": variants,
        "options": [{"id": OPTION_ID_OFFSET + pid, "product_id": pid, "name": "Title",
                     "position": 1, "values": [v.title for v in p.variants]}],
        "images": [],
    }
