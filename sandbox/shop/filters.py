"""Shopify list filters as SQL over the store's columns (and the JSON body where needed).

Column use per table: customers ``key`` = lower-cased email and ``archived`` = deleted (never
served); orders ``key`` = ``open|closed|cancelled`` and ``archived`` = cancelled; products
``key`` = status and ``archived`` = status archived. ``updated_ms`` has whole seconds, like the
``updated_at`` Shopify serves.

>>> where, args = customer_filters({"updated_at_min": "2026-01-01T00:00:00Z"}, 0)
>>> where, args
('archived = 0 AND updated_ms >= ?', (1767225600000,))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from sandbox.shop.errors import invalid_param
from sandbox.shop.render import iso

Filters = Mapping[str, str]
Where = tuple[str, tuple[Any, ...]]

_COMMON = frozenset({"ids", "since_id", "created_at_min", "created_at_max", "updated_at_min",
                     "updated_at_max"})
CUSTOMER_FILTERS = _COMMON
ORDER_FILTERS = _COMMON | {"status", "financial_status", "fulfillment_status",
                           "processed_at_min", "processed_at_max", "attribution_app_id"}
PRODUCT_FILTERS = _COMMON | {"title", "vendor", "handle", "product_type", "status",
                             "collection_id", "published_at_min", "published_at_max",
                             "published_status", "presentment_currencies"}
SEARCH_FILTERS = frozenset({"query", "order"})

ORDER_STATUSES = ("open", "closed", "cancelled", "any")
PRODUCT_STATUSES = ("active", "archived", "draft")
_OFFSET_SPACE = re.compile(r" (\d\d:?\d\d)$")


def parse_time(name: str, raw: str, offset_minutes: int) -> int:
    """An ISO-8601 filter value as epoch ms; naive values are in the shop's zone.

    A ``+hh:mm`` offset sent without URL-encoding arrives as a space; accept it.

    >>> parse_time("x", "2026-01-01T00:00:00+01:00", 0)
    1767222000000
    >>> parse_time("x", "2026-01-01 00:00:00 01:00", 0)
    1767222000000
    >>> parse_time("x", "2026-01-01", -60)
    1767229200000
    """
    value = _OFFSET_SPACE.sub(r"+\1", raw.strip())
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid_param(name, f"Invalid value: {raw!r} is not an ISO-8601 time "
                                  "(format: 2014-04-25T16:15:47-04:00).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    return int(moment.timestamp() * 1000)


def _ids(raw: str) -> list[str]:
    try:
        return [str(int(part)) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise invalid_param("ids") from None


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise invalid_param(name) from None


def _common(f: Filters, offset: int, clauses: list[str], args: list[Any]) -> None:
    if f.get("ids"):
        ids = _ids(f["ids"])
        clauses.append(f"id IN ({','.join('?' * len(ids))})" if ids else "0")
        args.extend(ids)
    if f.get("since_id"):
        clauses.append("CAST(id AS INTEGER) > ?")
        args.append(_int("since_id", f["since_id"]))
    if f.get("updated_at_min"):
        clauses.append("updated_ms >= ?")
        args.append(parse_time("updated_at_min", f["updated_at_min"], offset))
    if f.get("updated_at_max"):
        clauses.append("updated_ms <= ?")
        args.append(parse_time("updated_at_max", f["updated_at_max"], offset))
    # Created times live only in the body; every body of a shop uses one offset, so the
    # rendered strings sort in time order.
    for name, op, column in (("created_at_min", ">=", "created_at"),
                             ("created_at_max", "<=", "created_at"),
                             ("processed_at_min", ">=", "processed_at"),
                             ("processed_at_max", "<=", "processed_at")):
        if f.get(name):
            ms = parse_time(name, f[name], offset)
            if op == ">=":
                ms += -ms % 1000
            clauses.append(f"json_extract(body, '$.{column}') {op} ?")
            args.append(iso(ms, offset))


def customer_filters(f: Filters, offset: int) -> Where:
    """``customers.json`` / ``customers/count.json``: deleted customers are never served."""
    clauses: list[str] = ["archived = 0"]
    args: list[Any] = []
    _common(f, offset, clauses, args)
    return " AND ".join(clauses), tuple(args)


def order_filters(f: Filters, offset: int) -> Where:
    """``orders.json`` / ``orders/count.json``: ``status`` defaults to ``open``."""
    clauses: list[str] = []
    args: list[Any] = []
    status = f.get("status") or "open"
    if status not in ORDER_STATUSES:
        raise invalid_param("status")
    if status != "any":
        clauses.append("key = ?")
        args.append(status)
    financial = f.get("financial_status") or "any"
    if financial == "unpaid":
        clauses.append("json_extract(body, '$.financial_status') IN ('authorized', "
                       "'partially_paid')")
    elif financial != "any":
        clauses.append("json_extract(body, '$.financial_status') = ?")
        args.append(financial)
    if f.get("fulfillment_status") in ("shipped", "partial"):
        clauses.append("0")  # the sandbox fulfils nothing
    _common(f, offset, clauses, args)
    return " AND ".join(clauses) or "1=1", tuple(args)


def product_filters(f: Filters, offset: int) -> Where:
    """``products.json``: ``status`` is a comma-separated list, default ``active`` (per spec)."""
    statuses = [s.strip() for s in (f.get("status") or "active").split(",") if s.strip()]
    if not statuses or any(s not in PRODUCT_STATUSES for s in statuses):
        raise invalid_param("status")
    clauses = [f"key IN ({','.join('?' * len(statuses))})"]
    args: list[Any] = list(statuses)
    for name in ("title", "vendor", "handle", "product_type"):
        if f.get(name):
            clauses.append(f"json_extract(body, '$.{name}') = ?")
            args.append(f[name])
    published = f.get("published_status") or "any"
    if published == "published":
        clauses.append("json_extract(body, '$.published_at') IS NOT NULL")
    elif published == "unpublished":
        clauses.append("json_extract(body, '$.published_at') IS NULL")
    _common(f, offset, clauses, args)
    return " AND ".join(clauses), tuple(args)


_SEARCH_FIELDS: dict[str, str] = {
    "first_name": "lower(json_extract(body, '$.first_name')) = ?",
    "last_name": "lower(json_extract(body, '$.last_name')) = ?",
    "phone": "json_extract(body, '$.phone') = ?",
    "state": "json_extract(body, '$.state') = ?",
    "id": "id = ?",
}


def search_filters(f: Filters, offset: int) -> Where:
    """``customers/search.json?query=...``: ``field:value`` terms (email, phone, first_name,
    last_name, id, state) and free words, all of which must match.

    >>> search_filters({"query": 'email:"Ann@X.com"'}, 0)
    ('archived = 0 AND key = ?', ('ann@x.com',))
    """
    del offset
    clauses: list[str] = ["archived = 0"]
    args: list[Any] = []
    for term in (f.get("query") or "").split():
        name, sep, value = term.partition(":")
        value = value.strip("\"'")
        if sep and name == "email":
            clauses.append("key = ?")
            args.append(value.strip().lower())
        elif sep and name in _SEARCH_FIELDS:
            clauses.append(_SEARCH_FIELDS[name])
            args.append(value.lower() if name.endswith("_name") else value)
        else:
            word = f"%{term.strip(chr(34)).lower()}%"
            clauses.append("(key LIKE ? OR lower(json_extract(body, '$.first_name')) LIKE ? "
                           "OR lower(json_extract(body, '$.last_name')) LIKE ?)")
            args.extend([word, word, word])
    return " AND ".join(clauses), tuple(args)


FilterFn = Callable[[Filters, int], Where]
