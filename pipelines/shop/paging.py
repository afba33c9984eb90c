"""Shopify's cursor paging: follow the ``Link`` header, re-sending ``limit`` and ``fields``.

A ``page_info`` request may carry only ``limit`` and ``fields``; Shopify's ``Link`` URLs do not
always repeat them, so without this the second page would fall back to 50 full records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from requests import Request


def with_params(url: str, params: dict[str, Any]) -> str:
    """``url`` with each of ``params`` added to its query unless it is already there.

    >>> with_params("https://s/c.json?page_info=abc&limit=250", {"limit": 50, "fields": "id,email"})
    'https://s/c.json?page_info=abc&limit=250&fields=id%2Cemail'
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {name for name, _ in query}
    query += [(name, str(value)) for name, value in params.items() if name not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


class ShopifyLinkPaginator(HeaderLinkPaginator):
    """dlt's ``Link`` header paginator that keeps ``limit`` and ``fields`` on every page."""

    def __init__(self, keep: Sequence[str] = ("limit", "fields")) -> None:
        super().__init__()
        self.keep = tuple(keep)
        self._kept: dict[str, Any] = {}

    def init_request(self, request: Request) -> None:
        super().init_request(request)
        params = request.params or {}
        self._kept = {name: params[name] for name in self.keep if params.get(name) is not None}

    def update_request(self, request: Request) -> None:
        super().update_request(request)
        if request.url and self._kept:
            request.url = with_params(request.url, self._kept)
