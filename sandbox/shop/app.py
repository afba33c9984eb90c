"""The Shopify Admin REST API (2021-10) emulator, for several shops in one app.

A shop's base URL is ``/shops/<shop>/admin/api/2021-10`` (the real one is
``https://<shop>.myshopify.com/admin/api/2021-10``). Every call needs the shop's
``X-Shopify-Access-Token`` and goes through the shop's leaky bucket.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.context import SystemContext
from sandbox.shop import customers as customer_writes
from sandbox.shop.bucket import CALL_LIMIT_HEADER, admit
from sandbox.shop.errors import ShopApiError, not_found, unauthorized, unprocessable
from sandbox.shop.filters import (
    CUSTOMER_FILTERS,
    ORDER_FILTERS,
    PRODUCT_FILTERS,
    SEARCH_FILTERS,
    FilterFn,
    customer_filters,
    order_filters,
    product_filters,
    search_filters,
)
from sandbox.shop.paging import (
    fetch_page,
    link_header,
    page_tokens,
    parse_fields,
    parse_limit,
    start_cursor,
)
from sandbox.shop.render import project
from sandbox.shop.resources import customer_doc, email_taken, live_customer
from sandbox.shop.shops import API_VERSION, default_currency, new_id, table, utc_offset_minutes
from sandbox.shop.views import customer_view, order_views
from sandbox.shop.webhooks import deliver
from sandbox.webhooks import now_ms

ERROR_BODY = b'{"errors":"Internal Server Error"}'
DRIFT_FIELD = "email"

Json = dict[str, Any]
Serve = Callable[[str, list[Json]], list[Json]]
_SHOP_PATH = re.compile(r"^/shops/([^/]+)/admin/")


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, headers=headers,
                    media_type="application/json; charset=utf-8")


def _error(err: ShopApiError) -> Response:
    return Response(err.body(), status_code=err.status, headers=err.headers,
                    media_type="application/json; charset=utf-8")


def create_app(ctx: SystemContext) -> FastAPI:
    """The emulator's routes on ``ctx.store`` (admin routes are added by ``sandbox.serve``)."""
    app = FastAPI(title="Shopify Admin API emulator", docs_url=None, redoc_url=None,
                  openapi_url=None)
    store = ctx.store
    write_lock = threading.Lock()
    base = f"/shops/{{shop}}/admin/api/{API_VERSION}"

    @app.exception_handler(ShopApiError)
    async def shop_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ShopApiError)
        return _error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: Exception) -> Response:
        del exc
        return _error(not_found())

    @app.middleware("http")
    async def gate(request: Request,
                   call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Unknown shop 404, bad token 401, full bucket 429; the call-limit header on all."""
        match = _SHOP_PATH.match(request.url.path)
        if match is None:
            return await call_next(request)
        shop = match.group(1)
        tokens = ctx.config.credentials.shop_tokens
        if shop not in tokens:
            return _error(not_found())
        token = request.headers.get("x-shopify-access-token", "")
        if not hmac.compare_digest(token.encode(), tokens[shop].encode()):
            return _error(unauthorized())
        try:
            used = admit(ctx, shop)
        except ShopApiError as exc:
            return _error(exc)
        response = await call_next(request)
        response.headers[CALL_LIMIT_HEADER] = used
        response.headers["X-Shopify-API-Version"] = API_VERSION
        return response

    # -- lists -----------------------------------------------------------------------------
    def list_records(request: Request, shop: str, resource: str, obj: str, envelope: str,
                     filter_fn: FilterFn, filter_names: frozenset[str],
                     serve: Serve | None = None) -> Response:
        params = dict(request.query_params)
        cursor = start_cursor(params, resource, filter_names)
        limit = parse_limit(params.get("limit"), ctx.limits.shop_page_size_max)
        fields = parse_fields(params.get("fields"))
        where, args = filter_fn(cursor.filters, utc_offset_minutes(shop))
        page = fetch_page(store, table(shop, obj), where, args, cursor, limit)
        records = [d.body for d in page.docs]
        if serve is not None:
            records = serve(shop, records)
        previous, next_ = page_tokens(page, cursor)
        link = link_header(str(request.url).split("?")[0], limit, previous, next_)
        return _json({envelope: [project(r, fields) for r in records]},
                     headers={"Link": link} if link else None)

    def count_records(request: Request, shop: str, obj: str, filter_fn: FilterFn) -> Response:
        where, args = filter_fn(dict(request.query_params), utc_offset_minutes(shop))
        return _json({"count": store.count(table(shop, obj), where, args)})

    def serve_orders(shop: str, orders: list[Json]) -> list[Json]:
        return order_views(store, shop, orders)

    def serve_customers(shop: str, customers: list[Json]) -> list[Json]:
        del shop
        return [customer_view(c) for c in customers]

    def one(request: Request, envelope: str, body: Json) -> Response:
        return _json({envelope: project(body, parse_fields(request.query_params.get("fields")))})

    @app.get(f"{base}/customers.json")
    def get_customers(shop: str, request: Request) -> Response:
        return list_records(request, shop, "customers", "customers", "customers",
                            customer_filters, CUSTOMER_FILTERS, serve_customers)

    @app.get(f"{base}/customers/search.json")
    def search_customers(shop: str, request: Request) -> Response:
        return list_records(request, shop, "customers/search", "customers", "customers",
                            search_filters, SEARCH_FILTERS, serve_customers)

    @app.get(f"{base}/customers/count.json")
    def count_customers(shop: str, request: Request) -> Response:
        return count_records(request, shop, "customers", customer_filters)

    @app.get(f"{base}/orders.json")
    def get_orders(shop: str, request: Request) -> Response:
        return list_records(request, shop, "orders", "orders", "orders", order_filters,
                            ORDER_FILTERS, serve_orders)

    @app.get(f"{base}/orders/count.json")
    def count_orders(shop: str, request: Request) -> Response:
        return count_records(request, shop, "orders", order_filters)

    @app.get(f"{base}/products.json")
    def get_products(shop: str, request: Request) -> Response:
        return list_records(request, shop, "products", "products", "products",
                            product_filters, PRODUCT_FILTERS)

    @app.get(f"{base}/products/count.json")
    def count_products(shop: str, request: Request) -> Response:
        return count_records(request, shop, "products", product_filters)

    # -- single records --------------------------------------------------------------------
    def by_id(shop: str, obj: str, record_id: str) -> Json:
        doc = store.get(table(shop, obj), record_id) if record_id.isdigit() else None
        if doc is None or (obj == "customers" and doc.archived):
            raise not_found()
        return doc.body

    @app.get(f"{base}/customers/{{customer_id}}.json")
    def get_customer(shop: str, customer_id: str, request: Request) -> Response:
        return one(request, "customer", customer_view(by_id(shop, "customers", customer_id)))

    @app.get(f"{base}/orders/{{order_id}}.json")
    def get_order(shop: str, order_id: str, request: Request) -> Response:
        order = order_views(store, shop, [by_id(shop, "orders", order_id)])[0]
        return one(request, "order", order)

    @app.get(f"{base}/products/{{product_id}}.json")
    def get_product(shop: str, product_id: str, request: Request) -> Response:
        return one(request, "product", by_id(shop, "products", product_id))

    @app.get(f"{base}/products/{{product_id}}/variants.json")
    def get_variants(shop: str, product_id: str, request: Request) -> Response:
        fields = parse_fields(request.query_params.get("fields"))
        variants = by_id(shop, "products", product_id)["variants"]
        return _json({"variants": [project(v, fields) for v in variants]})

    # -- writes ----------------------------------------------------------------------------
    def check_email(shop: str, changes: Json, current: Json | None) -> None:
        email = changes.get("email")
        if not email:
            return
        unchanged = current is not None and (current.get("email") or "").lower() == email.lower()
        if not unchanged and email_taken(store, shop, email,
                                         None if current is None else str(current["id"])):
            raise unprocessable({"email": ["has already been taken"]})

    def update_customer(shop: str, customer_id: str, raw: bytes) -> Response:
        with write_lock:
            doc = live_customer(store, shop, customer_id) if customer_id.isdigit() else None
            if doc is None:
                raise not_found()
            defaults = [a for a in doc.body.get("addresses") or [] if a.get("default")]
            region = (defaults[0].get("country_code") if defaults else None) or "US"
            changes = customer_writes.validate_customer(customer_writes.parse_root(raw),
                                                        region=region)
            check_email(shop, changes, doc.body)
            now = now_ms()
            after = customer_writes.apply_changes(
                doc.body, changes, now_ms=now, offset=utc_offset_minutes(shop),
                new_id=lambda: new_id(store))
            view = customer_view(after)
            if after is not doc.body:
                store.put(table(shop, "customers"), customer_doc(after, now))
                deliver(ctx, shop, "customers/update", view)
        return _json({"customer": view})

    def create_customer(shop: str, raw: bytes) -> Response:
        with write_lock:
            changes = customer_writes.validate_customer(customer_writes.parse_root(raw))
            check_email(shop, changes, None)
            now = now_ms()
            body = customer_writes.new_customer(
                new_id(store), changes, now_ms=now, offset=utc_offset_minutes(shop),
                currency=default_currency(shop), new_id=lambda: new_id(store))
            store.put(table(shop, "customers"), customer_doc(body, now))
            view = customer_view(body)
            deliver(ctx, shop, "customers/create", view)
        return _json({"customer": view}, status=201)

    @app.put(f"{base}/customers/{{customer_id}}.json")
    async def put_customer(shop: str, customer_id: str, request: Request) -> Response:
        raw = await request.body()
        return await run_in_threadpool(update_customer, shop, customer_id, raw)

    @app.post(f"{base}/customers.json")
    async def post_customer(shop: str, request: Request) -> Response:
        raw = await request.body()
        return await run_in_threadpool(create_customer, shop, raw)

    return app
