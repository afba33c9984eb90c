"""Reading and writing CRM records in the store: lookups, list pages, ids and the write path.

Every write goes through :func:`commit`, which stores the new documents, keeps associations in
step (a contact's ``associatedcompanyid``, the links given when creating, links dropped on
archive) and returns the changes so the caller can emit webhooks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from sandbox.crm import associations
from sandbox.crm.errors import validation_error
from sandbox.crm.objects import LINE_ITEMS, OBJECT_TYPES, ObjectType, PropertyDef
from sandbox.crm.render import iso, number, stored_record
from sandbox.store import Doc, Store

OWNERS = "owners"
ChangeKind = Literal["creation", "propertyChange", "deletion"]


@dataclass
class Change:
    """One record written by a request or by mutate (what webhooks report)."""

    obj: ObjectType
    doc: Doc
    kind: ChangeKind
    changed: dict[str, str | None] = field(default_factory=dict)
    links: list[associations.Row] = field(default_factory=list)


def ensure_schema(store: Store) -> None:
    """Tables, the extra indexes list/search paging relies on, and planner statistics
    (idempotent, fast when done).

    Without statistics SQLite answers ``key = ? AND archived = 0`` (an upsert by email) by
    walking the ``archived`` index, a full scan per lookup on a big store; ``ANALYZE`` (sampled,
    so it stays fast) makes it use the key index.
    """
    with store.lock:
        tables = []
        for obj in (*(t.name for t in OBJECT_TYPES), OWNERS):
            table = store.ensure(obj)
            tables.append(table)
            store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_arch ON {table}(archived, seq)")
            store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_arch_upd "
                f"ON {table}(archived, updated_ms, seq)")
        associations.ensure_table(store)
        has_stats = store.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]
        analysed = {row[0] for row in store.conn.execute(
            "SELECT DISTINCT tbl FROM sqlite_stat1")} if has_stats else set()
        missing = [t for t in tables if t not in analysed]
        if missing:
            store.conn.execute("PRAGMA analysis_limit = 2000")
            for table in missing:
                store.conn.execute(f"ANALYZE {table}")


def key_of(obj: ObjectType, properties: dict[str, str]) -> str | None:
    """The value kept in the store's indexed ``key`` column (lower-cased for lookups).

    >>> from sandbox.crm.objects import CONTACTS
    >>> key_of(CONTACTS, {"email": " A@b.com"})
    'a@b.com'
    """
    if obj.key_property is None:
        return None
    value = properties.get(obj.key_property)
    return value.strip().lower() if value else None


def lookup(store: Store, obj: ObjectType, value: str, known: dict[str, PropertyDef],
           id_property: str | None = None, archived: bool = False) -> Doc | None:
    """One record by id or by a unique property (``idProperty``), live or archived."""
    flag = int(archived)
    if not id_property or id_property == "hs_object_id":
        docs = store.query(obj.name, "id = ? AND archived = ?", (value, flag), limit=1)
    elif id_property == obj.key_property and known[id_property].unique:
        docs = store.query(obj.name, "key = ? AND archived = ?", (value.strip().lower(), flag),
                           limit=1)
    elif id_property in known and known[id_property].unique:
        docs = store.query(
            obj.name, f"json_extract(body, '$.properties.{id_property}') = ? AND archived = ?",
            (value, flag), limit=1)
    else:
        raise validation_error(
            f"Property {id_property!r} is not a unique identifier of {obj.name}: use "
            f"hs_object_id or a unique property "
            f"({', '.join(sorted(n for n, p in known.items() if p.unique))}).")
    return docs[0] if docs else None


def parse_after(after: str | None) -> int:
    """The numeric paging cursor (``0`` when absent); 400 when it is not a number."""
    if after is None or after == "":
        return 0
    try:
        value = int(after)
    except ValueError:
        raise validation_error(f"Invalid paging cursor after={after!r}: pass the value of "
                               "paging.next.after from the previous page.") from None
    if value < 0:
        raise validation_error(f"Invalid paging cursor after={after!r}: it must be >= 0.")
    return value


def list_page(store: Store, obj_name: str, after: int, limit: int, archived: bool,
              extra_where: str = "", params: tuple[object, ...] = (),
              ) -> tuple[list[Doc], int | None]:
    """One page in ``seq`` order and the cursor of the next page (None on the last)."""
    where = f"archived = ? AND seq > ?{extra_where}"
    docs = store.query(obj_name, where, (int(archived), after, *params), limit=limit + 1)
    if len(docs) > limit:
        docs = docs[:limit]
        return docs, docs[-1].seq
    return docs, None


def last_record_id(store: Store, obj: ObjectType) -> int:
    """The last record id issued for ``obj``: its counter, else the highest numeric id in the
    store (at least 1000)."""
    with store.lock:
        current = store.meta_get(f"counter:crm:{obj.name}")
        if current is not None:
            return int(current)
        table = store.ensure(obj.name)
        row = store.conn.execute(f"SELECT max(CAST(id AS INTEGER)) FROM {table}").fetchone()
        return max(int(row[0] or 0), 1000)


def save_record_id(store: Store, obj: ObjectType, last: int) -> None:
    """Remember ``last`` as the last record id issued for ``obj`` (survives restarts)."""
    store.meta_set(f"counter:crm:{obj.name}", str(last))


def next_record_id(store: Store, obj: ObjectType) -> str:
    """A fresh record id for ``obj`` (continues after the highest numeric id in the store)."""
    with store.lock:
        value = last_record_id(store, obj) + 1
        save_record_id(store, obj, value)
    return str(value)


def reserve_ids(store: Store, counter: str, count: int, start: int = 0) -> int:
    """Reserve ``count`` consecutive ids of a named counter; returns the first."""
    with store.lock:
        current = store.meta_get(f"counter:{counter}")
        first = (int(current) if current is not None else start) + 1
        store.meta_set(f"counter:{counter}", str(first + count - 1))
    return first


def _line_item_amount(props: dict[str, str]) -> None:
    if "quantity" in props and "price" in props:
        props["amount"] = number(str(Decimal(props["quantity"]) * Decimal(props["price"])))


def new_doc(obj: ObjectType, record_id: str, values: dict[str, str | None], now: int) -> Doc:
    """A new record with ``values`` (already validated)."""
    props = {k: v for k, v in values.items() if v is not None}
    if obj is LINE_ITEMS:
        _line_item_amount(props)
    body = stored_record(record_id, props, now, now, obj)
    return Doc(id=record_id, updated_ms=now, body=body, key=key_of(obj, body["properties"]))


def updated_doc(obj: ObjectType, doc: Doc, values: dict[str, str | None],
                now: int) -> tuple[Doc, dict[str, str | None]]:
    """``doc`` with ``values`` applied and what actually changed (unchanged doc when nothing)."""
    props: dict[str, str] = dict(doc.body["properties"])
    changed: dict[str, str | None] = {}
    for name, value in values.items():
        if props.get(name) != value:
            changed[name] = value
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
    if not changed:
        return doc, changed
    if obj is LINE_ITEMS and ({"quantity", "price"} & changed.keys()):
        _line_item_amount(props)
    props[obj.modified_property] = iso(now)
    body = copy.copy(doc.body)
    body["properties"] = props
    body["updatedAt"] = iso(now)
    return Doc(id=doc.id, updated_ms=now, body=body, archived=doc.archived,
               key=key_of(obj, props), seq=doc.seq), changed


def archived_doc(obj: ObjectType, doc: Doc, now: int) -> Doc:
    """``doc`` archived at ``now`` (HubSpot also moves its last-modified time)."""
    body = copy.copy(doc.body)
    props = dict(body["properties"])
    props[obj.modified_property] = iso(now)
    body.update(properties=props, updatedAt=iso(now), archived=True, archivedAt=iso(now))
    return Doc(id=doc.id, updated_ms=now, body=body, archived=True, key=doc.key, seq=doc.seq)


def _company_links(store: Store, change: Change) -> None:
    """Keep a contact's primary company link in step with ``associatedcompanyid``."""
    if change.obj.name != "contacts" or "associatedcompanyid" not in change.changed:
        return
    associations.remove_links(store, "contacts", change.doc.id, "companies")
    company = change.changed["associatedcompanyid"]
    if company and store.count("companies", "id = ? AND archived = 0", (company,)):
        associations.add(store, associations.both_ways(
            "contacts", change.doc.id, "companies", company, primary=True))


def commit(store: Store, changes: Iterable[Change]) -> list[Change]:
    """Store every change in one go per object type and update associations."""
    done = list(changes)
    by_obj: dict[str, list[Doc]] = {}
    for change in done:
        by_obj.setdefault(change.obj.name, []).append(change.doc)
    with store.lock:
        for obj_name, docs in by_obj.items():
            store.put_many(obj_name, docs)
        for change in done:
            if change.kind == "deletion":
                associations.remove_record(store, change.obj.name, change.doc.id)
                continue
            _company_links(store, change)
            if change.links:
                associations.add(store, change.links)
    return done
