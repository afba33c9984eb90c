"""The HR store's employees: documents, ids and change stamps shared by seed, mutate and the app.

Each employee is a :class:`~sandbox.store.Doc` of object ``employees``: ``id`` is the BambooHR
employee id, ``updated_ms`` its ``lastChanged``, ``archived`` marks a deleted employee and ``key``
is the lower-cased work e-mail (kept unique among employees that are not deleted).
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.store import Doc, Store

OBJECT = "employees"
_STAMP = "hr:last_stamp"
_COUNTER = "employees"


def make_doc(employee_id: str, body: dict[str, Any], updated_ms: int,
             archived: bool = False) -> Doc:
    """A stored employee (its e-mail, lower-cased, is the lookup key)."""
    email = body.get("workEmail")
    return Doc(id=employee_id, updated_ms=updated_ms, body=body, archived=archived,
               key=email.lower() if isinstance(email, str) and email else None)


def note_stamp(store: Store, ms: int) -> None:
    """Remember ``ms`` as issued so later stamps come after it."""
    with store.lock:
        last = int(store.meta_get(_STAMP) or 0)
        if ms > last:
            store.meta_set(_STAMP, str(ms))


def next_stamp(store: Store, now_ms: int | None = None) -> int:
    """A ``lastChanged`` for a write: now, but always after every stamp issued before.

    Unique increasing stamps make ``employees/changed?since=<latest>`` exact: a change made
    after a read can never share the read's ``latest``.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    with store.lock:
        stamp = max(now, int(store.meta_get(_STAMP) or 0) + 1)
        store.meta_set(_STAMP, str(stamp))
    return stamp


def note_ids(store: Store, ids: list[str]) -> None:
    """Make new employee ids start after the largest numeric id in ``ids``."""
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return
    with store.lock:
        current = int(store.meta_get(f"counter:{_COUNTER}") or 0)
        if max(numeric) > current:
            store.meta_set(f"counter:{_COUNTER}", str(max(numeric)))


def new_employee_id(store: Store) -> str:
    """The next employee id (after every id seeded or created so far)."""
    with store.lock:
        if store.meta_get(f"counter:{_COUNTER}") is None:
            note_ids(store, [d.id for d in store.iter_all(OBJECT)])
        return str(store.next_id(_COUNTER, start=0))


def email_owner(store: Store, email_lower: str) -> str | None:
    """The id of the (not deleted) employee using a work e-mail, if any."""
    for doc in store.find_by_key(OBJECT, email_lower):
        if not doc.archived:
            return doc.id
    return None


def live(store: Store) -> list[Doc]:
    """Every employee that is not deleted, in paging order."""
    return store.query(OBJECT, "archived = 0")


def bodies(store: Store) -> dict[str, dict[str, Any]]:
    """Every stored employee body by id (deleted ones too: a supervisor may have been deleted)."""
    return {doc.id: doc.body for doc in store.iter_all(OBJECT)}
