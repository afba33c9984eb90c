"""The other CRM routes: owners (``/crm/v3/owners``), associations v4 and the properties API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.context import SystemContext
from sandbox.crm import associations, records
from sandbox.crm.api_objects import object_type
from sandbox.crm.auth import check_scopes
from sandbox.crm.batch import check_batch_size
from sandbox.crm.errors import HubSpotError, not_found, standard_error, validation_error
from sandbox.crm.objects import (
    ObjectType,
    PropertyDef,
    PropertyType,
    add_custom_property,
    all_properties,
)
from sandbox.crm.render import iso
from sandbox.webhooks import now_ms

OWNER_SCOPES = ("crm.objects.owners.read",)
OWNERS_MAX = 500
ASSOCIATIONS_MAX = 500
ASSOCIATION_BATCH_MAX = 1000
PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_GROUPS = {"contacts": "contactinformation", "companies": "companyinformation",
           "deals": "dealinformation", "line_items": "lineiteminformation",
           "products": "productinformation"}


class FetchAssociations(BaseModel):
    id: str | int
    after: str | None = None


class BatchFetchAssociations(BaseModel):
    inputs: list[FetchAssociations]


class OptionInput(BaseModel):
    label: str
    value: str
    hidden: bool = False
    displayOrder: int | None = None


class PropertyCreate(BaseModel):
    name: str
    label: str
    type: str
    fieldType: str
    groupName: str
    description: str = ""
    hasUniqueValue: bool = False
    options: list[OptionInput] = Field(default_factory=list)


def property_body(obj: ObjectType, prop: PropertyDef, order: int) -> dict[str, Any]:
    """A property definition in HubSpot's ``Property`` shape."""
    return {
        "name": prop.name, "label": prop.label or prop.name, "type": prop.type,
        "fieldType": prop.field_type, "description": "", "groupName": _GROUPS[obj.name],
        "options": [{"label": o, "value": o, "hidden": False, "displayOrder": i}
                    for i, o in enumerate(prop.options)],
        "displayOrder": order, "calculated": False, "externalOptions": False,
        "hasUniqueValue": prop.unique, "hidden": False, "hubspotDefined": prop.hubspot_defined,
        "formField": not prop.read_only, "archived": False,
        "modificationMetadata": {"archivable": not prop.hubspot_defined,
                                 "readOnlyDefinition": prop.hubspot_defined,
                                 "readOnlyValue": prop.read_only},
    }


def _link_types(granted: set[str], from_name: str, to_name: str) -> tuple[ObjectType, ObjectType]:
    source, target = object_type(from_name), object_type(to_name)
    check_scopes(granted, source.read_scopes)
    check_scopes(granted, target.read_scopes)
    return source, target


def _links_page(ctx: SystemContext, source: ObjectType, target: ObjectType, record_id: str,
                after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    if associations.type_ids(source.name, target.name) is None:
        return [], None
    links = associations.page(ctx.store, source.name, record_id, target.name, after, limit + 1)
    results: list[dict[str, Any]] = [
        {"toObjectId": to_id,
         "associationTypes": associations.v4_types(source.name, target.name, primary)}
        for to_id, primary in links[:limit]]
    return results, (links[limit - 1][0] if len(links) > limit else None)


def _first_pages(ctx: SystemContext, source: ObjectType, target: ObjectType,
                 record_ids: list[str]) -> dict[str, tuple[list[dict[str, Any]], str | None]]:
    """:func:`_links_page` from the start for every canonical numeric id, in one query
    (a batch read of 1,000 records would otherwise run 1,000 queries)."""
    if associations.type_ids(source.name, target.name) is None:
        return {}
    ids = [i for i in record_ids if i.isdigit() and str(int(i)) == i]
    found = associations.first_pages(ctx.store, source.name, ids, target.name,
                                     ASSOCIATIONS_MAX + 1)
    pages: dict[str, tuple[list[dict[str, Any]], str | None]] = {}
    for record_id in ids:
        links = found.get(record_id, [])
        results: list[dict[str, Any]] = [
            {"toObjectId": to_id,
             "associationTypes": associations.v4_types(source.name, target.name, primary)}
            for to_id, primary in links[:ASSOCIATIONS_MAX]]
        more = links[ASSOCIATIONS_MAX - 1][0] if len(links) > ASSOCIATIONS_MAX else None
        pages[record_id] = (results, more)
    return pages


def add_more_routes(app: FastAPI, ctx: SystemContext, scopes: Callable[..., set[str]]) -> None:
    """Register owners, associations v4 and properties routes on ``app``."""
    store = ctx.store

    # -- owners ---------------------------------------------------------------------------
    @app.get("/crm/v3/owners")
    def list_owners(request: Request, limit: int = 100, after: str | None = None,
                    email: str | None = None, archived: bool = False,
                    granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        check_scopes(granted, OWNER_SCOPES)
        if limit < 1:
            raise validation_error(f"limit={limit} must be at least 1.")
        extra, params = ("", ()) if email is None else (" AND key = ?", (email.lower(),))
        docs, next_seq = records.list_page(store, records.OWNERS, records.parse_after(after),
                                           min(limit, OWNERS_MAX), archived, extra, params)
        body: dict[str, Any] = {"results": [d.body for d in docs]}
        if next_seq is not None:
            link = str(request.url.include_query_params(after=str(next_seq)))
            body["paging"] = {"next": {"after": str(next_seq), "link": link}}
        return body

    @app.get("/crm/v3/owners/{owner_id}")
    def get_owner(owner_id: int, idProperty: str = "id", archived: bool = False,
                  granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        check_scopes(granted, OWNER_SCOPES)
        if idProperty not in ("id", "userId"):
            raise validation_error(f"idProperty={idProperty!r} must be 'id' or 'userId'.")
        where = "id = ?" if idProperty == "id" else \
            "CAST(json_extract(body, '$.userId') AS INTEGER) = ?"
        docs = store.query(records.OWNERS, f"{where} AND archived = ?",
                           (str(owner_id) if idProperty == "id" else owner_id, int(archived)),
                           limit=1)
        if not docs:
            raise not_found(f"No owner with {idProperty} {owner_id}"
                            f"{' (archived)' if archived else ''}.")
        return docs[0].body

    # -- associations v4 --------------------------------------------------------------------
    @app.get("/crm/v4/objects/{from_type}/{record_id}/associations/{to_type}")
    def list_associations(request: Request, from_type: str, record_id: str, to_type: str,
                          after: str | None = None, limit: int = ASSOCIATIONS_MAX,
                          granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        source, target = _link_types(granted, from_type, to_type)
        if not 1 <= limit <= ASSOCIATIONS_MAX:
            raise validation_error(f"limit={limit} must be from 1 to {ASSOCIATIONS_MAX}.")
        if not store.count(source.name, "id = ? AND archived = 0", (record_id,)):
            raise not_found(f"No {source.singular} with id {record_id!r}.",
                            context={"id": [record_id]})
        results, next_after = _links_page(ctx, source, target, record_id, after, limit)
        body: dict[str, Any] = {"results": results}
        if next_after is not None:
            link = str(request.url.include_query_params(after=next_after))
            body["paging"] = {"next": {"after": next_after, "link": link}}
        return body

    @app.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
    def batch_read_associations(from_type: str, to_type: str, body: BatchFetchAssociations,
                                granted: set[str] = Depends(scopes)) -> JSONResponse:
        source, target = _link_types(granted, from_type, to_type)
        check_batch_size(len(body.inputs), ASSOCIATION_BATCH_MAX)
        started = now_ms()
        results: list[dict[str, Any]] = []
        empty: list[str] = []
        first = _first_pages(ctx, source, target, [str(i.id) for i in body.inputs
                                                   if i.after is None])
        for item in body.inputs:
            from_id = str(item.id)
            if item.after is None and from_id in first:
                links, next_after = first[from_id]
            else:
                links, next_after = _links_page(ctx, source, target, from_id, item.after,
                                                ASSOCIATIONS_MAX)
            if not links:
                empty.append(from_id)
                continue
            result: dict[str, Any] = {"from": {"id": from_id}, "to": links}
            if next_after is not None:
                result["paging"] = {"next": {"after": next_after}}
            results.append(result)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results,
                               "startedAt": iso(started), "completedAt": iso(now_ms())}
        if not empty:
            return JSONResponse(out)
        out["numErrors"] = len(empty)
        out["errors"] = [standard_error(
            "OBJECT_NOT_FOUND", f"No {target.singular} is associated with {source.singular} "
            f"{from_id}.", {"fromObjectId": [from_id]}) for from_id in empty]
        return JSONResponse(out, status_code=207)

    # -- properties ---------------------------------------------------------------------------
    @app.get("/crm/v3/properties/{type_name}")
    def list_properties(type_name: str, granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(type_name)
        check_scopes(granted, obj.read_scopes)
        props = all_properties(store, obj).values()
        return {"results": [property_body(obj, p, i) for i, p in enumerate(props)]}

    @app.get("/crm/v3/properties/{type_name}/{property_name}")
    def get_property(type_name: str, property_name: str,
                     granted: set[str] = Depends(scopes)) -> dict[str, Any]:
        obj = object_type(type_name)
        check_scopes(granted, obj.read_scopes)
        props = list(all_properties(store, obj).values())
        for i, prop in enumerate(props):
            if prop.name == property_name:
                return property_body(obj, prop, i)
        raise not_found(f"Unable to find property {property_name!r} on {obj.name}.")

    @app.post("/crm/v3/properties/{type_name}", status_code=201)
    def create_property(type_name: str, body: PropertyCreate,
                        granted: set[str] = Depends(scopes)) -> JSONResponse:
        obj = object_type(type_name)
        check_scopes(granted, obj.write_scopes)
        if not PROPERTY_NAME.match(body.name):
            raise validation_error(f"Property name {body.name!r} is invalid: use lower-case "
                                   "letters, digits and _, starting with a letter.")
        if body.type not in ("string", "number", "datetime", "date", "enumeration", "bool",
                             "phone_number"):
            raise validation_error(f"Property type {body.type!r} is not supported.")
        with store.lock:
            known = all_properties(store, obj)
            if body.name in known:
                raise HubSpotError(409, "OBJECT_ALREADY_EXISTS",
                                   f"A property named {body.name!r} already exists on "
                                   f"{obj.name}.")
            type_: PropertyType = body.type  # type: ignore[assignment]
            prop = PropertyDef(body.name, type_, body.label, unique=body.hasUniqueValue,
                               options=tuple(o.value for o in body.options),
                               hubspot_defined=False)
            add_custom_property(store, obj, prop)
        return JSONResponse(property_body(obj, prop, len(known)), status_code=201)
