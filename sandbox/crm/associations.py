"""Associations between CRM records, kept in the emulator's own table of the CRM store.

Each link is stored in both directions (``from`` → ``to``) so every read is one index range.
``is_primary`` marks a contact's (or deal's) primary company; HubSpot reports such links with
two association types: the labelled "Primary" one and the unlabelled one.

>>> type_ids("contacts", "companies")
AssociationKind(type_id=279, primary_type_id=1, v3_name='contact_to_company')
>>> kind_for_type_id(3)
('deals', 'contacts')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sandbox.store import Store

TABLE = "crm_associations"


class AssociationKind(NamedTuple):
    type_id: int
    primary_type_id: int | None
    v3_name: str


# HubSpot's HUBSPOT_DEFINED association type ids for the pairs the emulator serves.
KINDS: dict[tuple[str, str], AssociationKind] = {
    ("contacts", "companies"): AssociationKind(279, 1, "contact_to_company"),
    ("companies", "contacts"): AssociationKind(280, 2, "company_to_contact"),
    ("deals", "contacts"): AssociationKind(3, None, "deal_to_contact"),
    ("contacts", "deals"): AssociationKind(4, None, "contact_to_deal"),
    ("deals", "companies"): AssociationKind(341, 5, "deal_to_company"),
    ("companies", "deals"): AssociationKind(342, 6, "company_to_deal"),
    ("deals", "line_items"): AssociationKind(19, None, "deal_to_line_item"),
    ("line_items", "deals"): AssociationKind(20, None, "line_item_to_deal"),
}

Row = tuple[str, str, str, str, int]  # from_type, from_id, to_type, to_id, is_primary


def type_ids(from_type: str, to_type: str) -> AssociationKind | None:
    """The association kind between two object types, or None when they cannot be linked."""
    return KINDS.get((from_type, to_type))


def kind_for_type_id(type_id: int) -> tuple[str, str] | None:
    """The ``(from, to)`` object types an association type id links."""
    for pair, kind in KINDS.items():
        if type_id in (kind.type_id, kind.primary_type_id):
            return pair
    return None


def ensure_table(store: Store) -> None:
    """Create the associations table if missing."""
    with store.lock:
        store.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "from_type TEXT NOT NULL, from_id INTEGER NOT NULL, to_type TEXT NOT NULL, "
            "to_id INTEGER NOT NULL, is_primary INTEGER NOT NULL DEFAULT 0, "
            "PRIMARY KEY (from_type, from_id, to_type, to_id)) WITHOUT ROWID"
        )


def both_ways(from_type: str, from_id: str, to_type: str, to_id: str,
              primary: bool = False) -> list[Row]:
    """The two stored rows of one link.

    >>> both_ways("deals", "1", "contacts", "2")
    [('deals', '1', 'contacts', '2', 0), ('contacts', '2', 'deals', '1', 0)]
    """
    flag = int(primary)
    return [(from_type, from_id, to_type, to_id, flag), (to_type, to_id, from_type, from_id, flag)]


def add(store: Store, rows: Iterable[Row]) -> None:
    """Insert (or re-flag) links; call inside ``store.lock`` with the other writes."""
    with store.lock:
        store.conn.executemany(
            f"INSERT INTO {TABLE}(from_type, from_id, to_type, to_id, is_primary) "
            "VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET is_primary = excluded.is_primary",
            list(rows),
        )


def remove_record(store: Store, obj: str, record_id: str) -> int:
    """Drop every link of one record (HubSpot removes them when a record is archived)."""
    with store.lock:
        mirrored = store.conn.execute(
            f"SELECT to_type, to_id FROM {TABLE} WHERE from_type = ? AND from_id = ?",
            (obj, record_id),
        ).fetchall()
        store.conn.executemany(
            f"DELETE FROM {TABLE} WHERE from_type = ? AND from_id = ? AND to_type = ? "
            "AND to_id = ?", [(t, i, obj, record_id) for t, i in mirrored],
        )
        store.conn.execute(f"DELETE FROM {TABLE} WHERE from_type = ? AND from_id = ?",
                           (obj, record_id))
    return len(mirrored)


def remove_links(store: Store, from_type: str, from_id: str, to_type: str) -> None:
    """Drop every link from one record to records of ``to_type`` (both directions)."""
    with store.lock:
        targets = store.conn.execute(
            f"SELECT to_id FROM {TABLE} WHERE from_type = ? AND from_id = ? AND to_type = ?",
            (from_type, from_id, to_type),
        ).fetchall()
        store.conn.executemany(
            f"DELETE FROM {TABLE} WHERE from_type = ? AND from_id = ? AND to_type = ? "
            "AND to_id = ?",
            [(to_type, t[0], from_type, from_id) for t in targets]
            + [(from_type, from_id, to_type, t[0]) for t in targets],
        )


def page(store: Store, from_type: str, from_id: str, to_type: str, after: str | None,
         limit: int) -> list[tuple[str, bool]]:
    """Up to ``limit`` linked ``(to_id, is_primary)`` after the ``after`` id, in id order."""
    sql = f"SELECT to_id, is_primary FROM {TABLE} WHERE from_type = ? AND from_id = ? " \
          "AND to_type = ?"
    params: list[Any] = [from_type, from_id, to_type]
    if after is not None:
        sql += " AND to_id > ?"
        params.append(after)
    sql += f" ORDER BY to_id LIMIT {int(limit)}"
    with store.lock:
        rows = store.conn.execute(sql, params).fetchall()
    return [(str(r[0]), bool(r[1])) for r in rows]


def first_pages(store: Store, from_type: str, from_ids: Sequence[str], to_type: str,
                limit: int) -> dict[str, list[tuple[str, bool]]]:
    """:func:`page` from the start for many records in one query (batch reads): up to
    ``limit`` linked ``(to_id, is_primary)`` per record id, in id order (absent: no links)."""
    found: dict[str, list[tuple[str, bool]]] = {}
    if not from_ids:
        return found
    marks = ",".join("?" * len(from_ids))
    sql = (f"SELECT from_id, to_id, is_primary FROM {TABLE} WHERE from_type = ? AND to_type = ? "
           f"AND from_id IN ({marks}) ORDER BY from_id, to_id")
    with store.lock:
        rows = store.conn.execute(sql, [from_type, to_type, *from_ids]).fetchall()
    for from_id, to_id, primary in rows:
        links = found.setdefault(str(from_id), [])
        if len(links) < limit:
            links.append((str(to_id), bool(primary)))
    return found


def v4_types(from_type: str, to_type: str, primary: bool) -> list[dict[str, Any]]:
    """``associationTypes`` of one link in the v4 shape (``AssociationSpecWithLabel``).

    >>> [t["typeId"] for t in v4_types("contacts", "companies", True)]
    [1, 279]
    """
    kind = KINDS[(from_type, to_type)]
    types: list[dict[str, Any]] = []
    if primary and kind.primary_type_id is not None:
        types.append({"category": "HUBSPOT_DEFINED", "typeId": kind.primary_type_id,
                      "label": "Primary"})
    types.append({"category": "HUBSPOT_DEFINED", "typeId": kind.type_id})
    return types


def v3_results(from_type: str, to_type: str, links: list[tuple[str, bool]]) -> list[dict[str, str]]:
    """Links in the v3 record shape (``{"id", "type"}``; primary links appear twice, as HubSpot
    lists both the labelled and the unlabelled type).

    >>> v3_results("contacts", "companies", [("5", True)])
    [{'id': '5', 'type': 'contact_to_company'}, {'id': '5', 'type': 'contact_to_company_unlabeled'}]
    """
    kind = KINDS[(from_type, to_type)]
    out: list[dict[str, str]] = []
    for to_id, primary in links:
        if kind.primary_type_id is None:
            out.append({"id": to_id, "type": kind.v3_name})
        elif primary:
            out += [{"id": to_id, "type": kind.v3_name},
                    {"id": to_id, "type": f"{kind.v3_name}_unlabeled"}]
        else:
            out.append({"id": to_id, "type": f"{kind.v3_name}_unlabeled"})
    return out
