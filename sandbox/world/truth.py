"""Ground truth: which real entity each served record describes.

The per-system seeders write the same rows into their stores; this is the reference they are
tested against. Objects are named like the vendor's object; shop record ids are
``<shop>/<id>``, exactly as :mod:`sandbox.store` truth rows and the warehouse's ``record_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sandbox.world.ids import shop_record_id
from sandbox.world.model import Record, World

TruthRow = tuple[str, str, str, str]  # (system, object, record_id, entity_id)


def _rows(system: str, obj: str, records: Sequence[Record]) -> list[TruthRow]:
    return [(system, obj, r.record_id, r.entity_id) for r in records]


def truth_rows(world: World) -> list[TruthRow]:
    """Every served record's ``(system, object, record_id, entity_id)``.

    Covers crm contacts/companies/products/deals/owners, erp contacts/items/invoices, shop
    customers/products/orders (per shop) and hr employees. Archived records are included where
    the vendor still serves them (CRM ``archived=true``, ERP status ARCHIVED, shop products);
    archived shop customers are deleted customers, never served, so they have no row. Line
    items, payments and credit notes are parts of deals and invoices, so they have no rows.

    >>> from sandbox.world.model import World
    >>> truth_rows(World(seed=1, customers=0, now_ms=0))
    []
    """
    crm, erp = world.crm, world.erp
    rows: list[TruthRow] = []
    rows += _rows("crm", "contacts", crm.contacts)
    rows += _rows("crm", "companies", crm.companies)
    rows += _rows("crm", "products", crm.products)
    rows += _rows("crm", "deals", crm.deals)
    rows += _rows("crm", "owners", crm.owners)
    rows += _rows("erp", "contacts", erp.contacts)
    rows += _rows("erp", "items", erp.items)
    rows += _rows("erp", "invoices", erp.invoices)
    for shop_name, shop in world.shops.items():
        # Shopify deletes customers rather than archiving them: a deleted one is never served.
        customers = [c for c in shop.customers if not c.archived]
        for obj, records in (("customers", customers), ("products", shop.products),
                             ("orders", shop.orders)):
            rows += [("shop", obj, shop_record_id(shop_name, r.record_id), r.entity_id)
                     for r in records]
    rows += _rows("hr", "employees", world.hr.employees)
    return rows
