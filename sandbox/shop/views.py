"""Stored (compact) shop records → the JSON Shopify serves.

Adds what the store does not keep: constant fields (``confirmed``, ``tax_exemptions``...),
derived ones (``admin_graphql_api_id``, ``default_address``, ``processed_at``, country names,
``current_total_price``...) and an order's live ``customer``. Webhook bodies are views too.

>>> view = customer_view({"id": 7, "email": "a@b.co", "addresses": [
...     {"id": 70, "first_name": "A", "last_name": "B", "country_code": "GB", "default": True}]})
>>> view["default_address"]["country"], view["default_address"]["name"], view["tax_exempt"]
('United Kingdom', 'A B', False)
"""

from __future__ import annotations

from typing import Any

from sandbox.shop.render import country_name, gid
from sandbox.shop.shops import table
from sandbox.store import Store

Json = dict[str, Any]


def _country(address: Json) -> str | None:
    code = address.get("country_code")
    return country_name(code) if code else address.get("country")


def _name(address: Json) -> str:
    return " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)


def address_view(address: Json, customer_id: int) -> Json:
    """One entry of a customer's ``addresses`` (and its ``default_address``)."""
    country = _country(address)
    return {
        "id": address["id"], "customer_id": customer_id,
        "first_name": address.get("first_name"), "last_name": address.get("last_name"),
        "company": address.get("company"), "address1": address.get("address1"),
        "address2": address.get("address2"), "city": address.get("city"),
        "province": address.get("province"), "country": country, "zip": address.get("zip"),
        "phone": address.get("phone"), "name": _name(address),
        "province_code": address.get("province_code"),
        "country_code": address.get("country_code"), "country_name": country,
        "default": bool(address.get("default")),
    }


def customer_view(stored: Json) -> Json:
    """A customer as ``customers.json`` and ``customers/{id}.json`` serve it."""
    cid = stored["id"]
    addresses = [address_view(a, cid) for a in stored.get("addresses") or []]
    view: Json = {
        "id": cid, "email": stored.get("email"),
        "accepts_marketing": bool(stored.get("accepts_marketing")),
        "created_at": stored.get("created_at"), "updated_at": stored.get("updated_at"),
        "first_name": stored.get("first_name"), "last_name": stored.get("last_name"),
        "orders_count": stored.get("orders_count", 0), "state": stored.get("state", "disabled"),
        "total_spent": stored.get("total_spent", "0.00"),
        "last_order_id": stored.get("last_order_id"), "note": stored.get("note"),
        "verified_email": bool(stored.get("verified_email")),
        "multipass_identifier": stored.get("multipass_identifier"),
        "tax_exempt": bool(stored.get("tax_exempt", False)), "phone": stored.get("phone"),
        "tags": stored.get("tags") or "", "last_order_name": stored.get("last_order_name"),
        "currency": stored.get("currency"),
        "accepts_marketing_updated_at": stored.get("accepts_marketing_updated_at"),
        "marketing_opt_in_level": stored.get("marketing_opt_in_level"),
        "tax_exemptions": [], "admin_graphql_api_id": gid("Customer", cid),
        "addresses": addresses,
    }
    default = next((a for a in addresses if a["default"]), None)
    if default is not None:
        view["default_address"] = default
    return view


def customer_summary(view: Json) -> Json:
    """The customer as nested in an order: the full view without ``addresses``.

    >>> customer_summary({"id": 1, "addresses": [], "email": None})
    {'id': 1, 'email': None}
    """
    return {k: v for k, v in view.items() if k != "addresses"}


def order_address_view(address: Json) -> Json:
    """An order's ``billing_address`` / ``shipping_address``."""
    return {
        "first_name": address.get("first_name"), "address1": address.get("address1"),
        "phone": address.get("phone"), "city": address.get("city"), "zip": address.get("zip"),
        "province": address.get("province"), "country": _country(address),
        "last_name": address.get("last_name"), "address2": address.get("address2"),
        "company": address.get("company"), "name": _name(address),
        "country_code": address.get("country_code"),
        "province_code": address.get("province_code"),
    }


def line_item_view(item: Json, vendor: str, cancelled: bool) -> Json:
    """One ``line_items[]`` entry of an order."""
    return {
        "id": item["id"], "admin_graphql_api_id": gid("LineItem", item["id"]),
        "fulfillable_quantity": 0 if cancelled else item["quantity"],
        "fulfillment_service": "manual", "fulfillment_status": None, "gift_card": False,
        "grams": 0, "name": item["title"], "price": item["price"], "product_exists": True,
        "product_id": item.get("product_id"), "properties": [], "quantity": item["quantity"],
        "requires_shipping": True, "sku": item.get("sku"), "taxable": True,
        "title": item["title"], "total_discount": "0.00", "variant_id": item.get("variant_id"),
        "variant_title": item.get("variant_title"), "vendor": vendor, "tax_lines": [],
        "discount_allocations": [],
    }


def order_view(stored: Json, vendor: str, customer: Json | None = None) -> Json:
    """An order as ``orders.json`` serves it; ``customer`` is the buyer's current view."""
    cancelled = stored.get("cancelled_at") is not None
    view: Json = {
        "id": stored["id"], "admin_graphql_api_id": gid("Order", stored["id"]),
        "buyer_accepts_marketing": bool(stored.get("buyer_accepts_marketing")),
        "cancel_reason": stored.get("cancel_reason", "customer" if cancelled else None),
        "cancelled_at": stored.get("cancelled_at"), "closed_at": stored.get("closed_at"),
        "confirmed": True, "created_at": stored["created_at"], "currency": stored["currency"],
        "current_subtotal_price": stored["subtotal_price"],
        "current_total_price": "0.00" if cancelled else stored["total_price"],
        "current_total_tax": stored["total_tax"], "email": stored.get("email"),
        "financial_status": stored["financial_status"], "fulfillment_status": None,
        "name": stored["name"], "note": stored.get("note"),
        "number": stored["order_number"] - 1000, "order_number": stored["order_number"],
        "phone": stored.get("phone"), "presentment_currency": stored["currency"],
        "processed_at": stored["created_at"], "source_name": "web",
        "subtotal_price": stored["subtotal_price"], "tags": stored.get("tags") or "",
        "taxes_included": False, "test": False, "total_discounts": stored["total_discounts"],
        "total_line_items_price": stored["subtotal_price"],
        "total_price": stored["total_price"], "total_tax": stored["total_tax"],
        "total_weight": 0, "updated_at": stored["updated_at"],
        "line_items": [line_item_view(li, vendor, cancelled) for li in stored["line_items"]],
    }
    if stored.get("billing_address"):
        view["billing_address"] = order_address_view(stored["billing_address"])
        view["shipping_address"] = order_address_view(stored["billing_address"])
    if customer is not None:
        view["customer"] = customer_summary(customer)
    elif stored.get("customer"):
        view["customer"] = dict(stored["customer"])
    return view


def vendor(shop: str) -> str:
    """The vendor name a shop's line items show.

    >>> vendor("northwind")
    'Northwind'
    """
    return shop.title()


def order_views(store: Store, shop: str, orders: list[Json]) -> list[Json]:
    """Views of stored orders, each with its buyer's current record (one query per page).

    A customer deleted after ordering still shows (Shopify keeps customers who have orders).
    """
    ids = sorted({str(o["customer"]["id"]) for o in orders if o.get("customer")})
    found: dict[str, Json] = {}
    if ids:
        rows = store.query(table(shop, "customers"), f"id IN ({','.join('?' * len(ids))})",
                           tuple(ids))
        found = {d.id: customer_view(d.body) for d in rows}
    name = vendor(shop)
    return [order_view(o, name, found.get(str((o.get("customer") or {}).get("id"))))
            for o in orders]
