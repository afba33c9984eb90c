"""The declarative (dlt ``rest_api``) description of one shop: client, endpoints, steps.

Each shop gets its own resources (``<shop>_customers``...) writing to the shared tables
(``customers``...), so each keeps its own cursor in its own clock. Only the fields goldloop uses
are asked for (``fields=``); ``updated_at_min`` goes on the first request only and the ``Link``
header's ``page_info`` URLs carry the rest, as Shopify requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.rest_api.typing import EndpointResource, RESTAPIConfig

from pipelines.common.deletes import DELETED_COLUMNS
from pipelines.common.incremental import DEFAULT_LAG_SECONDS
from pipelines.shop.mapping import Record, customer_row, order_row, product_row
from pipelines.shop.paging import ShopifyLinkPaginator
from pipelines.shop.shops import Shop
from pipelines.shop.window import WindowFilter

MAX_PAGE_SIZE = 250
TOKEN_HEADER = "X-Shopify-Access-Token"
CURSOR = "updated_at"
PRIMARY_KEY = "record_id"

CUSTOMER_FIELDS = (
    "id", "email", "first_name", "last_name", "phone", "state", "verified_email",
    "accepts_marketing", "accepts_marketing_updated_at", "marketing_opt_in_level", "tags",
    "currency", "orders_count", "total_spent", "last_order_id", "tax_exempt", "note",
    "default_address", "created_at", "updated_at",
)
ORDER_FIELDS = (
    "id", "name", "order_number", "email", "phone", "customer", "currency", "financial_status",
    "fulfillment_status", "cancelled_at", "cancel_reason", "closed_at", "processed_at",
    "created_at", "updated_at", "subtotal_price", "total_price", "total_tax", "total_discounts",
    "total_line_items_price", "current_total_price", "taxes_included", "tags", "test",
    "source_name", "billing_address", "shipping_address", "line_items",
)
PRODUCT_STATUSES = "active,archived,draft"
PRODUCT_FIELDS = (
    "id", "title", "handle", "vendor", "product_type", "status", "tags", "created_at",
    "updated_at", "published_at", "variants",
)


def time_param(value: datetime | None) -> str | None:
    """An ``updated_at_min``/``max`` value: UTC, whole seconds (None leaves the parameter out).

    Shopify's times have whole seconds; rounding down only widens an inclusive lower bound.

    >>> from datetime import timedelta, timezone
    >>> time_param(datetime(2026, 1, 1, 1, 2, 3, 900000, tzinfo=timezone(timedelta(hours=1))))
    '2026-01-01T00:02:03Z'
    >>> time_param(None) is None
    True
    """
    if value is None:
        return None
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Reads:
    """How every endpoint of a run reads: page size, optional backfill window, lag."""

    page_size: int = MAX_PAGE_SIZE
    start: datetime | None = None
    end: datetime | None = None
    lag_seconds: float = DEFAULT_LAG_SECONDS


def _resource(shop: Shop, table: str, fields: tuple[str, ...], row: Callable[[Record], Record],
              extra: dict[str, Any], reads: Reads) -> EndpointResource:
    name = f"{shop.name}_{table}"
    steps: list[Any] = [{"map": row}]
    if reads.end is None:  # a backfill window is stateless and loads all of it
        steps.append({"filter": WindowFilter(name, PRIMARY_KEY, CURSOR, reads.lag_seconds)})
    return {
        "name": name,
        "table_name": table,
        "primary_key": PRIMARY_KEY,
        "write_disposition": "merge",
        "columns": {**DELETED_COLUMNS, CURSOR: {"name": CURSOR, "dedup_sort": "desc"}},
        "endpoint": {
            "path": f"{table}.json",
            "data_selector": table,
            "paginator": ShopifyLinkPaginator(),
            "params": {"limit": reads.page_size, "fields": ",".join(fields), **extra},
            "incremental": {
                "cursor_path": CURSOR,
                "start_param": "updated_at_min",
                "end_param": "updated_at_max",
                "initial_value": reads.start,
                "end_value": reads.end,
                "lag": reads.lag_seconds,
                "convert": time_param,
            },
        },
        "processing_steps": steps,
    }


def shop_config(shop: Shop, session: requests.Session, reads: Reads) -> RESTAPIConfig:
    """The rest_api configuration of one shop's customers, orders (any status) and products."""
    return {
        "client": {
            "base_url": shop.base_url + "/",
            "auth": APIKeyAuth(name=TOKEN_HEADER, api_key=shop.token, location="header"),
            "session": session,
        },
        "resources": [
            _resource(shop, "customers", CUSTOMER_FIELDS, customer_row(shop.name), {}, reads),
            # Shopify lists only open orders unless asked for every status
            _resource(shop, "orders", ORDER_FIELDS, order_row(shop.name), {"status": "any"},
                      reads),
            # products.json lists only active products unless every status is asked for
            _resource(shop, "products", PRODUCT_FIELDS, product_row(shop.name),
                      {"status": PRODUCT_STATUSES}, reads),
        ],
    }
