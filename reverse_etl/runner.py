"""Run a sync: plan → guards → write → commit, in that order, and nothing marked synced early.

1. :func:`reverse_etl.plan.make_plan` diffs the model against the state table, in SQL.
2. :func:`reverse_etl.guards.evaluate` stops the run (writing nothing) on a failing blocking
   check, or when more than the threshold would change without ``approve``.
3. Records the model rejects go straight to the dead-letter table. Conflicts (the destination
   changed a record after our last write) follow the spec's policy: ``flag`` records them for a
   person and skips them, ``destination_wins`` records and skips them, ``warehouse_wins``
   writes them and records the overwrite once the destination confirmed it; every conflict
   lands in ``reverse_etl.conflicts`` and the audit.
4. The writes go out in batches (one route per batch, at most the spec's batch size), a few in
   flight at once. Each batch is first marked ``sending`` (an intent, not a success); when the
   destination answers, its per-record outcomes are committed in one transaction: state
   (``synced`` only for what the destination confirmed), audit rows, dead letters.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from goldloop.errors import SyncError
from goldloop.settings import Settings, Target
from goldloop.warehouse import connect
from reverse_etl import guards, state
from reverse_etl.connections import Connection, resolve
from reverse_etl.destinations import Outcome, Writer, open_writer
from reverse_etl.plan import CHANGE_OPERATIONS, Change, Plan, make_plan
from reverse_etl.spec import SyncSpec
from reverse_etl.sql import execute, fetch

Progress = Callable[[str], None]
PROGRESS_EVERY_SECONDS = 2.0
FLUSH_RECORDS = 2_000
FLUSH_SECONDS = 0.5
QUEUED_PER_WORKER = 2  # batches handed to the pool per worker: none idles while we commit
REDACTED = "***"


@dataclass
class RunSummary:
    """What a run did (returned to the caller, stored in ``reverse_etl.runs``)."""

    run_id: str
    sync: str
    kind: str = "run"
    status: str = "ok"
    processed: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    failed: int = 0
    retried: int = 0
    conflicts: int = 0
    queued: int = 0
    skipped: int = 0
    dead: int = 0
    requests: int = 0
    request_retries: int = 0
    throttled: int = 0
    seconds: float = 0.0
    write_seconds: float = 0.0
    records_per_second: float = 0.0
    plan: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Batch:
    kind: str  # write | delete
    route: str
    changes: list[Change]


def redact(payload: dict[str, Any], pii: Sequence[str]) -> str:
    """The payload as the audit keeps it: PII fields masked.

    >>> redact({"email": "a@b.co", "city": "Oslo"}, ["email"])
    '{"city": "Oslo", "email": "***"}'
    """
    return json.dumps({k: (REDACTED if k in pii and v is not None else v)
                       for k, v in payload.items()}, sort_keys=True, default=str)


def batches(changes: Sequence[Change], writer: Writer, size: int,
            match: str = "") -> list[_Batch]:
    """Group changes per (kind, route), in plan order, at most ``size`` per batch; a batch never
    holds the same match value twice (destinations reject such batches whole)."""
    open_batches: dict[tuple[str, str], _Batch] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    out: list[_Batch] = []
    for change in changes:
        kind = "delete" if change.operation == "delete" else "write"
        route = writer.route(change)
        slot = (kind, route)
        identity = change.destination_id or str(change.payload.get(match) or change.key).lower()
        current = open_batches.get(slot)
        if current is None or len(current.changes) >= size or identity in seen[slot]:
            current = _Batch(kind, route, [])
            open_batches[slot] = current
            seen[slot] = set()
            out.append(current)
        current.changes.append(change)
        seen[slot].add(identity)
    return out


@contextmanager
def _run_lock(con: Any, target: Target, sync: str) -> Iterator[None]:
    """One run per sync at a time (DuckDB's file lock already allows one writer process)."""
    if target != "postgres":
        yield
        return
    got = fetch(con, target, "SELECT pg_try_advisory_lock(hashtext(?))", (f"goldloop:{sync}",))
    if not got or not got[0][0]:
        raise SyncError(f"another run of sync {sync} is in progress",
                        hint="wait for it to finish (goldloop sync status)")
    try:
        yield
    finally:
        execute(con, target, "SELECT pg_advisory_unlock(hashtext(?))", (f"goldloop:{sync}",))


class _Committer:
    """Writes outcomes, intents, audit rows and dead letters; counts them for the summary."""

    def __init__(self, con: Any, target: Target, spec: SyncSpec, summary: RunSummary) -> None:
        self.con = con
        self.target = target
        self.spec = spec
        self.summary = summary

    def audit(self, change: Change, operation: str, status: str, outcome: Outcome | None,
              started: Any, attempts: int) -> state.AuditRow:
        return state.AuditRow(
            self.summary.run_id, change.key,
            (outcome.destination_id if outcome else None) or change.destination_id,
            operation, status, (outcome.reason if outcome else None) or change.reason,
            outcome.request_id if outcome else None, outcome.http_status if outcome else None,
            attempts, redact(change.payload, self.spec.pii) if change.payload else None,
            started, state.now())

    def sending(self, batch: _Batch) -> None:
        with state.Transaction(self.con, self.target):
            state.write_attempts(self.con, self.target, self.spec.name, [
                (c.key, c.destination_id, "sending", c.payload_hash, c.attempts, None)
                for c in batch.changes], keep_error=True)

    def local(self, rejects: Sequence[Change], conflicts: Sequence[Change]) -> None:
        """Rows the model rejects (dead at once) and conflicts the policy does not write:
        ``conflict`` / ``flag_removed`` wait for a person, ``kept`` is settled (the
        destination's version stays)."""
        if not rejects and not conflicts:
            return
        started = state.now()
        top = self.spec.retry.max_attempts
        with state.Transaction(self.con, self.target):
            state.write_attempts(self.con, self.target, self.spec.name, [
                *[(c.key, c.destination_id, "dead", c.payload_hash, top, c.reason)
                  for c in rejects],
                *[(c.key, c.destination_id, "kept" if c.operation == "kept" else "conflict",
                   c.payload_hash, c.attempts, c.reason) for c in conflicts]])
            state.write_dead_letters(self.con, self.target, self.spec.name,
                                     self.summary.run_id, [
                state.DeadLetter(c.key, c.destination_id, c.payload_hash or "",
                                 redact(c.payload, self.spec.pii), c.reason or "rejected",
                                 top) for c in rejects])
            state.write_conflicts(self.con, self.target, self.spec.name, self.summary.run_id, [
                state.ConflictRow(
                    c.key, c.destination_id, "removed_from_model" if c.operation ==
                    "flag_removed" else "changed_in_destination", c.reason or "",
                    "destination_kept" if c.operation == "kept" else None,
                    c.destination_changed_at) for c in conflicts])
            state.write_audit(self.con, self.target, self.spec.name, [
                *[self.audit(c, "insert" if not c.destination_id else "update", "rejected",
                             None, started, top) for c in rejects],
                *[self.audit(c, c.operation if c.operation == "flag_removed" else "update",
                             "kept" if c.operation == "kept" else "conflict", None, started,
                             c.attempts) for c in conflicts]])
        self.summary.rejected += len(rejects)
        self.summary.dead_lettered += len(rejects)
        self.summary.conflicts += len(conflicts)
        self.summary.processed += len(rejects) + len(conflicts)

    def flags(self, flags: Sequence[tuple[str, str, str]]) -> None:
        """Records a flag rule returned: conflicts for a person, never written or deleted."""
        if not flags:
            return
        started = state.now()
        with state.Transaction(self.con, self.target):
            state.write_conflicts(self.con, self.target, self.spec.name, self.summary.run_id,
                                  [(key, None, rule, detail) for key, rule, detail in flags])
            state.write_audit(self.con, self.target, self.spec.name, [
                state.AuditRow(self.summary.run_id, key, None, "flag", "conflict",
                               f"{rule}: {detail}", None, None, 0, None, started, state.now())
                for key, rule, detail in flags])
        self.summary.conflicts += len(flags)

    def outcomes(self, answered: Sequence[tuple[_Batch, Sequence[Outcome], Any]]) -> None:
        """Commit answered batches ``(batch, outcomes, started)`` in one transaction."""
        ok_rows: list[state.StateRow] = []
        attempt_rows: list[tuple[str, str | None, str, str | None, int, str | None]] = []
        dead: list[state.DeadLetter] = []
        audit: list[state.AuditRow] = []
        for batch, outcomes, started in answered:
            self._collect(batch, outcomes, started, ok_rows, attempt_rows, dead, audit)
        # warehouse_wins: a confirmed write over a change made in the destination
        by_key = {row.sync_key: row for row in ok_rows}
        overwrites = [state.ConflictRow(
            c.key, by_key[c.key].destination_id, "changed_in_destination", c.reason or "",
            "warehouse_written", c.destination_changed_at)
            for batch, _, _ in answered for c in batch.changes
            if c.destination_changed_at is not None and c.key in by_key]
        self.summary.conflicts += len(overwrites)
        with state.Transaction(self.con, self.target):
            state.write_state(self.con, self.target, self.spec.name, ok_rows)
            state.write_attempts(self.con, self.target, self.spec.name, attempt_rows)
            state.write_dead_letters(self.con, self.target, self.spec.name,
                                     self.summary.run_id, dead)
            if overwrites:  # a conflict flagged earlier is settled by this write too
                state.settle_conflicts(self.con, self.target, self.spec.name,
                                       [c.sync_key for c in overwrites], "warehouse_written")
            state.write_conflicts(self.con, self.target, self.spec.name, self.summary.run_id,
                                  overwrites)
            state.write_audit(self.con, self.target, self.spec.name, audit)

    def _collect(self, batch: _Batch, outcomes: Sequence[Outcome], started: Any,
                 ok_rows: list[state.StateRow],
                 attempt_rows: list[tuple[str, str | None, str, str | None, int, str | None]],
                 dead: list[state.DeadLetter], audit: list[state.AuditRow]) -> None:
        by_key = {o.key: o for o in outcomes}
        top = self.spec.retry.max_attempts
        at = state.now()
        s = self.summary
        for change in batch.changes:
            outcome = by_key.get(change.key) or Outcome(
                change.key, "failed", change.destination_id,
                reason="the destination's answer did not cover this record")
            s.processed += 1
            s.retried += int(change.is_retry)
            if outcome.status == "ok":
                deleted = change.operation == "delete"
                ok_rows.append(state.StateRow(
                    change.key, outcome.destination_id or change.destination_id,
                    "deleted" if deleted else "synced",
                    None if deleted else change.payload_hash,
                    None if deleted else json.dumps(change.payload, sort_keys=True, default=str),
                    change.payload_hash, 0, None, at, outcome.destination_updated_at))
                if deleted:
                    s.deleted += 1
                elif outcome.created is not None:
                    s.inserted += int(outcome.created)
                    s.updated += int(not outcome.created)
                elif change.operation == "insert":
                    s.inserted += 1
                else:
                    s.updated += 1
                audit.append(self.audit(change, change.operation, "success", outcome, started,
                                        change.attempts + 1))
            elif outcome.status == "rejected":
                attempts = change.attempts + 1
                status = "dead" if attempts >= top else "rejected"
                attempt_rows.append((change.key, change.destination_id, status,
                                     change.payload_hash, attempts, outcome.reason))
                s.rejected += 1
                if status == "dead":
                    s.dead_lettered += 1
                    dead.append(state.DeadLetter(
                        change.key, change.destination_id, change.payload_hash or "",
                        redact(change.payload, self.spec.pii), outcome.reason or "rejected",
                        attempts))
                audit.append(self.audit(change, change.operation, "rejected", outcome,
                                        started, attempts))
            else:
                attempt_rows.append((change.key, change.destination_id, "failed",
                                     change.payload_hash, change.attempts, outcome.reason))
                s.failed += 1
                audit.append(self.audit(change, change.operation, "failed", outcome, started,
                                        change.attempts))


def _write_all(committer: _Committer, writer: Writer, plan_batches: list[_Batch],
               concurrency: int, progress: Progress | None, total: int) -> None:
    """Send the batches, a few in flight, committing answers as they arrive.

    Answers are committed in groups (every ``FLUSH_RECORDS`` records or ``FLUSH_SECONDS``):
    committing later than the answer is safe (a crash re-sends, idempotently), committing
    before it never happens. Writers that need it (``needs_intent``) get each batch marked
    ``sending`` before it goes.
    """
    summary = committer.summary
    started_at = time.perf_counter()
    last_report = last_flush = started_at
    queue = iter(plan_batches)
    in_flight: dict[Future[list[Outcome]], tuple[_Batch, Any]] = {}
    answered: list[tuple[_Batch, Sequence[Outcome], Any]] = []
    fatal: BaseException | None = None
    exhausted = False
    intents = bool(getattr(writer, "needs_intent", False))

    def call(batch: _Batch) -> list[Outcome]:
        if batch.kind == "delete":
            return writer.delete(batch.route, batch.changes)
        return writer.write(batch.route, batch.changes)

    def flush() -> None:
        nonlocal last_flush
        if answered:
            committer.outcomes(answered)
            answered.clear()
        last_flush = time.perf_counter()

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sync") as pool:

        def refill() -> None:
            nonlocal exhausted
            while fatal is None and not exhausted and \
                    len(in_flight) < concurrency * QUEUED_PER_WORKER:
                batch = next(queue, None)
                if batch is None:
                    exhausted = True
                    return
                if intents:
                    flush()  # the intent must not overtake an earlier answer's commit
                    committer.sending(batch)
                in_flight[pool.submit(call, batch)] = (batch, state.now())

        refill()
        while in_flight:
            done, _ = wait(list(in_flight), timeout=FLUSH_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                batch, started = in_flight.pop(future)
                if future.cancelled():  # queued when a fatal error came: never sent
                    continue
                try:
                    answered.append((batch, future.result(), started))
                except Exception as exc:  # Fatal, or a bug: stop sending, keep what landed
                    fatal = fatal or exc
            if fatal is not None:
                for queued in in_flight:
                    queued.cancel()  # only batches no worker has started
            refill()  # keep the destination busy while the warehouse commits
            now = time.perf_counter()
            pending = sum(len(b.changes) for b, _, _ in answered)
            if pending >= FLUSH_RECORDS or now - last_flush >= FLUSH_SECONDS or not in_flight:
                flush()
            if progress is not None and now - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = now
                rate = summary.processed / max(now - started_at, 1e-9)
                progress(f"{summary.sync}: {summary.processed:,}/{total:,} records "
                         f"({rate:,.0f}/s, {summary.rejected:,} rejected)")
        flush()
    if fatal is not None:
        raise fatal


def _filtered(plan: Plan, keys: set[str]) -> Plan:
    changes = [c for c in plan.changes if c.key in keys]
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.operation] = counts.get(change.operation, 0) + 1
    return Plan(plan.sync, counts, changes, plan.model_rows, plan.baseline, plan.seconds,
                plan.notes, [f for f in plan.flags if f[0] in keys])


def _tally(writer: Writer, summary: RunSummary) -> None:
    for stats in writer.pace_stats():
        summary.requests += stats.requests
        summary.request_retries += stats.retries
        summary.throttled += stats.throttled


def run_sync(spec: SyncSpec, settings: Settings, *, approve: bool = False,
             connection: Connection | None = None, writer: Writer | None = None,
             progress: Progress | None = None, today: date | None = None,
             only_keys: set[str] | None = None, kind: str = "run",
             run_id: str | None = None) -> RunSummary:
    """Plan, guard, write and commit one sync; returns the run summary.

    Raises :class:`reverse_etl.guards.GuardStop` (nothing written) when a guard stops the run,
    and :class:`goldloop.errors.SyncError` when the destination refuses us as a client.
    """
    summary = RunSummary(run_id or uuid.uuid4().hex[:16], spec.name, kind)
    started = time.perf_counter()
    target = settings.target
    with connect(settings) as con:
        state.ensure_tables(con, target)
        with _run_lock(con, target, spec.name):
            state.start_run(con, target, summary.run_id, spec.name, kind)
            try:
                plan = make_plan(con, target, spec, today=today)
                if only_keys is not None:
                    plan = _filtered(plan, only_keys)
                summary.plan = plan.summary()
                summary.unchanged = plan.counts.get("unchanged", 0)
                summary.queued = plan.counts.get("queued", 0)
                summary.skipped = plan.counts.get("skip", 0) + plan.counts.get("kept", 0)
                summary.dead = plan.counts.get("dead", 0)
                summary.notes += plan.notes
                summary.notes += guards.evaluate(con, target, spec, plan, approve=approve)
            except guards.GuardStop as exc:
                summary.status = "blocked"
                summary.message = str(exc)
                summary.seconds = time.perf_counter() - started
                state.finish_run(con, target, summary.run_id, "blocked", summary.to_dict(),
                                 str(exc))
                raise
            committer = _Committer(con, target, spec, summary)
            committer.local([c for c in plan.changes if c.operation == "reject"],
                            [c for c in plan.changes if c.operation in ("conflict", "kept",
                                                                        "flag_removed")])
            committer.flags(plan.flags)
            to_write = [c for c in plan.changes if c.operation in CHANGE_OPERATIONS]
            own_writer = writer is None
            active: Writer | None = writer
            write_started = time.perf_counter()
            try:
                if to_write:
                    if active is None:  # resolved only when there is something to send
                        conn = connection or resolve(spec.destination.system)
                        active = open_writer(spec.with_pace(conn.requests_per_second,
                                                            conn.burst), conn)
                    _write_all(committer, active, batches(to_write, active, spec.batch_size(),
                                                          spec.destination.match),
                               spec.concurrency(), progress, len(to_write))
            except BaseException as exc:
                summary.status = "failed"
                summary.message = str(exc)
                raise
            finally:
                summary.write_seconds = time.perf_counter() - write_started
                if active is not None:
                    _tally(active, summary)
                    if own_writer:
                        active.close()
                summary.seconds = time.perf_counter() - started
                written = summary.inserted + summary.updated + summary.deleted
                summary.records_per_second = written / summary.write_seconds \
                    if summary.write_seconds > 0 and written else 0.0
                if summary.status == "ok" and (summary.rejected or summary.failed):
                    summary.status = "partial"
                state.finish_run(con, target, summary.run_id, summary.status,
                                 summary.to_dict(), summary.message)
    return summary


def plan_sync(spec: SyncSpec, settings: Settings, *, today: date | None = None) -> Plan:
    """The dry run: what a run would do, writing nothing anywhere."""
    with connect(settings, read_only=settings.target == "duckdb") as con:
        return make_plan(con, settings.target, spec, today=today)


def replay_sync(spec: SyncSpec, settings: Settings, **kw: Any) -> RunSummary:
    """Release the sync's dead letters (and flagged conflicts) and send those records again."""
    run_id = uuid.uuid4().hex[:16]
    with connect(settings) as con:
        state.ensure_tables(con, settings.target)
        keys = state.release(con, settings.target, spec.name, run_id)
    if not keys:
        summary = RunSummary(run_id, spec.name, "replay")
        summary.message = "nothing to replay: no dead letters or open conflicts"
        return summary
    return run_sync(spec, settings, only_keys=set(keys), kind="replay", run_id=run_id,
                    approve=True, **kw)


def sync_status(settings: Settings, spec: SyncSpec) -> dict[str, Any]:
    """Records per status, open dead letters and conflicts, and the latest runs of one sync."""
    with connect(settings, read_only=settings.target == "duckdb") as con:
        target = settings.target
        runs = state.last_runs(con, target, spec.name, limit=5)
        for run in runs:
            run["summary"] = json.loads(run["summary"]) if run.get("summary") else None
        return {"sync": spec.name, "records": state.status_counts(con, target, spec.name),
                "dead_letters": len(state.open_dead_letters(con, target, spec.name)),
                "open_conflicts": state.open_conflicts(con, target, spec.name),
                "runs": runs}
