"""Shopify records as they land in raw_shop: shop-scoped ids, UTC times, exact money, delete flag.

Shopify ids are integers per shop; goldloop keys every row by ``record_id = "<shop>/<id>"`` so two
shops' records never collide. Times arrive in each shop's own UTC offset and are stored as UTC
instants; money arrives as decimal strings and is stored as exact decimals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pipelines.common.deletes import flag_deleted

Record = dict[str, Any]

MONEY_FIELDS = frozenset({
    "total_spent", "price", "compare_at_price", "total_discount", "subtotal_price", "total_price",
    "total_tax", "total_discounts", "total_line_items_price", "current_subtotal_price",
    "current_total_price", "current_total_tax", "current_total_discounts", "total_outstanding",
    "total_tip_received",
})


def record_id(shop: str, shopify_id: Any) -> str:
    """The warehouse key of a Shopify record: unique across shops.

    >>> record_id("northwind", 1001)
    'northwind/1001'
    """
    return f"{shop}/{shopify_id}"


def parse_time(value: Any) -> Any:
    """An ISO 8601 time with offset as a UTC datetime; anything else unchanged.

    >>> parse_time("2026-10-01T12:00:00-04:00")
    datetime.datetime(2026, 10, 1, 16, 0, tzinfo=datetime.timezone.utc)
    >>> parse_time(None), parse_time("soon")
    (None, 'soon')
    """
    if not isinstance(value, str) or len(value) < 10:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_money(value: Any) -> Any:
    """A money string as an exact decimal; anything else unchanged.

    >>> parse_money("1234.50"), parse_money(None), parse_money("n/a")
    (Decimal('1234.50'), None, 'n/a')
    """
    if not isinstance(value, str):
        return value
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def typed(row: Record) -> Record:
    """Times (``*_at``) to UTC datetimes and money fields to decimals, at the top level (in place).

    >>> typed({"price": "9.90", "updated_at": "2026-01-01T01:00:00+01:00", "title": "T"})
    {'price': Decimal('9.90'), 'updated_at': datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), 'title': 'T'}
    """  # noqa: E501
    for key, value in row.items():
        if key.endswith("_at"):
            row[key] = parse_time(value)
        elif key in MONEY_FIELDS:
            row[key] = parse_money(value)
    return row


def scoped(row: Record, shop: str) -> Record:
    """``row`` typed, with its shop and shop-scoped ``record_id`` (in place).

    >>> scoped({"id": 7}, "southwind")
    {'id': 7, 'shop': 'southwind', 'record_id': 'southwind/7'}
    """
    typed(row)
    row["shop"] = shop
    row["record_id"] = record_id(shop, row.get("id"))
    return row


def _children(row: Record, key: str, shop: str) -> None:
    children = row.get(key)
    if isinstance(children, list):
        row[key] = [scoped(child, shop) if isinstance(child, dict) else child
                    for child in children]


def customer_row(shop: str) -> Callable[[Record], Record]:
    """The map of one shop's customers (listed customers are live; deletes come from a sweep)."""

    def apply(row: Record) -> Record:
        return flag_deleted(scoped(row, shop), False)

    return apply


def order_row(shop: str) -> Callable[[Record], Record]:
    """The map of one shop's orders: a cancelled order is flagged; line items scoped too.

    >>> row = order_row("n")({"id": 1, "cancelled_at": "2026-01-01T00:00:00Z",
    ...                       "customer": {"id": 5, "email": "a@b.c"}, "line_items": [{"id": 2}]})
    >>> row["_goldloop_deleted"], row["customer"], row["customer_record_id"]
    (True, {'id': 5}, 'n/5')
    >>> row["line_items"][0]["record_id"]
    'n/2'
    """

    def apply(row: Record) -> Record:
        scoped(row, shop)
        customer = row.get("customer")
        if isinstance(customer, dict) and customer.get("id") is not None:
            # the embedded customer is a copy of a customers row: keep only the link
            row["customer"] = {"id": customer["id"]}
            row["customer_record_id"] = record_id(shop, customer["id"])
        _children(row, "line_items", shop)
        return flag_deleted(row, row.get("cancelled_at") is not None)

    return apply


def product_row(shop: str) -> Callable[[Record], Record]:
    """The map of one shop's products: an archived product is flagged; variants scoped too.

    >>> product_row("n")({"id": 1, "status": "archived", "variants": [{"id": 3}]})["variants"]
    [{'id': 3, 'shop': 'n', 'record_id': 'n/3'}]
    """

    def apply(row: Record) -> Record:
        scoped(row, shop)
        _children(row, "variants", shop)
        return flag_deleted(row, str(row.get("status") or "").lower() == "archived")

    return apply
