"""Bulk loading for the seeder: bodies encoded once, rows written in big transactions by a
writer thread while the caller builds the next chunk.

``Store.add_truth`` commits row by row and ``Store.put_many`` wants dicts it encodes itself; at a
million customers both dominate a seed. :class:`Loader` writes the same rows (same table layout
and upsert rule as ``Store.put_many``) one transaction per chunk, takes bodies already rendered
as JSON text (:mod:`sandbox.erp.seedtext`), defers the table's secondary indexes to one sort at
the end, and lets SQLite's work (which releases the GIL) overlap with rendering on the other
core.
"""

from __future__ import annotations

import contextlib
import gc
import json
import queue
import sqlite3
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from sandbox.store import Doc, Store


def encode(body: dict[str, Any]) -> str:
    """Compact JSON text of a record body (as ``Store.put_many`` writes it).

    >>> encode({"a": [1, "é"]})
    '{"a":[1,"é"]}'
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


Row = tuple[str, int, int, str | None, str]  # id, updated_ms, archived, key, JSON body
_UPSERT = ("INSERT INTO {table}(id, updated_ms, archived, key, body) VALUES (?,?,?,?,?) "
           "ON CONFLICT(id) DO UPDATE SET updated_ms=excluded.updated_ms, "
           "archived=excluded.archived, key=excluded.key, body=excluded.body")
_TRUTH = "INSERT OR REPLACE INTO truth(object, record_id, entity_id) VALUES (?,?,?)"


def rows_of(docs: Iterable[Doc]) -> list[Row]:
    """Store rows (``id, updated_ms, archived, key, body``) with encoded bodies."""
    return [(d.id, d.updated_ms, int(d.archived), d.key, encode(d.body)) for d in docs]


class Loader:
    """Writes chunks of rows in a background thread; use as a context manager.

    >>> import pathlib, tempfile
    >>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "x.sqlite")
    >>> with Loader(store) as load:
    ...     load.docs("things", [Doc("a", 1, {"n": 1})])
    ...     load.truth([("things", "a", "thing-1")])
    >>> store.get("things", "a").body, store.truth_rows()
    ({'n': 1}, [('things', 'a', 'thing-1')])
    """

    def __init__(self, store: Store, depth: int = 2) -> None:
        self.store = store
        self.jobs: queue.Queue[tuple[str, list[Any]] | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="erp-seed-writer", daemon=True)
        self.gc_was_enabled = gc.isenabled()
        self.journal = "wal"
        self.synchronous = 1
        self.deferred: dict[str, list[str]] = {}

    def __enter__(self) -> Loader:
        # Millions of new dicts next to a world of millions of objects: the cyclic collector
        # would rescan the world again and again (the generator does the same).
        gc.disable()
        with self.store.lock:
            conn = self.store.conn
            conn.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
            # one write per page instead of WAL + checkpoint; a crash mid-seed means re-seeding
            self.journal = str(conn.execute("PRAGMA journal_mode").fetchone()[0])
            with contextlib.suppress(sqlite3.OperationalError):  # others connected: stay in WAL
                conn.execute("PRAGMA journal_mode = MEMORY")
            self.synchronous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
            conn.execute("PRAGMA synchronous = OFF")  # no fsync per chunk; the OS writes back
        self.thread.start()
        return self

    def docs(self, obj: str, docs: Iterable[Doc]) -> None:
        """Queue ``docs`` for ``obj`` (encoded here, written by the writer thread)."""
        self.rows(obj, rows_of(docs))

    def rows(self, obj: str, rows: list[Row]) -> None:
        """Queue rows whose bodies are already JSON text."""
        table = self.store.ensure(obj)
        if table not in self.deferred:
            self.deferred[table] = self._defer_indexes(table)
        self._put(_UPSERT.format(table=table), rows)

    def _defer_indexes(self, table: str) -> list[str]:
        """Drop an empty table's secondary indexes, to be rebuilt in one sort after loading
        (much cheaper than growing them row by row). Returns their definitions."""
        with self.store.lock:
            conn = self.store.conn
            if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                return []
            found = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL", (table,)).fetchall()
            for name, _ in found:
                conn.execute(f"DROP INDEX {name}")
        return [str(sql) for _, sql in found]

    def truth(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Queue truth rows (``Store.add_truth`` in one transaction)."""
        self._put(_TRUTH, list(rows))

    def _put(self, sql: str, rows: list[Any]) -> None:
        if self.error is not None:
            raise self.error
        if rows:
            self.jobs.put((sql, rows))

    def _run(self) -> None:
        conn = self.store.conn
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if self.error is not None:
                continue
            sql, rows = job
            try:
                with self.store.lock:
                    conn.execute("BEGIN")
                    try:
                        conn.executemany(sql, rows)
                        conn.execute("COMMIT")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
            except BaseException as exc:
                self.error = exc

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.jobs.put(None)
        self.thread.join()
        with self.store.lock:
            conn = self.store.conn
            for definitions in self.deferred.values():
                for sql in definitions:
                    conn.execute(sql)
            conn.execute("PRAGMA cache_size = -2000")  # SQLite's default again
            conn.execute(f"PRAGMA journal_mode = {self.journal}")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        if self.gc_was_enabled:
            gc.enable()
        if self.error is not None and exc is None:
            raise self.error
