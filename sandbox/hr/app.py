"""The BambooHR emulator's routes (see :mod:`sandbox.hr` for the vendor mapping and choices)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sandbox.context import SystemContext
from sandbox.hr import datasets as ds
from sandbox.hr.fields import Body, as_text, iso_ms, parse_iso_ms, read_field, utc_date
from sandbox.hr.guard import DEFAULT_THROTTLE_STATUS, THROTTLE_STATE, HrGuard
from sandbox.hr.listing import BASE_FIELDS, parse_list_query, select_page
from sandbox.hr.records import (
    OBJECT,
    bodies,
    email_owner,
    live,
    make_doc,
    new_employee_id,
    next_stamp,
)
from sandbox.hr.replies import HrError, error_reply, json_reply
from sandbox.hr.writes import Checks, apply_changes, new_body, parse_object
from sandbox.store import Doc, Store
from sandbox.webhooks import now_ms

ERROR_BODY: bytes = json.dumps(
    {"error": {"code": "ServiceUnavailable",
               "message": "BambooHR is temporarily unavailable. Please try again later."}}
).encode()
DRIFT_FIELD = "workEmail"

MAX_FIELDS = 400
CHANGE_TYPES = ("inserted", "updated", "deleted", "all")
BOOLEAN_FIELDS = frozenset({"canUploadPhoto", "photoUploaded", "isPhotoUploaded"})

# (id, type, name) of the directory's fieldset.
DIRECTORY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("displayName", "text", "Display name"),
    ("firstName", "text", "First name"),
    ("lastName", "text", "Last name"),
    ("preferredName", "text", "Preferred name"),
    ("jobTitle", "list", "Job title"),
    ("workPhone", "text", "Work Phone"),
    ("mobilePhone", "text", "Mobile Phone"),
    ("workEmail", "email", "Work Email"),
    ("department", "list", "Department"),
    ("location", "list", "Location"),
    ("division", "list", "Division"),
    ("supervisor", "employee", "Supervisor"),
    ("photoUploaded", "bool", "Employee photo"),
    ("photoUrl", "url", "Photo URL"),
    ("canUploadPhoto", "bool", "Can upload photo"),
)


class ThrottleSetting(BaseModel):
    """What a throttled request gets: 429 (today's BambooHR), 503 (before 2026-09-16) or both."""

    status: int | str = DEFAULT_THROTTLE_STATUS


# -- rendering ------------------------------------------------------------------------------
def _value(name: str, value: Any) -> Any:
    if name in BOOLEAN_FIELDS:
        return bool(value)
    return as_text(value) if not isinstance(value, (list, dict)) else value


def employee_fields(doc: Doc, names: list[str], everyone: dict[str, Body]) -> dict[str, Any]:
    """``GET /employees/{id}``: ``id`` plus every requested field the emulator knows."""
    out: dict[str, Any] = {"id": doc.id}
    for name in names:
        known, value = read_field(doc.id, doc.body, doc.updated_ms, name, everyone.get)
        if known and name != "id":
            out[name] = _value(name, value)
    return out


def list_row(doc: Doc, extra: list[str], everyone: dict[str, Body]) -> dict[str, Any]:
    """One ``data`` item of ``GET /employees``."""
    row = {name: read_field(doc.id, doc.body, doc.updated_ms, name, everyone.get)[1]
           for name in (*BASE_FIELDS, *extra)}
    row["_restrictedFields"] = []
    return row


def directory_row(doc: Doc, everyone: dict[str, Body]) -> dict[str, Any]:
    """One employee of the directory (``canUploadPhoto`` is 1/0 there)."""
    row: dict[str, Any] = {"id": doc.id}
    for name, _type, _label in DIRECTORY_FIELDS:
        row[name] = read_field(doc.id, doc.body, doc.updated_ms, name, everyone.get)[1]
    row["canUploadPhoto"] = 0
    return row


def change_action(doc: Doc, since_ms: int) -> str:
    """``Deleted`` if deleted, ``Inserted`` if created after ``since``, else ``Updated``.

    >>> change_action(Doc("1", 5, {"_createdMs": 4}), 3), change_action(Doc("1", 5, {}), 3)
    ('Inserted', 'Updated')
    """
    if doc.archived:
        return "Deleted"
    created = doc.body.get("_createdMs")
    return "Inserted" if isinstance(created, int) and created > since_ms else "Updated"


def _bool_param(name: str, text: str | None, default: bool) -> bool:
    if text is None:
        return default
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise HrError(400, "BadRequest", f"{name} must be true or false, got {text!r}.")


def _request_id(request: Request) -> str:
    return request.headers.get("x-request-id") or str(uuid.uuid4())


def _live_doc(store: Store, employee_id: str) -> Doc:
    doc = store.get(OBJECT, employee_id)
    if doc is None or doc.archived:
        raise HrError(404, "NotFound", f"Employee {employee_id} does not exist.")
    return doc


def _checks(store: Store, self_id: str | None = None) -> Checks:
    def exists(employee_id: str) -> bool:
        doc = store.get(OBJECT, employee_id)
        return doc is not None and not doc.archived

    return Checks(employee_exists=exists, email_owner=lambda e: email_owner(store, e),
                  self_id=self_id)


# -- the app --------------------------------------------------------------------------------
def create_app(ctx: SystemContext) -> FastAPI:
    """The BambooHR routes on ``ctx.store`` (object ``employees``)."""
    app = FastAPI(title="goldloop sandbox: BambooHR", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(HrGuard, ctx=ctx)
    store = ctx.store

    @app.exception_handler(HrError)
    async def hr_error(request: Request, exc: HrError) -> Response:
        return error_reply(exc.status, exc.code, exc.message, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "Error")
        message = (f"No BambooHR endpoint {request.method} {request.url.path}."
                   if exc.status_code in (404, 405) else str(exc.detail))
        return error_reply(exc.status_code, code, message, request.url.path)

    @app.get("/api/v1/employees/directory")
    def directory(request: Request) -> Response:
        only_current = _bool_param("onlyCurrent", request.query_params.get("onlyCurrent"), True)
        today = utc_date(now_ms())
        everyone = bodies(store)
        rows = [
            directory_row(doc, everyone) for doc in live(store)
            if doc.body.get("status") == "Active"
            and not (only_current and (doc.body.get("hireDate") or "") > today)
        ]
        if not rows:
            raise HrError(404, "NotFound", "The directory is empty.")
        fieldset = [{"id": i, "type": t, "name": n} for i, t, n in DIRECTORY_FIELDS]
        return json_reply({"fields": fieldset, "employees": rows})

    @app.get("/api/v1/employees/changed")
    def changed(request: Request) -> Response:
        since_text = request.query_params.get("since")
        if not since_text:
            raise HrError(400, "BadRequest", "since is required: an ISO 8601 timestamp.")
        since_ms = parse_iso_ms(since_text)
        if since_ms is None:
            raise HrError(400, "BadRequest",
                          f"since must be an ISO 8601 timestamp, got {since_text!r}.")
        kind = (request.query_params.get("type") or "all").lower()
        if kind not in CHANGE_TYPES:
            raise HrError(400, "BadRequest",
                          f"type must be one of {', '.join(CHANGE_TYPES)}, got {kind!r}.")
        docs = store.query(OBJECT, "updated_ms > ?", (since_ms,), order="updated_ms, seq")
        employees: dict[str, dict[str, str]] = {}
        for doc in docs:
            action = change_action(doc, since_ms)
            if kind in ("all", action.lower()):
                employees[doc.id] = {"id": doc.id, "action": action,
                                     "lastChanged": iso_ms(doc.updated_ms)}
        latest = iso_ms(docs[-1].updated_ms) if docs else iso_ms(since_ms)
        return json_reply({"latest": latest, "employees": employees})

    @app.get("/api/v1/employees")
    def list_employees(request: Request) -> Response:
        query = parse_list_query(list(request.query_params.multi_items()))
        everyone = bodies(store)
        rows = [list_row(doc, query.fields, everyone) for doc in live(store)]
        page = select_page(rows, query)
        url = request.url.remove_query_params(["page[after]", "page[before]"])
        links: dict[str, Any] = {"self": {"href": str(request.url)}}
        if page.next_cursor:
            links["next"] = {"href": str(url.include_query_params(
                **{"page[after]": page.next_cursor}))}
        if page.prev_cursor:
            links["prev"] = {"href": str(url.include_query_params(
                **{"page[before]": page.prev_cursor}))}
        return json_reply({
            "data": page.rows,
            "meta": {"total": page.total, "page": {"limit": query.limit,
                                                   "nextCursor": page.next_cursor,
                                                   "prevCursor": page.prev_cursor}},
            "_links": links,
        })

    @app.post("/api/v1/employees")
    async def create_employee(request: Request) -> Response:
        changes = parse_object(await request.body())
        with store.lock:
            stamp = next_stamp(store)
            body = new_body(changes, _checks(store), stamp)
            employee_id = new_employee_id(store)
            store.put(OBJECT, make_doc(employee_id, body, stamp))
        location = f"{str(request.base_url).rstrip('/')}/api/v1/employees/{employee_id}"
        return Response(status_code=201, headers={"Location": location})

    @app.get("/api/v1/employees/{employee_id}")
    def get_employee(employee_id: str, request: Request) -> Response:
        names = [n.strip() for n in
                 (request.query_params.get("fields") or "firstName,lastName").split(",")
                 if n.strip()]
        if len(names) > MAX_FIELDS:
            raise HrError(400, "BadRequest",
                          f"At most {MAX_FIELDS} fields per request; got {len(names)}.")
        if employee_id == "0":
            raise HrError(404, "NotFound", "This API key is not tied to an employee (id 0).")
        _bool_param("onlyCurrent", request.query_params.get("onlyCurrent"), True)
        doc = _live_doc(store, employee_id)
        sup_id = doc.body.get("supervisorEId")
        sup = store.get(OBJECT, sup_id) if sup_id else None
        everyone = {sup.id: sup.body} if sup is not None else {}
        return json_reply(employee_fields(doc, list(dict.fromkeys(names)), everyone))

    @app.post("/api/v1/employees/{employee_id}")
    async def update_employee(employee_id: str, request: Request) -> Response:
        changes = parse_object(await request.body())
        with store.lock:
            doc = _live_doc(store, employee_id)
            body = apply_changes(doc.body, changes, _checks(store, employee_id))
            if body != doc.body:
                store.put(OBJECT, make_doc(employee_id, body, next_stamp(store)))
        return Response(status_code=200)

    @app.get("/api/v1_2/datasets")
    def list_datasets(request: Request) -> Response:
        return json_reply({"datasets": [{"name": ds.DATASET, "label": ds.DATASET_LABEL}]},
                          headers={"X-Request-ID": _request_id(request)})

    @app.get("/api/v1_2/datasets/{dataset}/fields")
    def dataset_fields(dataset: str, request: Request) -> Response:
        if dataset != ds.DATASET:
            raise HrError(422, "DATASET_NOT_FOUND", f"No dataset named {dataset!r}; the sandbox "
                                                    f"offers {ds.DATASET!r}.")
        fields = ds.field_descriptors()
        return json_reply({
            "pagination": {"total_records": len(fields), "current_page": 1, "total_pages": 1,
                           "next_page": None, "prev_page": None},
            "name": ds.DATASET, "label": ds.DATASET_LABEL, "fields": fields,
        }, headers={"X-Request-ID": _request_id(request)})

    @app.post("/api/v2/datasets/{dataset}/data")
    async def dataset_data(dataset: str, request: Request) -> Response:
        if dataset != ds.DATASET:
            raise HrError(404, "DATASET_NOT_FOUND", f"No dataset named {dataset!r}; the sandbox "
                                                    f"offers {ds.DATASET!r}.")
        query = ds.parse_data_request(parse_object(await request.body()))
        everyone = bodies(store)
        rows = [
            {name: as_text(read_field(doc.id, doc.body, doc.updated_ms, name, everyone.get)[1])
             for name in ds.FIELD_NAMES}
            for doc in live(store)
        ]
        page, total = ds.run_query(rows, query)
        pages = ds.total_pages(total, query.page_size)
        url = str(request.url.remove_query_params(["page", "pageSize"]))
        return json_reply({
            "data": [{"fields": row} for row in page],
            "links": {
                "next": (f"{url}?page={query.page + 1}&pageSize={query.page_size}"
                         if query.page < pages else None),
                "prev": (f"{url}?page={query.page - 1}&pageSize={query.page_size}"
                         if query.page > 1 else None),
            },
            "meta": {"page": query.page, "pageSize": query.page_size, "totalPages": pages,
                     "totalItems": total},
        }, headers={"X-Request-ID": _request_id(request)})

    @app.get("/_sandbox/hr/throttle", include_in_schema=False)
    def get_throttle() -> ThrottleSetting:
        return ThrottleSetting(status=ctx.state.get(THROTTLE_STATE, DEFAULT_THROTTLE_STATUS))

    @app.post("/_sandbox/hr/throttle", include_in_schema=False)
    def set_throttle(setting: ThrottleSetting) -> ThrottleSetting:
        if setting.status not in (429, 503, "alternate"):
            raise StarletteHTTPException(400, "status must be 429, 503 or 'alternate'")
        ctx.state[THROTTLE_STATE] = setting.status
        return setting

    return app
