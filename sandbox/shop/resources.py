"""How the shop's records sit in the store: one table per shop and object type
(``northwind__customers``...), with the columns the filters use (see :mod:`sandbox.shop.filters`).
Bodies are the compact stored forms of :mod:`sandbox.shop.render`; :mod:`sandbox.shop.views`
turns them into what is served.
"""

from __future__ import annotations

from typing import Any

from sandbox.shop.render import floor_second
from sandbox.shop.shops import table
from sandbox.store import Doc, Store

Json = dict[str, Any]


def customer_doc(body: Json, updated_ms: int, *, deleted: bool = False) -> Doc:
    """A customer row: ``key`` is the trimmed, lower-cased email; ``archived`` means deleted."""
    email = body.get("email")
    key = email.strip().lower() if isinstance(email, str) and email.strip() else None
    return Doc(id=str(body["id"]), updated_ms=floor_second(updated_ms), body=body,
               archived=deleted, key=key)


def order_doc(body: Json, updated_ms: int, status: str) -> Doc:
    """An order row: ``key`` is ``open|closed|cancelled``, ``archived`` means cancelled."""
    return Doc(id=str(body["id"]), updated_ms=floor_second(updated_ms), body=body,
               archived=status == "cancelled", key=status)


def order_status(body: Json) -> str:
    """An order body's status filter value.

    >>> order_status({"cancelled_at": None, "closed_at": "2026-01-01T00:00:00Z"})
    'closed'
    """
    if body.get("cancelled_at"):
        return "cancelled"
    return "closed" if body.get("closed_at") else "open"


def product_doc(body: Json, updated_ms: int) -> Doc:
    """A product row: ``key`` is the status, ``archived`` means status archived."""
    return Doc(id=str(body["id"]), updated_ms=floor_second(updated_ms), body=body,
               archived=body["status"] == "archived", key=body["status"])


def live_customer(store: Store, shop: str, customer_id: str) -> Doc | None:
    """A customer that is not deleted, or None."""
    doc = store.get(table(shop, "customers"), customer_id)
    return doc if doc is not None and not doc.archived else None


def email_taken(store: Store, shop: str, email: str, except_id: str | None) -> bool:
    """Whether another live customer of ``shop`` already has ``email`` (case-insensitive)."""
    return any(not d.archived and d.id != except_id
               for d in store.find_by_key(table(shop, "customers"), email.strip().lower()))
