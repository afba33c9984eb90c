"""Bulk writes for seeding and mutating: one transaction per chunk, bodies encoded with orjson.

``Store.put_many`` encodes with the standard ``json`` module and ``Store.add_truth`` commits row
by row (about 100 µs a row: minutes at a million customers). These helpers write the same rows
with the same upsert rule inside one transaction, and nest inside an open one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.store import Doc, Store

try:  # orjson ships with dlt; the standard library is the fallback
    import orjson

    def encode(body: dict[str, Any]) -> str:
        """Compact JSON text of a record body.

        >>> encode({"a": [1, None, "é"]})
        '{"a":[1,null,"é"]}'
        """
        return orjson.dumps(body).decode()
except ImportError:  # pragma: no cover - only without dlt

    def encode(body: dict[str, Any]) -> str:
        """Compact JSON text of a record body."""
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


@contextmanager
def transaction(store: Store) -> Iterator[None]:
    """Hold the store's lock in one transaction (joins one that is already open)."""
    with store.lock:
        if store.conn.in_transaction:
            yield
            return
        store.conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            store.conn.execute("ROLLBACK")
            raise
        store.conn.execute("COMMIT")


@contextmanager
def big_cache(store: Store, megabytes: int = 256) -> Iterator[None]:
    """A large SQLite page cache while loading many rows (SQLite's default afterwards)."""
    with store.lock:
        store.conn.execute(f"PRAGMA cache_size = -{megabytes * 1024}")
        try:
            yield
        finally:
            store.conn.execute("PRAGMA cache_size = -2000")


def put_docs(store: Store, obj: str, docs: Iterable[Doc]) -> int:
    """Insert or replace ``docs`` (same rule as ``Store.put_many``: rows keep their place)."""
    table = store.ensure(obj)
    rows = [(d.id, d.updated_ms, int(d.archived), d.key, encode(d.body)) for d in docs]
    with transaction(store):
        store.conn.executemany(
            f"INSERT INTO {table}(id, updated_ms, archived, key, body) VALUES (?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET updated_ms=excluded.updated_ms, "
            "archived=excluded.archived, key=excluded.key, body=excluded.body",
            rows,
        )
    return len(rows)


def add_truth(store: Store, rows: Iterable[tuple[str, str, str]]) -> None:
    """``Store.add_truth`` in one transaction."""
    with transaction(store):
        store.add_truth(rows)
