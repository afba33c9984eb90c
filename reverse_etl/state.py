"""Reverse-ETL bookkeeping in the warehouse (schema ``reverse_etl``), on DuckDB and Postgres.

- ``sync_state``: one row per (sync, key): the destination id, the hash and payload last
  *confirmed* by the destination, status, attempts, last error. A record's state is written only
  after the destination answered for it; ``sending`` marks a batch in flight (an intent, never a
  success), so a crash leaves the record to be re-sent, idempotently.
- ``dead_letters``: records rejected ``max_attempts`` times, until ``goldloop sync replay``.
- ``audit``: one row per operation (run, sync, key, destination id, operation, status, reason,
  the destination's request id, the payload with PII redacted, timestamps).
- ``runs``: one row per run with its summary.
- ``conflicts``: records the destination changed after our last write (``kind``
  ``changed_in_destination``, with the destination's last-modified and how the sync's policy
  resolved it: ``flagged`` waits for a person, ``destination_kept`` / ``warehouse_written`` are
  resolved at once), records that left the model under ``removed: flag`` and the rows of the
  spec's flag rules. ``resolved_at IS NULL``: waiting for a person (``goldloop sync replay``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from goldloop.settings import Target
from reverse_etl.sql import execute, fetch, fetch_dicts, insert_rows, table_exists

SCHEMA = "reverse_etl"
STATE = f"{SCHEMA}.sync_state"
DEAD_LETTERS = f"{SCHEMA}.dead_letters"
AUDIT = f"{SCHEMA}.audit"
RUNS = f"{SCHEMA}.runs"
CONFLICTS = f"{SCHEMA}.conflicts"

STATUSES = ("synced", "sending", "rejected", "failed", "dead", "deleted", "conflict", "kept")
# conflict resolutions that need nobody: the sync's policy settled them
SETTLED = ("destination_kept", "warehouse_written")

DDL: tuple[str, ...] = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {STATE} (
        sync_name VARCHAR NOT NULL,
        sync_key VARCHAR NOT NULL,
        destination_id VARCHAR,
        status VARCHAR NOT NULL,
        synced_hash VARCHAR,
        synced_payload VARCHAR,
        attempted_hash VARCHAR,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error VARCHAR,
        synced_at TIMESTAMP,
        destination_updated_at TIMESTAMP,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (sync_name, sync_key))""",
    f"""CREATE TABLE IF NOT EXISTS {DEAD_LETTERS} (
        sync_name VARCHAR NOT NULL,
        sync_key VARCHAR NOT NULL,
        destination_id VARCHAR,
        payload_hash VARCHAR,
        payload VARCHAR,
        reason VARCHAR,
        attempts INTEGER NOT NULL,
        run_id VARCHAR NOT NULL,
        dead_at TIMESTAMP NOT NULL,
        replayed_at TIMESTAMP,
        replay_run_id VARCHAR,
        PRIMARY KEY (sync_name, sync_key, run_id))""",
    f"""CREATE TABLE IF NOT EXISTS {AUDIT} (
        run_id VARCHAR NOT NULL,
        sync_name VARCHAR NOT NULL,
        sync_key VARCHAR NOT NULL,
        destination_id VARCHAR,
        operation VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        reason VARCHAR,
        request_id VARCHAR,
        http_status INTEGER,
        attempts INTEGER,
        payload VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (
        run_id VARCHAR PRIMARY KEY,
        sync_name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        summary VARCHAR,
        message VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS {CONFLICTS} (
        sync_name VARCHAR NOT NULL,
        sync_key VARCHAR NOT NULL,
        destination_id VARCHAR,
        kind VARCHAR NOT NULL,
        detail VARCHAR,
        run_id VARCHAR NOT NULL,
        detected_at TIMESTAMP NOT NULL,
        resolved_at TIMESTAMP,
        PRIMARY KEY (sync_name, sync_key, kind, run_id))""",
    # added after the first release: warehouses made before get the columns here
    f"ALTER TABLE {CONFLICTS} ADD COLUMN IF NOT EXISTS resolution VARCHAR",
    f"ALTER TABLE {CONFLICTS} ADD COLUMN IF NOT EXISTS destination_updated_at TIMESTAMP",
)

STATE_COLUMNS = ("sync_name", "sync_key", "destination_id", "status", "synced_hash",
                 "synced_payload", "attempted_hash", "attempts", "last_error", "synced_at",
                 "destination_updated_at", "updated_at")


def now() -> datetime:
    """UTC now as a naive timestamp (the warehouse's convention for ``*_at`` columns)."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(con: Any, target: Target) -> None:
    """Create the schema and tables if they do not exist yet."""
    for statement in DDL:
        execute(con, target, statement)


def has_state(con: Any, target: Target) -> bool:
    """Whether the state table exists (a warehouse that never ran a sync has none)."""
    return table_exists(con, target, SCHEMA, "sync_state")


@dataclass
class StateRow:
    """What the state table says about one record (a row of ``sync_state``)."""

    sync_key: str
    destination_id: str | None
    status: str
    synced_hash: str | None
    synced_payload: str | None
    attempted_hash: str | None
    attempts: int
    last_error: str | None
    synced_at: datetime | None
    destination_updated_at: datetime | None


def _state_tuple(sync: str, row: StateRow, at: datetime) -> tuple[Any, ...]:
    return (sync, row.sync_key, row.destination_id, row.status, row.synced_hash,
            row.synced_payload, row.attempted_hash, row.attempts, row.last_error, row.synced_at,
            row.destination_updated_at, at)


def write_state(con: Any, target: Target, sync: str, rows: Sequence[StateRow]) -> int:
    """Upsert state rows (the caller wraps this in the batch's transaction)."""
    at = now()
    return insert_rows(con, target, STATE, STATE_COLUMNS,
                       (_state_tuple(sync, r, at) for r in rows),
                       conflict=("sync_name", "sync_key"), update=STATE_COLUMNS[2:])


def write_attempts(con: Any, target: Target, sync: str,
                   rows: Sequence[tuple[str, str | None, str, str | None, int, str | None]],
                   *, keep_error: bool = False) -> int:
    """Record attempts that confirmed nothing: ``(key, destination id, status, attempted hash,
    attempts, last error)``. The confirmed columns (synced hash, payload, time) stay as they were.

    ``keep_error`` (marking a batch in flight) leaves attempts and the last error untouched.
    """
    at = now()
    update = ["status", "attempted_hash", "updated_at"]
    if not keep_error:
        update += ["attempts", "last_error"]
    return insert_rows(con, target, STATE, (
        "sync_name", "sync_key", "destination_id", "status", "attempted_hash", "attempts",
        "last_error", "updated_at"),
        ((sync, key, dest, status, hashed, attempts, error, at)
         for key, dest, status, hashed, attempts, error in rows),
        conflict=("sync_name", "sync_key"), update=update)


def read_state(con: Any, target: Target, sync: str,
               keys: Iterable[str] | None = None) -> dict[str, StateRow]:
    """State rows of ``sync`` (all, or only ``keys``)."""
    if not has_state(con, target):
        return {}
    sql = (f"SELECT sync_key, destination_id, status, synced_hash, synced_payload, "
           f"attempted_hash, attempts, last_error, synced_at, destination_updated_at "
           f"FROM {STATE} WHERE sync_name = ?")
    params: list[Any] = [sync]
    wanted = list(keys) if keys is not None else None
    if wanted is not None:
        if not wanted:
            return {}
        sql += " AND sync_key IN (" + ", ".join("?" for _ in wanted) + ")"
        params += wanted
    return {str(r[0]): StateRow(str(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6] or 0), r[7],
                                r[8], r[9])
            for r in fetch(con, target, sql, params)}


@dataclass(frozen=True)
class AuditRow:
    """One operation on one record, as the audit table keeps it."""

    run_id: str
    sync_key: str
    destination_id: str | None
    operation: str
    status: str
    reason: str | None
    request_id: str | None
    http_status: int | None
    attempts: int
    payload: str | None
    started_at: datetime
    finished_at: datetime


def write_audit(con: Any, target: Target, sync: str, rows: Sequence[AuditRow]) -> int:
    columns = ("run_id", "sync_name", "sync_key", "destination_id", "operation", "status",
               "reason", "request_id", "http_status", "attempts", "payload", "started_at",
               "finished_at")
    return insert_rows(con, target, AUDIT, columns, (
        (r.run_id, sync, r.sync_key, r.destination_id, r.operation, r.status, r.reason,
         r.request_id, r.http_status, r.attempts, r.payload, r.started_at, r.finished_at)
        for r in rows))


@dataclass(frozen=True)
class DeadLetter:
    sync_key: str
    destination_id: str | None
    payload_hash: str
    payload: str
    reason: str
    attempts: int


def write_dead_letters(con: Any, target: Target, sync: str, run_id: str,
                       rows: Sequence[DeadLetter]) -> int:
    columns = ("sync_name", "sync_key", "destination_id", "payload_hash", "payload", "reason",
               "attempts", "run_id", "dead_at")
    at = now()
    return insert_rows(con, target, DEAD_LETTERS, columns, (
        (sync, r.sync_key, r.destination_id, r.payload_hash, r.payload, r.reason, r.attempts,
         run_id, at) for r in rows), conflict=("sync_name", "sync_key", "run_id"))


def open_dead_letters(con: Any, target: Target, sync: str) -> list[dict[str, Any]]:
    """Dead letters of ``sync`` not replayed yet, oldest first."""
    if not has_state(con, target):
        return []
    return fetch_dicts(con, target,
                       f"SELECT sync_key, destination_id, reason, attempts, dead_at, run_id "
                       f"FROM {DEAD_LETTERS} WHERE sync_name = ? AND replayed_at IS NULL "
                       f"ORDER BY dead_at, sync_key", (sync,))


def release(con: Any, target: Target, sync: str, run_id: str) -> list[str]:
    """Give dead letters and flagged conflicts of ``sync`` a fresh start; returns their keys.

    Dead letters are marked replayed and their records get new attempts. A released conflict
    means a person decided the warehouse wins: the record is written on the next run even though
    the destination changed it (its last write's times are forgotten, so the change made in the
    destination no longer counts as a conflict).
    """
    at = now()
    keys = sorted({str(r[0]) for r in fetch(
        con, target, f"SELECT sync_key FROM {STATE} WHERE sync_name = ? "
        f"AND status IN ('dead', 'conflict')", (sync,))})
    if not keys:
        return []
    with Transaction(con, target):
        execute(con, target, f"UPDATE {DEAD_LETTERS} SET replayed_at = ?, replay_run_id = ? "
                f"WHERE sync_name = ? AND replayed_at IS NULL", (at, run_id, sync))
        execute(con, target, f"UPDATE {CONFLICTS} SET resolved_at = ?, resolution = "
                f"'released' WHERE sync_name = ? AND resolved_at IS NULL", (at, sync))
        execute(con, target, f"UPDATE {STATE} SET status = 'rejected', attempts = 0, "
                f"attempted_hash = NULL, destination_updated_at = CASE WHEN status = 'conflict' "
                f"THEN NULL ELSE destination_updated_at END, synced_at = CASE WHEN status = "
                f"'conflict' THEN NULL ELSE synced_at END, updated_at = ? "
                f"WHERE sync_name = ? AND status IN ('dead', 'conflict')", (at, sync))
    return keys


class ConflictRow(NamedTuple):
    """One conflict: a plain ``(key, destination id, kind, detail)`` tuple works too."""

    sync_key: str
    destination_id: str | None
    kind: str
    detail: str
    resolution: str | None = None  # flagged (None) | destination_kept | warehouse_written
    destination_updated_at: datetime | None = None


def write_conflicts(con: Any, target: Target, sync: str, run_id: str,
                    rows: Sequence[tuple[Any, ...]]) -> int:
    """Record conflicts (:class:`ConflictRow` or ``(key, destination id, kind, detail)``).

    Those the sync's policy settled (:data:`SETTLED`) are resolved at once; the others wait
    for a person.
    """
    at = now()
    conflicts = [ConflictRow(*row) for row in rows]
    return insert_rows(con, target, CONFLICTS, (
        "sync_name", "sync_key", "destination_id", "kind", "detail", "run_id", "detected_at",
        "resolved_at", "resolution", "destination_updated_at"),
        ((sync, c.sync_key, c.destination_id, c.kind, c.detail, run_id, at,
          at if c.resolution in SETTLED else None, c.resolution or "flagged",
          c.destination_updated_at) for c in conflicts),
        conflict=("sync_name", "sync_key", "kind", "run_id"))


def settle_conflicts(con: Any, target: Target, sync: str, keys: Sequence[str],
                     resolution: str) -> None:
    """Resolve the open ``changed_in_destination`` conflicts of ``keys`` (the warehouse's
    version was written over them after all)."""
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        execute(con, target, f"UPDATE {CONFLICTS} SET resolved_at = ?, resolution = ? "
                f"WHERE sync_name = ? AND kind = 'changed_in_destination' AND resolved_at IS "
                f"NULL AND sync_key IN ({', '.join('?' for _ in chunk)})",
                (now(), resolution, sync, *chunk))


def start_run(con: Any, target: Target, run_id: str, sync: str, kind: str) -> None:
    insert_rows(con, target, RUNS, ("run_id", "sync_name", "kind", "status", "started_at"),
                [(run_id, sync, kind, "running", now())])


def finish_run(con: Any, target: Target, run_id: str, status: str, summary: dict[str, Any],
               message: str | None = None) -> None:
    execute(con, target, f"UPDATE {RUNS} SET status = ?, finished_at = ?, summary = ?, "
            f"message = ? WHERE run_id = ?",
            (status, now(), json.dumps(summary, default=str), message, run_id))


def last_runs(con: Any, target: Target, sync: str | None = None,
              limit: int = 10) -> list[dict[str, Any]]:
    """The latest runs (of one sync, or all), newest first."""
    if not has_state(con, target):
        return []
    where = "WHERE sync_name = ?" if sync else ""
    params: list[Any] = [sync] if sync else []
    return fetch_dicts(con, target, f"SELECT run_id, sync_name, kind, status, started_at, "
                       f"finished_at, summary, message FROM {RUNS} {where} "
                       f"ORDER BY started_at DESC LIMIT {int(limit)}", params)


def status_counts(con: Any, target: Target, sync: str) -> dict[str, int]:
    """Records per state status for one sync."""
    if not has_state(con, target):
        return {}
    rows = fetch(con, target, f"SELECT status, count(*) FROM {STATE} WHERE sync_name = ? "
                 f"GROUP BY status ORDER BY status", (sync,))
    return {str(s): int(n) for s, n in rows}


def open_conflicts(con: Any, target: Target, sync: str) -> int:
    if not has_state(con, target):
        return 0
    rows = fetch(con, target, f"SELECT count(DISTINCT sync_key) FROM {CONFLICTS} "
                 f"WHERE sync_name = ? AND resolved_at IS NULL", (sync,))
    return int(rows[0][0]) if rows else 0


class Transaction:
    """``with Transaction(con, target):`` runs the block in one transaction (rollback on error).

    Both connections run in autocommit mode (goldloop.warehouse), so BEGIN/COMMIT are explicit.
    """

    def __init__(self, con: Any, target: Target) -> None:
        self.con = con
        self.target = target

    def __enter__(self) -> Transaction:
        execute(self.con, self.target, "BEGIN")
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        execute(self.con, self.target, "COMMIT" if kind is None else "ROLLBACK")
