"""The CRM object types the emulator serves and the properties each one knows.

A HubSpot portal names an object type several ways (``contacts``, ``contact``, ``0-1``); every
route resolves the path segment with :func:`resolve`. Each type lists its property catalog: the
built-in properties the emulator stores (rendered from the world) plus the read-only system
properties every record has. Custom properties created through the properties API are kept in
the store's meta table (see :func:`custom_properties`).

>>> resolve("0-3").name, resolve("deal").name, resolve("contacts").modified_property
('deals', 'deals', 'lastmodifieddate')
>>> resolve("tickets") is None
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from sandbox.store import Store

PropertyType = Literal[
    "string", "number", "datetime", "date", "enumeration", "bool", "phone_number"
]


@dataclass(frozen=True)
class PropertyDef:
    """One property of an object type (the subset of HubSpot's property definition we need)."""

    name: str
    type: PropertyType = "string"
    label: str = ""
    read_only: bool = False
    unique: bool = False
    options: tuple[str, ...] = ()
    hubspot_defined: bool = True

    @property
    def field_type(self) -> str:
        """HubSpot's ``fieldType`` for this property's ``type``."""
        return {
            "number": "number", "datetime": "date", "date": "date", "enumeration": "select",
            "bool": "booleancheckbox", "phone_number": "phonenumber",
        }.get(self.type, "text")


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its names, scopes, default properties and property catalog."""

    name: str  # the plural path name, also the store's table name
    type_id: str  # HubSpot's object type id, e.g. 0-1
    singular: str  # as in webhook subscription types (contact.creation) and association types
    modified_property: str
    default_properties: tuple[str, ...]
    read_scopes: tuple[str, ...]
    write_scopes: tuple[str, ...]
    key_property: str | None  # stored in the store's indexed ``key`` column
    catalog: tuple[PropertyDef, ...] = field(default_factory=tuple)

    def builtin(self) -> dict[str, PropertyDef]:
        """The built-in properties by name (system properties included)."""
        system = (
            PropertyDef("hs_object_id", "number", "Record ID", read_only=True, unique=True),
            PropertyDef("createdate", "datetime", "Create date", read_only=True),
            PropertyDef(self.modified_property, "datetime", "Last modified date", read_only=True),
        )
        return {p.name: p for p in (*system, *self.catalog)}


DEAL_STAGES: tuple[str, ...] = (
    "appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
    "contractsent", "closedwon", "closedlost",
)


def _p(name: str, type_: PropertyType = "string", **kw: object) -> PropertyDef:
    label = name.replace("hs_", "").replace("_", " ").capitalize()
    return PropertyDef(name, type_, label, **kw)  # type: ignore[arg-type]


_OWNER = _p("hubspot_owner_id", "enumeration")
_ADDRESS = (_p("address"), _p("city"), _p("state"), _p("zip"), _p("country"))

CONTACTS = ObjectType(
    "contacts", "0-1", "contact", "lastmodifieddate",
    ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    ("crm.objects.contacts.read",), ("crm.objects.contacts.write",), "email",
    (
        _p("email", unique=True), _p("firstname"), _p("lastname"), _p("phone", "phone_number"),
        _p("mobilephone", "phone_number"), *_ADDRESS, _p("company"), _p("jobtitle"),
        _p("lifecyclestage", "enumeration"), _OWNER, _p("associatedcompanyid", "number"),
        _p("hs_email_optout", "bool"), _p("erp_contact_id", hubspot_defined=False),
    ),
)
COMPANIES = ObjectType(
    "companies", "0-2", "company", "hs_lastmodifieddate",
    ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    ("crm.objects.companies.read",), ("crm.objects.companies.write",), "domain",
    (
        _p("name"), _p("domain"), _p("website"), _p("phone", "phone_number"), *_ADDRESS,
        _p("industry", "enumeration"), _p("description"), _OWNER,
    ),
)
DEALS = ObjectType(
    "deals", "0-3", "deal", "hs_lastmodifieddate",
    ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
     "hs_object_id", "pipeline"),
    ("crm.objects.deals.read",), ("crm.objects.deals.write",), None,
    (
        _p("dealname"), _p("amount", "number"), _p("dealstage", "enumeration", options=DEAL_STAGES),
        _p("pipeline", "enumeration", options=("default",)), _p("closedate", "datetime"),
        _p("deal_currency_code", "enumeration"), _OWNER,
    ),
)
LINE_ITEMS = ObjectType(
    "line_items", "0-8", "line_item", "hs_lastmodifieddate",
    ("amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_product_id", "name",
     "price", "quantity"),
    ("crm.objects.line_items.read",), ("crm.objects.line_items.write",), None,
    (
        _p("name"), _p("quantity", "number"), _p("price", "number"),
        _p("amount", "number", read_only=True), _p("hs_product_id", "number"), _p("hs_sku"),
        _p("description"),
    ),
)
PRODUCTS = ObjectType(
    "products", "0-7", "product", "hs_lastmodifieddate",
    ("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
    # ``e-commerce`` is HubSpot's older scope for products (see auth.py for how it is read).
    ("crm.objects.products.read", "e-commerce"), ("crm.objects.products.write", "e-commerce"),
    "hs_sku",
    (_p("name"), _p("hs_sku"), _p("price", "number"), _p("description")),
)

OBJECT_TYPES: tuple[ObjectType, ...] = (CONTACTS, COMPANIES, DEALS, LINE_ITEMS, PRODUCTS)

_ALIASES: dict[str, ObjectType] = {}
for _t in OBJECT_TYPES:
    for _alias in (_t.name, _t.type_id, _t.singular, _t.singular.replace("_", "")):
        _ALIASES[_alias] = _t
_ALIASES["lineitems"] = LINE_ITEMS


def resolve(name: str) -> ObjectType | None:
    """The object type a path segment names (plural, singular or ``0-N`` id), or None."""
    return _ALIASES.get(name.lower())


# -- custom properties (created through POST /crm/v3/properties/{objectType}) ----------------
def _meta_name(obj: ObjectType) -> str:
    return f"crm:custom_properties:{obj.name}"


def custom_properties(store: Store, obj: ObjectType) -> dict[str, PropertyDef]:
    """Custom properties defined on ``obj`` in this store."""
    raw = store.meta_get(_meta_name(obj))
    if not raw:
        return {}
    return {
        d["name"]: PropertyDef(d["name"], d["type"], d["label"], unique=d.get("unique", False),
                               options=tuple(d.get("options", ())), hubspot_defined=False)
        for d in json.loads(raw)
    }


def add_custom_property(store: Store, obj: ObjectType, prop: PropertyDef) -> None:
    """Define a custom property (unique ones get an expression index for idProperty lookups)."""
    with store.lock:
        current = custom_properties(store, obj)
        current[prop.name] = prop
        store.meta_set(_meta_name(obj), json.dumps([
            {"name": p.name, "type": p.type, "label": p.label, "unique": p.unique,
             "options": list(p.options)} for p in current.values()
        ]))
        if prop.unique:
            table = store.ensure(obj.name)
            store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_u_{prop.name} "
                f"ON {table}(json_extract(body, '$.properties.{prop.name}'))"
            )


def all_properties(store: Store, obj: ObjectType) -> dict[str, PropertyDef]:
    """Built-in and custom properties of ``obj``."""
    return {**obj.builtin(), **custom_properties(store, obj)}
