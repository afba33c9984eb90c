"""Render the world's CRM records into HubSpot-shaped documents in the CRM store.

Records are built as plain dicts and written with ``put_many`` in chunks; associations go in
one transaction at the end, then the paging indexes are built (faster than indexing while
inserting). A million contacts take well under a minute.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from sandbox.crm import associations, records
from sandbox.crm.objects import COMPANIES, CONTACTS, DEALS, LINE_ITEMS, PRODUCTS, ObjectType
from sandbox.crm.render import country_name, iso, money, stored_record
from sandbox.store import Doc, Store
from sandbox.world.model import (
    Address,
    CrmCompany,
    CrmContact,
    CrmDeal,
    CrmLineItem,
    CrmOwner,
    CrmProduct,
    World,
)

CHUNK = 50_000
R = TypeVar("R")


def _address(address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    return {"address": address.line1, "city": address.city, "state": address.region,
            "zip": address.postcode, "country": country_name(address.country_code)}


def contact_properties(c: CrmContact, company_names: dict[str, str]) -> dict[str, Any]:
    """A contact's HubSpot properties (empty values are dropped when stored).

    E-mails keep the world's mess (case, padding) as if imported long ago; the API lower-cases
    what clients write, and lookups by e-mail ignore case and padding.
    """
    return {
        "email": c.email, "firstname": c.first_name,
        "lastname": c.last_name, "phone": c.phone, **_address(c.address),
        "company": company_names.get(c.company_record_id or ""),
        "associatedcompanyid": c.company_record_id, "hubspot_owner_id": c.owner_id,
        "hs_email_optout": "true" if c.email_opt_out else "false",
        "erp_contact_id": c.erp_contact_id,
    }


def company_properties(c: CrmCompany) -> dict[str, Any]:
    """A company's HubSpot properties."""
    return {"name": c.name, "domain": c.domain, "phone": c.phone, **_address(c.address),
            "industry": c.industry, "hubspot_owner_id": c.owner_id}


def product_properties(p: CrmProduct) -> dict[str, Any]:
    """A product's HubSpot properties."""
    return {"name": p.name, "hs_sku": p.sku, "price": money(p.price_cents),
            "description": p.description}


def deal_properties(d: CrmDeal) -> dict[str, Any]:
    """A deal's HubSpot properties (always in the default pipeline)."""
    return {"dealname": d.name, "amount": money(d.amount_cents), "dealstage": d.stage,
            "pipeline": "default", "closedate": iso(d.close_ms) if d.close_ms else None,
            "hubspot_owner_id": d.owner_id}


def line_item_properties(li: CrmLineItem, skus: dict[str, str]) -> dict[str, Any]:
    """A line item's HubSpot properties (``amount`` = quantity x price)."""
    return {"name": li.name, "quantity": str(li.quantity), "price": money(li.price_cents),
            "amount": money(li.quantity * li.price_cents), "hs_product_id": li.product_record_id,
            "hs_sku": skus.get(li.product_record_id)}


def owner_body(o: CrmOwner) -> dict[str, Any]:
    """An owner in the ``PublicOwner`` shape."""
    body: dict[str, Any] = {
        "id": o.record_id, "email": o.email, "type": "PERSON", "firstName": o.first_name,
        "lastName": o.last_name, "userId": o.user_id, "userIdIncludingInactive": o.user_id,
        "createdAt": iso(o.created_ms), "updatedAt": iso(o.updated_ms), "archived": o.archived,
        "teams": [],
    }
    return body


def doc(obj: ObjectType, record_id: str, properties: dict[str, Any], created_ms: int,
        updated_ms: int, archived: bool) -> Doc:
    """One stored record."""
    body = stored_record(record_id, properties, created_ms, updated_ms, obj,
                         archived_ms=updated_ms if archived else None)
    return Doc(id=record_id, updated_ms=updated_ms, body=body, archived=archived,
               key=records.key_of(obj, body["properties"]))


def _chunks(items: Iterable[R], size: int = CHUNK) -> Iterator[list[R]]:
    chunk: list[R] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _put(store: Store, obj: ObjectType, items: Iterable[R], render: Callable[[R], Doc]) -> None:
    for chunk in _chunks(items):
        store.put_many(obj.name, [render(item) for item in chunk])


def _links(world: World) -> Iterator[associations.Row]:
    live_companies = {c.record_id for c in world.crm.companies if not c.archived}
    for c in world.crm.contacts:
        if c.company_record_id in live_companies and not c.archived:
            yield from associations.both_ways("contacts", c.record_id, "companies",
                                              c.company_record_id, primary=True)
    live_contacts = {c.record_id for c in world.crm.contacts if not c.archived}
    for d in world.crm.deals:
        if d.archived:
            continue
        if d.company_record_id in live_companies:
            yield from associations.both_ways("deals", d.record_id, "companies",
                                              d.company_record_id, primary=True)
        for contact_id in d.contact_record_ids:
            if contact_id in live_contacts:
                yield from associations.both_ways("deals", d.record_id, "contacts", contact_id)
        for li in d.line_items:
            if not li.archived:
                yield from associations.both_ways("deals", d.record_id, "line_items",
                                                  li.record_id)


def _max_id(ids: Iterable[str]) -> int:
    return max((int(i) for i in ids if i.isdigit()), default=0)


def seed(world: World, store: Store) -> None:
    """Write the world's CRM records, associations, truth rows and CRM breaks into ``store``.

    The garbage collector is paused meanwhile: with a big world in memory every collection
    walks millions of objects, which made seeding several times slower (no cycles are made).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        _seed(world, store)
    finally:
        if enabled:
            gc.enable()


def _seed(world: World, store: Store) -> None:
    crm = world.crm
    store.conn.execute("PRAGMA cache_size = -262144")  # 256 MB while bulk loading
    company_names = {c.record_id: c.name for c in crm.companies}
    skus = {p.record_id: p.sku for p in crm.products}
    _put(store, CONTACTS, crm.contacts, lambda c: doc(
        CONTACTS, c.record_id, contact_properties(c, company_names), c.created_ms,
        c.updated_ms, c.archived))
    _put(store, COMPANIES, crm.companies, lambda c: doc(
        COMPANIES, c.record_id, company_properties(c), c.created_ms, c.updated_ms, c.archived))
    _put(store, PRODUCTS, crm.products, lambda p: doc(
        PRODUCTS, p.record_id, product_properties(p), p.created_ms, p.updated_ms, p.archived))
    _put(store, DEALS, crm.deals, lambda d: doc(
        DEALS, d.record_id, deal_properties(d), d.created_ms, d.updated_ms, d.archived))
    line_items = [li for d in crm.deals for li in d.line_items]
    _put(store, LINE_ITEMS, line_items, lambda li: doc(
        LINE_ITEMS, li.record_id, line_item_properties(li, skus), li.created_ms, li.updated_ms,
        li.archived))
    store.put_many(records.OWNERS, [
        Doc(id=o.record_id, updated_ms=o.updated_ms, body=owner_body(o), archived=o.archived,
            key=o.email.lower()) for o in crm.owners])
    records.ensure_schema(store)
    with store.lock:
        store.conn.execute("BEGIN")
        for chunk in _chunks(_links(world), 200_000):
            associations.add(store, chunk)
        store.conn.execute("COMMIT")
    store.conn.execute("PRAGMA cache_size = -2000")  # SQLite's default again
    for obj, items in ((CONTACTS, crm.contacts), (COMPANIES, crm.companies),
                       (PRODUCTS, crm.products), (DEALS, crm.deals), (LINE_ITEMS, line_items)):
        store.meta_set(f"counter:crm:{obj.name}", str(max(_max_id(r.record_id for r in items),
                                                          1000)))
    with store.lock:  # one transaction: row-by-row autocommit would take minutes for 1M rows
        store.conn.execute("BEGIN")
        store.add_truth(
            [("contacts", c.record_id, c.entity_id) for c in crm.contacts]
            + [("companies", c.record_id, c.entity_id) for c in crm.companies]
            + [("products", p.record_id, p.entity_id) for p in crm.products]
            + [("deals", d.record_id, d.entity_id) for d in crm.deals]
            + [("owners", o.record_id, o.entity_id) for o in crm.owners])
        store.add_breaks([(b.kind, b.record_id, b.detail) for b in world.breaks
                          if b.system == "crm"])
        store.conn.execute("COMMIT")
