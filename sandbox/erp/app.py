"""The Xero Accounting API emulator (``/api.xro/2.0``) plus Xero identity's ``GET /connections``.

Reads: ``GET /Contacts``, ``/Invoices``, ``/Payments``, ``/CreditNotes`` (paged: ``page`` from 1,
``pageSize`` default 100, ``pagination`` in the envelope; no ``page`` means page 1), ``GET /Items``
(not paged) and the one-record forms. Filters: ``If-Modified-Since`` (HTTP date or ISO 8601),
``where``, ``order``, ``IDs``/``ContactIDs``/``InvoiceNumbers``/``Statuses``, ``searchTerm``,
``includeArchived`` (contacts hide ARCHIVED without it; invoices show DELETED/VOIDED with their
status). Invoice lists carry ``LineItems`` only when ``page`` is sent, as Xero's do.
Writes: ``PUT``/``POST /Contacts`` and ``/Invoices`` (see :mod:`sandbox.erp.writes`).
Auth, tenant and rate limits: :mod:`sandbox.erp.gate`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.context import SystemContext
from sandbox.erp import contacts, invoices, queries
from sandbox.erp.dates import parse_timestamp
from sandbox.erp.gate import API_PREFIX, XeroGate
from sandbox.erp.queries import Selection
from sandbox.erp.render import (
    ERROR_500,
    ApiError,
    dumps,
    envelope,
    not_found,
    problem,
    query_parse_error,
    validation_error,
)
from sandbox.erp.where import WhereError, compile_order, compile_where, json_text
from sandbox.erp.writes import Handler, Mode, idempotent, parse_bool, run_batch
from sandbox.webhooks import now_ms

ERROR_BODY: bytes = dumps(ERROR_500)
DRIFT_FIELD = "EmailAddress"

DEFAULT_PAGE_SIZE = 100
TENANT_NAME = "Goldloop Demo Company"
CONNECTION_CREATED = "2024-01-01T00:00:00.0000000Z"
JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Listing:
    """How one list endpoint reads the store."""

    obj: str
    plural: str
    paged: bool
    hide_archived: bool = False  # contacts: unless includeArchived=true; items: always
    archived_param: bool = False
    search: tuple[str, ...] = ()
    id_lists: tuple[tuple[str, str], ...] = ()  # (query parameter, SQL expression)


LISTINGS = {
    "contacts": Listing(
        "contacts", "Contacts", paged=True, hide_archived=True, archived_param=True,
        search=("key", json_text("$.FirstName"), json_text("$.LastName"),
                json_text("$.ContactNumber"), json_text("$.EmailAddress")),
        id_lists=(("ids", "id"),),
    ),
    "invoices": Listing(
        "invoices", "Invoices", paged=True,
        search=("key", json_text("$.Reference")),
        id_lists=(("ids", "id"), ("invoicenumbers", "key"),
                  ("contactids", json_text("$.Contact.ContactID")),
                  ("statuses", json_text("$.Status"))),
    ),
    "payments": Listing("payments", "Payments", paged=True),
    "items": Listing("items", "Items", paged=False, hide_archived=True),
    "credit_notes": Listing("credit_notes", "CreditNotes", paged=True),
}


def _json(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type=JSON, headers=headers)


def _params(request: Request) -> dict[str, str]:
    """Query parameters by lower-cased name; repeated ones joined with commas."""
    out: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        key = name.lower()
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name.lower())
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ApiError(400, validation_error(message=f"{name} must be a whole number, "
                                                     f"not {raw!r}")) from exc


def _page_size(ctx: SystemContext, params: dict[str, str]) -> int:
    size = _int_param(params, "pageSize")
    limit = ctx.limits.erp_page_size_max
    if size is None:
        return min(DEFAULT_PAGE_SIZE, limit)
    if not 1 <= size <= limit:
        raise ApiError(400, validation_error(
            message=f"pageSize must be between 1 and {limit}; {size} was requested"))
    return size


def _selection(ctx: SystemContext, listing: Listing, request: Request,
               params: dict[str, str]) -> Selection:
    clauses: list[str] = []
    values: list[Any] = []
    hide = listing.hide_archived
    if listing.archived_param:
        hide = not parse_bool(params.get("includearchived"), "includeArchived", False)
    since = request.headers.get("if-modified-since")
    if since:
        try:
            values.append(parse_timestamp(since))
        except ValueError as exc:
            raise ApiError(400, validation_error(message=(
                f"If-Modified-Since {since!r} is not a valid date: send an HTTP date or ISO "
                "8601 UTC timestamp"))) from exc
        clauses.append("updated_ms > ?")
    for param, expr in listing.id_lists:
        raw = params.get(param)
        if not raw:
            continue
        items = [v.strip().strip('"') for v in raw.split(",") if v.strip()]
        wanted = sorted({v for item in items for v in (item, item.lower())})
        clauses.append(f"{expr} IN ({', '.join('?' for _ in wanted)})")
        values.extend(wanted)
    term = params.get("searchterm")
    if term and listing.search:
        pattern = "%" + term.lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        clauses.append("(" + " OR ".join(f"{expr} LIKE ? ESCAPE '\\'"
                                         for expr in listing.search) + ")")
        values.extend([pattern] * len(listing.search))
    try:
        where_sql, where_params = compile_where(params.get("where", ""), listing.obj)
        order = compile_order(params.get("order", ""), listing.obj)
    except WhereError as exc:
        raise ApiError(400, query_parse_error(str(exc))) from exc
    if where_sql != "1=1":
        clauses.append(f"({where_sql})")
        values.extend(where_params)
    return Selection(listing.obj, " AND ".join(clauses) or "1=1", tuple(values), tuple(order),
                     live_only=hide)


def _without_lines(raw: str) -> str:
    body = json.loads(raw)
    body.pop("LineItems", None)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def list_records(ctx: SystemContext, listing: Listing, request: Request) -> Response:
    """One list answer (a page, or every record for unpaged endpoints)."""
    params = _params(request)
    sel = _selection(ctx, listing, request, params)
    if not listing.paged:
        return _json(200, envelope(listing.plural, queries.fetch(ctx, sel, None, None), now_ms()))
    page_sent = _int_param(params, "page")
    page = max(page_sent or 1, 1)
    size = _page_size(ctx, params)
    total = queries.count(ctx, sel)
    records = queries.fetch(ctx, sel, page, size) if (page - 1) * size < total else []
    if listing.obj == "invoices" and (
            page_sent is None or parse_bool(params.get("summaryonly"), "summaryOnly", False)):
        records = [_without_lines(r) for r in records]
    pagination = (page, size, math.ceil(total / size), total)
    return _json(200, envelope(listing.plural, records, now_ms(), pagination))


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def get_one(ctx: SystemContext, obj: str, plural: str, ident: str,
            key_sql: str | None = None) -> Response:
    """``GET /<Plural>/{id}``: by GUID, or (``key_sql``) by the natural key Xero also accepts
    in the path (ContactNumber, InvoiceNumber, Item Code, CreditNoteNumber)."""
    docs = []
    if _is_guid(ident):
        docs = ctx.store.query(obj, "id IN (?, ?, ?)", (ident, ident.lower(), ident.upper()),
                               limit=1)
    elif key_sql is not None:
        docs = ctx.store.query(obj, key_sql, (ident.lower(),), limit=1)
    if not docs or (obj == "items" and docs[0].archived):
        raise not_found()
    body = json.dumps(docs[0].body, separators=(",", ":"), ensure_ascii=False)
    return _json(200, envelope(plural, [body], now_ms()))


async def write(ctx: SystemContext, request: Request, *, plural: str, mode: Mode,
                handler: Handler, error_flag: str, force: tuple[str, str] | None = None,
                ) -> Response:
    """A batch write behind the idempotency check (runs in a worker thread)."""
    raw = await request.body()
    params = _params(request)

    def compute() -> tuple[int, bytes]:
        summarize = parse_bool(params.get("summarizeerrors"), "summarizeErrors", True)
        return run_batch(ctx, plural=plural, raw=raw, mode=mode, summarize=summarize,
                         handler=handler, error_flag=error_flag, now_ms=now_ms(), force=force)

    status, body = await run_in_threadpool(
        idempotent, ctx, method=request.method, path=request.url.path,
        key=request.headers.get("idempotency-key"), compute=compute)
    return _json(status, body)


def connections(ctx: SystemContext) -> list[dict[str, str]]:
    """The tenant list Xero identity returns for the sandbox token."""
    tenant = ctx.config.credentials.erp_tenant_id
    return [{
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"goldloop-connection:{tenant}")),
        "authEventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"goldloop-auth:{tenant}")),
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
        "tenantName": TENANT_NAME,
        "createdDateUtc": CONNECTION_CREATED,
        "updatedDateUtc": CONNECTION_CREATED,
    }]


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> Response:
        return _json(exc.status, dumps(exc.body), exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            err = not_found()
            return _json(404, dumps(err.body))
        title = "Method Not Allowed" if exc.status_code == 405 else "Error"
        return _json(exc.status_code, dumps(problem(exc.status_code, title, str(exc.detail))))


def create_app(ctx: SystemContext) -> FastAPI:
    """The Xero emulator over ``ctx.store``."""
    queries.ensure_indexes(ctx.store)
    app = FastAPI(title="goldloop sandbox: Xero Accounting API", docs_url=None, redoc_url=None,
                  openapi_url=None)
    _error_handlers(app)
    app.add_middleware(XeroGate, ctx=ctx)
    base = API_PREFIX

    @app.get("/connections")
    @app.get("/Connections")
    def get_connections() -> Response:
        return _json(200, dumps(connections(ctx)))

    def lister(obj: str) -> Callable[[Request], Response]:
        def handler(request: Request) -> Response:
            return list_records(ctx, LISTINGS[obj], request)
        return handler

    for obj, listing in LISTINGS.items():
        app.add_api_route(f"{base}/{listing.plural}", lister(obj), methods=["GET"])

    number_sql = f"{json_text('$.ContactNumber')} = lower(?)"

    @app.get(base + "/Contacts/{ident}")
    def get_contact(ident: str) -> Response:
        return get_one(ctx, "contacts", "Contacts", ident, number_sql)

    @app.get(base + "/Invoices/{ident}")
    def get_invoice(ident: str) -> Response:
        return get_one(ctx, "invoices", "Invoices", ident, "key = ?")

    @app.get(base + "/Payments/{ident}")
    def get_payment(ident: str) -> Response:
        return get_one(ctx, "payments", "Payments", ident)

    @app.get(base + "/Items/{ident}")
    def get_item(ident: str) -> Response:
        return get_one(ctx, "items", "Items", ident, "key = ?")

    @app.get(base + "/CreditNotes/{ident}")
    def get_credit_note(ident: str) -> Response:
        return get_one(ctx, "credit_notes", "CreditNotes", ident, "key = ?")

    async def contact_batch(request: Request, mode: Mode, force: str | None = None) -> Response:
        return await write(ctx, request, plural="Contacts", mode=mode,
                           handler=contacts.write_contact, error_flag="HasValidationErrors",
                           force=("ContactID", force) if force else None)

    async def invoice_batch(request: Request, mode: Mode, force: str | None = None) -> Response:
        return await write(ctx, request, plural="Invoices", mode=mode,
                           handler=invoices.write_invoice, error_flag="HasErrors",
                           force=("InvoiceID", force) if force else None)

    @app.put(base + "/Contacts")
    async def put_contacts(request: Request) -> Response:
        return await contact_batch(request, "create")

    @app.post(base + "/Contacts")
    async def post_contacts(request: Request) -> Response:
        return await contact_batch(request, "upsert")

    @app.post(base + "/Contacts/{contact_id}")
    async def post_contact(contact_id: str, request: Request) -> Response:
        if not _is_guid(contact_id):
            raise not_found()
        return await contact_batch(request, "upsert", contact_id)

    @app.put(base + "/Invoices")
    async def put_invoices(request: Request) -> Response:
        return await invoice_batch(request, "create")

    @app.post(base + "/Invoices")
    async def post_invoices(request: Request) -> Response:
        return await invoice_batch(request, "upsert")

    @app.post(base + "/Invoices/{invoice_id}")
    async def post_invoice(invoice_id: str, request: Request) -> Response:
        if not _is_guid(invoice_id):
            raise not_found()
        return await invoice_batch(request, "upsert", invoice_id)

    return app
