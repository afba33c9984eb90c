"""Shopify's cursor paging: ``limit``, an opaque ``page_info`` and the ``Link`` response header.

Records are walked in id order (in the store, id order is insertion order: the seeder inserts by
id and new ids always sort last), keyed on the last row seen, so a walk visits every record
that matches its filters exactly once even while records change. The cursor carries the first
request's filters: a request with ``page_info`` may only add ``limit`` and ``fields``.

>>> token = encode_cursor(Cursor("customers", {"updated_at_min": "2026-01-01"}, "next", 7, 42))
>>> decode_cursor(token, "customers").filters
{'updated_at_min': '2026-01-01'}
>>> link_header("http://h/x.json", 2, token, None).endswith('rel="previous"')
True
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.shop.errors import invalid_param, not_with_page_info
from sandbox.store import Doc, Store

Direction = Literal["next", "previous"]
DEFAULT_LIMIT = 50
PAGE_INFO_ALLOWED = frozenset({"page_info", "limit", "fields"})


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the resource, its filters, the direction and the boundary row."""

    resource: str
    filters: dict[str, str]
    direction: Direction
    seq: int  # store row boundary (exclusive)
    last_id: int  # the Shopify id at the boundary (for people reading a cursor)


def encode_cursor(cursor: Cursor) -> str:
    """The opaque ``page_info`` token of a cursor (URL-safe base64 of compact JSON)."""
    raw = json.dumps({"r": cursor.resource, "f": cursor.filters, "d": cursor.direction,
                      "s": cursor.seq, "id": cursor.last_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, resource: str) -> Cursor:
    """Parse a ``page_info`` token for ``resource``; 400 ``page_info: Invalid value.`` if bad."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data: Any = json.loads(raw)
        cursor = Cursor(str(data["r"]), {str(k): str(v) for k, v in dict(data["f"]).items()},
                        data["d"], int(data["s"]), int(data["id"]))
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise invalid_param("page_info") from None
    if cursor.resource != resource or cursor.direction not in ("next", "previous"):
        raise invalid_param("page_info")
    return cursor


def parse_limit(raw: str | None, maximum: int) -> int:
    """The page size: default 50, at most ``maximum`` (250 on Shopify), else 400.

    >>> parse_limit(None, 250), parse_limit("250", 250)
    (50, 250)
    """
    if raw is None or raw == "":
        return min(DEFAULT_LIMIT, maximum)
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param("limit") from None
    if value < 1 or value > maximum:
        raise invalid_param("limit", f"Invalid value: {raw}. limit must be between 1 and "
                                     f"{maximum}.")
    return value


def parse_fields(raw: str | None) -> list[str] | None:
    """``fields=id,email`` as a list (None when absent).

    >>> parse_fields(" id, email ,"), parse_fields(None)
    (['id', 'email'], None)
    """
    if not raw:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def start_cursor(params: Mapping[str, str], resource: str,
                 filter_names: frozenset[str]) -> Cursor:
    """The cursor a list request starts from: decoded ``page_info`` or the first page.

    Raises 400 when ``page_info`` comes with anything but ``limit`` and ``fields``, or when the
    old ``page`` parameter is sent.
    """
    if "page" in params:
        raise invalid_param("page", "page cannot be passed.")
    token = params.get("page_info")
    if token is None:
        filters = {k: v for k, v in params.items() if k in filter_names}
        return Cursor(resource, filters, "next", 0, 0)
    for name in params:
        if name not in PAGE_INFO_ALLOWED:
            raise not_with_page_info(name)
    return decode_cursor(token, resource)


@dataclass
class Page:
    docs: list[Doc]
    has_next: bool
    has_previous: bool


def fetch_page(store: Store, obj: str, where: str, args: tuple[Any, ...], cursor: Cursor,
               limit: int) -> Page:
    """One page of ``obj`` rows matching ``where`` after (or before) the cursor's boundary."""
    if cursor.direction == "next":
        docs = store.query(obj, f"({where}) AND seq > ?", (*args, cursor.seq), order="seq",
                           limit=limit + 1)
        has_next = len(docs) > limit
        docs = docs[:limit]
        has_previous = cursor.seq > 0 and bool(
            store.query(obj, f"({where}) AND seq <= ?", (*args, cursor.seq), order="seq DESC",
                        limit=1))
        return Page(docs, has_next, has_previous)
    docs = store.query(obj, f"({where}) AND seq < ?", (*args, cursor.seq), order="seq DESC",
                       limit=limit + 1)
    has_previous = len(docs) > limit
    docs = list(reversed(docs[:limit]))
    has_next = bool(store.query(obj, f"({where}) AND seq >= ?", (*args, cursor.seq),
                                order="seq", limit=1))
    return Page(docs, has_next, has_previous)


def page_tokens(page: Page, cursor: Cursor) -> tuple[str | None, str | None]:
    """``(previous, next)`` page_info tokens for the Link header (None where there is none)."""
    if not page.docs:
        return None, None
    first, last = page.docs[0], page.docs[-1]
    prev_token = next_token = None
    if page.has_previous:
        prev_token = encode_cursor(Cursor(cursor.resource, cursor.filters, "previous",
                                          first.seq or 0, int(first.id)))
    if page.has_next:
        next_token = encode_cursor(Cursor(cursor.resource, cursor.filters, "next",
                                          last.seq or 0, int(last.id)))
    return prev_token, next_token


def link_header(url: str, limit: int, previous: str | None, next_: str | None) -> str | None:
    """Shopify's ``Link`` header: ``<url?limit=..&page_info=..>; rel="next"`` (None if empty).

    >>> link_header("https://s/admin/api/2021-10/orders.json", 5, None, "abc")
    '<https://s/admin/api/2021-10/orders.json?limit=5&page_info=abc>; rel="next"'
    """
    links = []
    if previous:
        links.append(f'<{url}?limit={limit}&page_info={previous}>; rel="previous"')
    if next_:
        links.append(f'<{url}?limit={limit}&page_info={next_}>; rel="next"')
    return ", ".join(links) or None
