"""The ``/crm/v3/objects/{objectType}`` routes: list, read, create, update, archive, search and
the five batch operations, for contacts, companies, deals (also ``0-3``), line items, products.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from sandbox.context import SystemContext
from sandbox.crm import associations, batch, hooks, records, search
from sandbox.crm.auth import check_scopes
from sandbox.crm.errors import HubSpotError, not_found, validation_error
from sandbox.crm.objects import ObjectType, all_properties, resolve
from sandbox.crm.render import public_record, select_properties
from sandbox.webhooks import now_ms

LIST_MAX = 100
API_SOURCE = "INTEGRATION"


def object_type(name: str) -> ObjectType:
    """The object type of a path segment; 404 when the emulator does not serve it."""
    obj = resolve(name)
    if obj is None:
        raise not_found(f"Unable to infer object type from: {name}")
    return obj


def multi(request: Request, name: str) -> list[str]:
    """A list query parameter given either repeated or comma-separated (HubSpot takes both).

    >>> from starlette.requests import Request
    >>> r = Request({"type": "http", "query_string": b"properties=a,b&properties=c"})
    >>> multi(r, "properties")
    ['a', 'b', 'c']
    """
    return [part.strip() for value in request.query_params.getlist(name)
            for part in value.split(",") if part.strip()]


def _with_associations(ctx: SystemContext, obj: ObjectType, record: dict[str, Any],
                       wanted: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in wanted:
        target = resolve(name)
        if target is None or associations.type_ids(obj.name, target.name) is None:
            continue  # HubSpot ignores association types that do not exist
        links = associations.page(ctx.store, obj.name, record["id"], target.name, None, 500)
        if links:
            found[name] = {"results": associations.v3_results(obj.name, target.name, links)}
    if found:
        record["associations"] = found
    return record


def add_object_routes(app: FastAPI, ctx: SystemContext,
                      scopes: Callable[..., set[str]]) -> None:
    """Register the object routes on ``app``; ``scopes`` is the auth dependency."""
    store = ctx.store

    def owner_exists(owner_id: str) -> bool:
        return store.count(records.OWNERS, "id = ? AND archived = 0", (owner_id,)) > 0

    def writer(obj: ObjectType) -> batch.Batch:
        return batch.Batch(store, obj, all_properties(store, obj), now_ms(), owner_exists)

    def finish(b: batch.Batch, changes: list[records.Change]) -> None:
        b.save_ids()
        records.commit(store, changes)
        hooks.emit(ctx, changes, API_SOURCE)

    @app.get("/crm/v3/objects/{object_type_name}")
    def list_objects(request: Request, object_type_name: str, limit: int = 10,
                     after: str | None = None, archived: bool = False,
                     granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.read_scopes)
        if limit < 1:
            raise validation_error(f"limit={limit} must be at least 1.")
        known = all_properties(store, obj)
        names = select_properties(obj, multi(request, "properties"), known)
        docs, next_seq = records.list_page(store, obj.name, records.parse_after(after),
                                           min(limit, LIST_MAX), archived)
        wanted = multi(request, "associations")
        results = [_with_associations(ctx, obj, public_record(d.body, names), wanted)
                   for d in docs]
        body: dict[str, Any] = {"results": results}
        if next_seq is not None:
            link = str(request.url.include_query_params(after=str(next_seq)))
            body["paging"] = {"next": {"after": str(next_seq), "link": link}}
        return body

    @app.get("/crm/v3/objects/{object_type_name}/{record_id}")
    def get_object(request: Request, object_type_name: str, record_id: str,
                   idProperty: str | None = None, archived: bool = False,
                   granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.read_scopes)
        known = all_properties(store, obj)
        doc = records.lookup(store, obj, record_id, known, idProperty, archived)
        if doc is None:
            raise not_found(f"No {obj.singular} with {idProperty or 'id'} {record_id!r}"
                            f"{' (archived)' if archived else ''}.",
                            context={"id": [record_id]})
        names = select_properties(obj, multi(request, "properties"), known)
        return _with_associations(ctx, obj, public_record(doc.body, names),
                                  multi(request, "associations"))

    @app.post("/crm/v3/objects/{object_type_name}", status_code=201)
    def create_object(object_type_name: str, body: batch.CreateInput,
                      granted: set[str] = Depends(scopes)) -> JSONResponse:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.write_scopes)
        with store.lock:
            b = writer(obj)
            out = batch.create(b, [body])
            _raise_single(out)
            finish(b, out.changes)
        doc = out.docs[0][0]
        names = select_properties(obj, sorted(out.written), b.known)
        return JSONResponse(public_record(doc.body, names), status_code=201)

    @app.patch("/crm/v3/objects/{object_type_name}/{record_id}")
    def update_object(object_type_name: str, record_id: str, body: batch.CreateInput,
                      idProperty: str | None = None,
                      granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.write_scopes)
        with store.lock:
            b = writer(obj)
            item = batch.UpdateInput(id=record_id, idProperty=idProperty,
                                     properties=body.properties)
            out = batch.update(b, [item])
            _raise_single(out)
            finish(b, out.changes)
        names = select_properties(obj, sorted(out.written), b.known)
        return public_record(out.docs[0][0].body, names)

    @app.delete("/crm/v3/objects/{object_type_name}/{record_id}", status_code=204)
    def archive_object(object_type_name: str, record_id: str,
                       granted: set[str] = Depends(scopes)) -> Response:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.write_scopes)
        with store.lock:
            b = writer(obj)
            out = batch.archive(b, [record_id])
            finish(b, out.changes)
        return Response(status_code=204)

    @app.post("/crm/v3/objects/{object_type_name}/search")
    def search_objects(object_type_name: str, body: search.SearchRequest,
                       granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.read_scopes)
        known = all_properties(store, obj)
        offset = search.window(body.after, body.limit)
        groups = [[(f.propertyName, f.operator, f.value, f.highValue, f.values)
                   for f in g.filters] for g in body.filterGroups]
        where, params = search.compile_filters(obj, known, groups, body.query)
        order = search.compile_sorts(obj, known, body.sorts)
        total = store.count(obj.name, where, tuple(params))
        docs = store.query(obj.name, where, tuple(params), order=order, limit=body.limit,
                           offset=offset) if body.limit else []
        names = select_properties(obj, body.properties, known)
        result: dict[str, Any] = {"total": total,
                                  "results": [public_record(d.body, names) for d in docs]}
        if docs and offset + len(docs) < total:
            result["paging"] = {"next": {"after": str(offset + len(docs))}}
        return result

    @app.post("/crm/v3/objects/{object_type_name}/batch/read")
    def batch_read(object_type_name: str, body: batch.BatchRead,
                   archived: bool = Query(False), granted: set[str] = Depends(scopes),
                   ) -> JSONResponse:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.read_scopes)
        batch.check_batch_size(len(body.inputs), ctx.limits.crm_batch_max)
        started = now_ms()
        b = writer(obj)
        out = batch.read(b, [str(i.id) for i in body.inputs], body.idProperty, archived)
        status, result = batch.response(obj, b.known, out, started, body.properties or None)
        return JSONResponse(result, status_code=status)

    def _write_batch(object_type_name: str, granted: set[str], count: int, ids: list[str],
                     run: Callable[[batch.Batch], batch.Outcome], *, upsert: bool = False,
                     ok_status: int = 200) -> JSONResponse:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.write_scopes)
        batch.check_batch_size(count, ctx.limits.crm_batch_max)
        batch.check_unique_ids(ids)
        started = now_ms()
        with store.lock:
            b = writer(obj)
            out = run(b)
            finish(b, out.changes)
        status, result = batch.response(obj, b.known, out, started, None, upsert=upsert,
                                        ok_status=ok_status)
        return JSONResponse(result, status_code=status)

    @app.post("/crm/v3/objects/{object_type_name}/batch/create")
    def batch_create(object_type_name: str, body: batch.BatchCreate,
                     granted: set[str] = Depends(scopes)) -> JSONResponse:
        return _write_batch(object_type_name, granted, len(body.inputs), [],
                            lambda b: batch.create(b, body.inputs), ok_status=201)

    @app.post("/crm/v3/objects/{object_type_name}/batch/update")
    def batch_update(object_type_name: str, body: batch.BatchUpdate,
                     granted: set[str] = Depends(scopes)) -> JSONResponse:
        ids = [_input_key(i) for i in body.inputs]
        return _write_batch(object_type_name, granted, len(body.inputs), ids,
                            lambda b: batch.update(b, body.inputs))

    @app.post("/crm/v3/objects/{object_type_name}/batch/upsert")
    def batch_upsert(object_type_name: str, body: batch.BatchUpdate,
                     granted: set[str] = Depends(scopes)) -> JSONResponse:
        ids = [_input_key(i) for i in body.inputs]
        return _write_batch(object_type_name, granted, len(body.inputs), ids,
                            lambda b: batch.upsert(b, body.inputs), upsert=True)

    @app.post("/crm/v3/objects/{object_type_name}/batch/archive", status_code=204)
    def batch_archive(object_type_name: str, body: batch.BatchIds,
                      granted: set[str] = Depends(scopes)) -> Response:
        obj = object_type(object_type_name)
        check_scopes(granted, obj.write_scopes)
        batch.check_batch_size(len(body.inputs), ctx.limits.crm_batch_max)
        with store.lock:
            b = writer(obj)
            out = batch.archive(b, [str(i.id) for i in body.inputs])
            finish(b, out.changes)
        return Response(status_code=204)


def _input_key(item: batch.UpdateInput) -> str:
    """The identity of a batch input (lower-cased for emails, which HubSpot matches so)."""
    key = str(item.id)
    return key.lower() if item.idProperty == "email" else key


def _raise_single(out: batch.Outcome) -> None:
    """Turn the one error of a single-record write into its HTTP error."""
    if not out.errors:
        return
    error = out.errors[0]
    status = {"OBJECT_NOT_FOUND": 404, "CONFLICT": 409}.get(error["category"], 400)
    raise HubSpotError(status, error["category"], error["message"],
                       context=error.get("context") or None)
