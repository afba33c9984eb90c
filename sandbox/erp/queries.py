"""Reading pages of records straight from the store's SQLite file, fast enough for 1M contacts.

Xero pages by number (``page`` and ``pageSize``), which is OFFSET semantics. Connectors walk pages
in order, so the emulator remembers where each page ended (per query and data version) and seeks
from there instead of skipping rows: the same rows as OFFSET while nothing changes, at a constant
cost per page. Counts are cached per data version too. Bodies are returned as stored JSON text
so a page is not decoded and re-encoded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sandbox.context import SystemContext
from sandbox.erp.where import json_text
from sandbox.store import Store

_CACHE_MAX = 512

# (object, index name suffix, indexed expressions): the lookups a sync makes per record (a
# contact by e-mail or ContactNumber) and the default contact list. Other filters scan; each
# index costs seconds of seeding at a million customers.
EXTRA_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("contacts", "arch_upd", "archived, updated_ms, seq"),
    ("contacts", "email", json_text("$.EmailAddress")),
    ("contacts", "number", json_text("$.ContactNumber")),
)


def ensure_indexes(store: Store) -> None:
    """Create the emulator's extra indexes (idempotent; run after bulk seeding)."""
    for obj, suffix, expr in EXTRA_INDEXES:
        table = store.ensure(obj)
        with store.lock:
            store.conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_{suffix} ON {table}({expr})")


@dataclass(frozen=True)
class Selection:
    """Which records a list request wants, in which order (SQL over the store's columns)."""

    obj: str
    where: str
    params: tuple[Any, ...]
    order: tuple[tuple[str, bool], ...] = ()
    live_only: bool = False  # hide archived records

    def where_sql(self, *, for_rowid_scan: bool = False) -> str:
        """The WHERE text; ``+archived`` keeps SQLite walking the rowid for the default order
        instead of sorting every live record from the archived index."""
        if not self.live_only:
            return self.where
        live = "+archived = 0" if for_rowid_scan else "archived = 0"
        return live if self.where == "1=1" else f"{live} AND ({self.where})"

    def order_sql(self) -> list[tuple[str, bool]]:
        """The ORDER BY terms, always ending with ``seq`` so the order is total."""
        terms = list(self.order)
        last_desc = terms[-1][1] if terms else False
        return [*terms, ("seq", last_desc)]


def _state(ctx: SystemContext) -> dict[str, Any]:
    state: dict[str, Any] = ctx.state.setdefault("erp_queries", {
        "version": 0, "counts": {}, "bounds": {}, "lock": threading.Lock(),
    })
    return state


def bump_version(ctx: SystemContext) -> None:
    """Forget cached counts and page bounds: call after every write."""
    state = _state(ctx)
    with state["lock"]:
        state["version"] += 1
        state["counts"].clear()
        state["bounds"].clear()


def data_version(ctx: SystemContext) -> tuple[int, int]:
    """This process's write counter plus SQLite's (which moves when another process writes)."""
    with ctx.store.lock:
        external = int(ctx.store.conn.execute("PRAGMA data_version").fetchone()[0])
    return _state(ctx)["version"], external


def count(ctx: SystemContext, sel: Selection) -> int:
    """How many records match (cached until the data changes)."""
    state = _state(ctx)
    key = (sel.obj, sel.where_sql(), sel.params, data_version(ctx))
    cached = state["counts"].get(key)
    if cached is not None:
        return int(cached)
    value = ctx.store.count(sel.obj, sel.where_sql(), sel.params)
    with state["lock"]:
        if len(state["counts"]) > _CACHE_MAX:
            state["counts"].clear()
        state["counts"][key] = value
    return value


def fetch(ctx: SystemContext, sel: Selection, page: int | None, size: int | None) -> list[str]:
    """Stored JSON bodies of one page (1-based), or of every match when ``page`` is None."""
    store = ctx.store
    table = store.ensure(sel.obj)
    terms = sel.order_sql()
    exprs = [expr for expr, _ in terms]
    order_by = ", ".join(f"{expr} {'DESC' if desc else 'ASC'}" for expr, desc in terms)
    where = sel.where_sql(for_rowid_scan=not sel.order)
    select = f"SELECT body, {', '.join(exprs)} FROM {table}"
    if page is None or size is None:
        with store.lock:
            rows = store.conn.execute(f"{select} WHERE {where} ORDER BY {order_by}",
                                      sel.params).fetchall()
        return [r[0] for r in rows]

    state = _state(ctx)
    base_key = (sel, size, data_version(ctx))
    bound = state["bounds"].get((base_key, page - 1)) if page > 1 else None
    uniform = len({desc for _, desc in terms}) == 1
    if bound is not None and uniform:
        cmp = "<" if terms[0][1] else ">"
        if len(exprs) == 1:
            seek = f"{exprs[0]} {cmp} ?"
        else:
            seek = f"({', '.join(exprs)}) {cmp} ({', '.join('?' for _ in exprs)})"
        sql = f"{select} WHERE ({where}) AND {seek} ORDER BY {order_by} LIMIT {int(size)}"
        params: tuple[Any, ...] = (*sel.params, *bound)
    else:
        sql = (f"{select} WHERE {where} ORDER BY {order_by} "
               f"LIMIT {int(size)} OFFSET {int((page - 1) * size)}")
        params = sel.params
    with store.lock:
        rows = store.conn.execute(sql, params).fetchall()
    if rows:
        last = tuple(rows[-1][1:])
        if all(v is not None for v in last):
            with state["lock"]:
                if len(state["bounds"]) > _CACHE_MAX:
                    state["bounds"].clear()
                state["bounds"][(base_key, page)] = last
    return [r[0] for r in rows]
