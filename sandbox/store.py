"""A small document store on SQLite: one file per system, one table per object type.

Each record is kept as its vendor-shaped JSON body plus the few columns the emulators filter and
page on: ``id`` (the id the system serves), ``updated_ms`` (last-modified, epoch milliseconds),
``archived`` (0/1) and ``key`` (a secondary lookup such as an email or a name).
Rows also have an integer ``seq`` (SQLite rowid) that gives a stable paging order.

>>> import tempfile, pathlib
>>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "x.sqlite")
>>> store.put("contacts", Doc(id="1", updated_ms=5, body={"id": "1"}, key="a@b.com"))
>>> store.get("contacts", "1").body
{'id': '1'}
>>> store.find_by_key("contacts", "a@b.com")[0].id
'1'
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Doc:
    """One stored record."""

    id: str
    updated_ms: int
    body: dict[str, Any]
    archived: bool = False
    key: str | None = None
    seq: int | None = field(default=None, compare=False)


def _table(obj: str) -> str:
    if not _NAME.match(obj):
        raise ValueError(f"invalid object name {obj!r}: use lower-case letters, digits, _")
    return f"obj_{obj}"


class Store:
    """SQLite-backed store shared by one emulator's request handlers (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        self._known: set[str] = set()
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS truth (
                object TEXT NOT NULL, record_id TEXT NOT NULL, entity_id TEXT NOT NULL,
                PRIMARY KEY (object, record_id)
            );
            CREATE TABLE IF NOT EXISTS breaks (
                kind TEXT NOT NULL, record_id TEXT NOT NULL, detail TEXT NOT NULL
            );
            """
        )

    # -- schema -------------------------------------------------------------------------------
    def ensure(self, obj: str) -> str:
        """Create the table for ``obj`` if missing and return its name."""
        table = _table(obj)
        if table not in self._known:
            with self.lock:
                self.conn.executescript(
                    f"""
                    CREATE TABLE IF NOT EXISTS {table} (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        updated_ms INTEGER NOT NULL,
                        archived INTEGER NOT NULL DEFAULT 0,
                        key TEXT,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX IF NOT EXISTS {table}_upd ON {table}(updated_ms, seq);
                    CREATE INDEX IF NOT EXISTS {table}_key ON {table}(key);
                    """
                )
            self._known.add(table)
        return table

    # -- writes -------------------------------------------------------------------------------
    def put(self, obj: str, doc: Doc) -> None:
        """Insert or replace one record (keeps its paging position when it already exists)."""
        self.put_many(obj, [doc])

    def put_many(self, obj: str, docs: Iterable[Doc]) -> int:
        """Insert or replace many records in one transaction; returns how many were written."""
        table = self.ensure(obj)
        rows = [
            (d.id, d.updated_ms, int(d.archived), d.key, json.dumps(d.body, separators=(",", ":")))
            for d in docs
        ]
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(
                    f"INSERT INTO {table}(id, updated_ms, archived, key, body) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(id) DO UPDATE SET updated_ms=excluded.updated_ms, "
                    "archived=excluded.archived, key=excluded.key, body=excluded.body",
                    rows,
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return len(rows)


    # -- reads --------------------------------------------------------------------------------
    def get(self, obj: str, record_id: str) -> Doc | None:
        """One record by id, or None."""
        rows = self.query(obj, "id = ?", (record_id,), limit=1)
        return rows[0] if rows else None

    def find_by_key(self, obj: str, key: str) -> list[Doc]:
        """Records whose secondary key equals ``key`` (in paging order)."""
        return self.query(obj, "key = ?", (key,))

    def query(
        self,
        obj: str,
        where: str = "1=1",
        params: tuple[Any, ...] = (),
        *,
        order: str = "seq",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Doc]:
        """Records matching a SQL ``where`` on the indexed columns, in ``order``."""
        table = self.ensure(obj)
        sql = f"SELECT seq, id, updated_ms, archived, key, body FROM {table} WHERE {where} "
        sql += f"ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self.lock:
            rows = self.conn.execute(sql, params).fetchall()
        return [
            Doc(id=r[1], updated_ms=r[2], archived=bool(r[3]), key=r[4], body=json.loads(r[5]),
                seq=r[0])
            for r in rows
        ]

    def count(self, obj: str, where: str = "1=1", params: tuple[Any, ...] = ()) -> int:
        """How many records match ``where``."""
        table = self.ensure(obj)
        with self.lock:
            return int(self.conn.execute(f"SELECT count(*) FROM {table} WHERE {where}",
                                         params).fetchone()[0])

    def objects(self) -> list[str]:
        """The object types this store holds."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'obj_%' "
                "ORDER BY name"
            ).fetchall()
        return [r[0][4:] for r in rows]

    def iter_all(self, obj: str, batch: int = 5000) -> Iterator[Doc]:
        """Every record of ``obj`` in paging order, read in batches."""
        last = 0
        while True:
            docs = self.query(obj, "seq > ?", (last,), limit=batch)
            if not docs:
                return
            yield from docs
            last = docs[-1].seq or last

    # -- small key/value area (idempotency keys, counters, settings) --------------------------
    def meta_get(self, name: str) -> str | None:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, name: str, value: str) -> None:
        with self.lock:
            self.conn.execute(
                "INSERT INTO meta(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def next_id(self, counter: str, start: int) -> int:
        """A new integer id from a named counter that survives restarts."""
        with self.lock:
            current = self.meta_get(f"counter:{counter}")
            value = (int(current) if current is not None else start) + 1
            self.meta_set(f"counter:{counter}", str(value))
        return value

    # -- ground truth and seeded breaks (never served; exported for tests and benchmarks) ------
    def add_truth(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record ``(object, record_id, entity_id)``: which real entity a served record is."""
        self._in_transaction(
            "INSERT OR REPLACE INTO truth(object, record_id, entity_id) VALUES (?,?,?)", rows)

    def truth_rows(self) -> list[tuple[str, str, str]]:
        """Every ``(object, record_id, entity_id)`` in a stable order."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT object, record_id, entity_id FROM truth ORDER BY object, rowid"
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def add_breaks(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Record seeded breaks as ``(kind, record_id, detail)``."""
        self._in_transaction("INSERT INTO breaks(kind, record_id, detail) VALUES (?,?,?)", rows)

    def break_rows(self) -> list[tuple[str, str, str]]:
        """Every seeded ``(kind, record_id, detail)`` in insertion order."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT kind, record_id, detail FROM breaks ORDER BY rowid"
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def _in_transaction(self, sql: str, rows: Iterable[tuple[str, str, str]]) -> None:
        with self.lock:
            in_tx = self.conn.in_transaction
            if not in_tx:
                self.conn.execute("BEGIN")
            try:
                self.conn.executemany(sql, list(rows))
                if not in_tx:
                    self.conn.execute("COMMIT")
            except BaseException:
                if not in_tx:
                    self.conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self.lock:
            self.conn.close()
