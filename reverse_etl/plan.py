"""Plan a sync in the warehouse, in SQL: the model against the state table.

One full outer join of the sync model (key + mapped columns + md5 of the mapped payload) with
``reverse_etl.sync_state`` gives each record an operation:

- ``insert`` / ``update``: new or changed (only mapped fields count), or not confirmed yet
  (rejected, failed or in flight when a run stopped); ``delete``: left the model (mirror mode);
- ``unchanged``: the destination confirmed this very payload; ``dead``: this payload is in the
  dead-letter table (``goldloop sync replay`` releases it); ``reject``: the model itself rejects
  the row (its ``reject_reason`` column); ``conflict``: the destination changed the record since
  our last write and the policy says not to overwrite (``flag`` records it for a person);
  ``skip``: nothing to do in this mode; ``queued``: waits for the next business day.

A duplicate or missing key in the model is a hard error naming the keys.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from goldloop.errors import ConfigError, SyncError
from goldloop.settings import Target
from reverse_etl.spec import Calendar, SyncSpec
from reverse_etl.sql import execute, fetch, literal, payload_hash_sql, quote, table_columns
from reverse_etl.state import CONFLICTS, STATE, has_state

CHANGE_OPERATIONS = ("insert", "update", "delete")
REPORTED_OPERATIONS = ("insert", "update", "delete", "reject", "conflict", "kept",
                       "flag_removed")
# A destination timestamp must be this much newer than our last write's to count as a change
# made there (our own write moves the destination's last-modified too).
CONFLICT_TOLERANCE_SECONDS = 1


@dataclass
class Change:
    """One record the run will act on."""

    key: str
    operation: str
    destination_id: str | None
    payload: dict[str, Any]
    payload_hash: str | None
    attempts: int = 0
    is_retry: bool = False
    shop: str | None = None
    previous: dict[str, Any] | None = None
    reason: str | None = None
    business_date: date | None = None
    # the destination changed the record at this time, after our last confirmed write
    destination_changed_at: datetime | None = None

    def diff(self) -> list[tuple[str, Any, Any]]:
        """``(field, before, after)`` for every field whose value changes.

        >>> Change("k", "update", "1", {"a": 1, "b": 2}, "h", previous={"a": 1, "b": 3}).diff()
        [('b', 3, 2)]
        """
        before = self.previous or {}
        return [(name, before.get(name), value) for name, value in self.payload.items()
                if before.get(name) != value]


@dataclass
class Plan:
    """What a run of one sync would do."""

    sync: str
    counts: dict[str, int]
    changes: list[Change]
    model_rows: int
    baseline: int
    seconds: float
    notes: list[str] = field(default_factory=list)
    flags: list[tuple[str, str, str]] = field(default_factory=list)  # (key, rule, detail)

    @property
    def to_write(self) -> list[Change]:
        """The changes that go to the destination."""
        return [c for c in self.changes if c.operation in CHANGE_OPERATIONS]

    def changed(self) -> int:
        return sum(self.counts.get(op, 0) for op in CHANGE_OPERATIONS)

    def new_changes(self) -> int:
        """Changes the model made since the last run (retries of earlier failures excluded)."""
        return sum(1 for c in self.changes if c.operation in CHANGE_OPERATIONS
                   and not c.is_retry)

    def changed_percent(self) -> float | None:
        """New changes as a percentage of the records already synced (None: first run)."""
        if self.baseline <= 0:
            return None
        return 100.0 * self.new_changes() / self.baseline

    def summary(self) -> dict[str, Any]:
        """Counts and context as plain data (``--json``)."""
        pct = self.changed_percent()
        return {"sync": self.sync, "model_rows": self.model_rows, "baseline": self.baseline,
                "counts": dict(self.counts), "changed": self.changed(),
                "changed_percent": None if pct is None else round(pct, 3),
                "plan_seconds": round(self.seconds, 3), "notes": list(self.notes)}

    def samples(self, per_operation: int = 3) -> dict[str, list[dict[str, Any]]]:
        """A few changes per operation with their field-level before/after."""
        out: dict[str, list[dict[str, Any]]] = {}
        for change in self.changes:
            bucket = out.setdefault(change.operation, [])
            if len(bucket) >= per_operation:
                continue
            item: dict[str, Any] = {"key": change.key, "destination_id": change.destination_id}
            if change.operation == "delete":
                item["before"] = change.previous
            elif change.reason and change.operation != "update":
                item["reason"] = change.reason
            else:
                if change.reason:  # an update overwriting a change made in the destination
                    item["reason"] = change.reason
                item["fields"] = [{"field": f, "before": b, "after": a}
                                  for f, b, a in change.diff()]
                if change.previous is None:
                    item["note"] = "never synced: before is unknown"
            bucket.append(item)
        for key, rule, detail in self.flags[:per_operation]:
            out.setdefault("flagged", []).append({"key": key, "rule": rule, "detail": detail})
        return out


def plain(value: Any) -> Any:
    """A warehouse value as plain JSON data (what payloads and diffs hold).

    >>> plain(Decimal("12.50")), plain(date(2024, 5, 1)), plain(True)
    (12.5, '2024-05-01', True)
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) \
            else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_model(con: Any, target: Target, spec: SyncSpec) -> int:
    """Fail with a precise error when the model is missing, lacks a column or repeats a key.

    Returns the model's row count.
    """
    src = spec.source
    columns = table_columns(con, target, src.schema_name, src.model)
    if not columns:
        raise SyncError(f"sync {spec.name}: model {src.schema_name}.{src.model} does not exist "
                        "in the warehouse", hint="run `goldloop build` (dbt) first")
    lowered = {c.lower() for c in columns}
    for where, column in [("source.key", src.key)] + [
            (f"fields.{name}", col) for name, col in spec.fields.items()] + [
            (f"source.{attr}", getattr(src, attr)) for attr in (
                "destination_id", "destination_updated_at", "shop", "reject_reason",
                "business_date") if getattr(src, attr)]:
        if column.lower() not in lowered:
            raise ConfigError(f"{spec.where()}: {where} names column {column!r}, which "
                              f"{src.schema_name}.{src.model} does not have "
                              f"(columns: {', '.join(columns)})",
                              hint="map an existing column or add it to the dbt model")
    rel = src.relation()
    key = quote(src.key)
    # one scan also counts the natural key's values: the grouped look for shared values runs
    # only when some value repeats (shop syncs, whose values are per shop, always look)
    match = spec.fields.get(spec.destination.match)
    gate = match is not None and not src.shop
    gate_sql = f", count({quote(match)}), count(DISTINCT {quote(match)})" if match and gate \
        else ""
    counted = fetch(con, target, f"SELECT count(*), count({key}), "
                    f"count(DISTINCT {key}){gate_sql} FROM {rel}")[0]
    total, keyed, distinct = counted[:3]
    if keyed < total:
        raise SyncError(f"sync {spec.name}: {total - keyed} row(s) of {src.schema_name}."
                        f"{src.model} have no {src.key}",
                        hint="fix the model so every row has a key")
    if distinct < keyed:
        dupes = fetch(con, target, f"SELECT cast({key} as varchar), count(*) FROM {rel} "
                      f"GROUP BY {key} HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 10")
        listed = ", ".join(f"{k} ({n}x)" for k, n in dupes)
        raise SyncError(f"sync {spec.name}: duplicate {src.key} in {src.schema_name}."
                        f"{src.model}: {listed}",
                        hint="make the model one row per key (fix its grain), then rerun")
    if not gate or counted[3] != counted[4]:
        _check_match_values(con, target, spec)
    return int(total)


def _check_match_values(con: Any, target: Target, spec: SyncSpec) -> None:
    """Two rows with the same natural key (per shop) would write one destination record."""
    src = spec.source
    column = spec.fields.get(spec.destination.match)
    if column is None:
        return
    scope = [quote(src.shop)] if src.shop else []
    group = ", ".join([*scope, quote(column)])
    dupes = fetch(con, target, f"SELECT cast({quote(column)} AS varchar), count(*), "
                  f"min(cast({quote(src.key)} AS varchar)), max(cast({quote(src.key)} AS varchar)) "
                  f"FROM {src.relation()} WHERE {quote(column)} IS NOT NULL GROUP BY {group} "
                  f"HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5")
    if dupes:
        listed = "; ".join(f"{value!r} ({n} rows, e.g. {first} and {last})"
                           for value, n, first, last in dupes)
        raise SyncError(f"sync {spec.name}: {spec.destination.match} values shared by several "
                        f"rows of {src.schema_name}.{src.model}: {listed}",
                        hint="one destination record cannot take two rows: make "
                             f"{column} unique in the model (its dbt test says so too)")


def _state_cte(con: Any, target: Target) -> str:
    if has_state(con, target):
        return (f"SELECT sync_key AS s_key, destination_id AS s_destination_id, "
                f"status AS s_status, synced_hash AS s_synced_hash, "
                f"attempted_hash AS s_attempted_hash, attempts AS s_attempts, "
                f"destination_updated_at AS s_destination_updated_at, "
                f"synced_at AS s_synced_at, "
                # read afterwards for the planned rows only (synced_payloads): carrying every
                # payload through the join doubled the planner's memory
                f"cast(NULL AS varchar) AS s_synced_payload FROM {STATE} WHERE sync_name = ?")
    return ("SELECT cast(NULL AS varchar) AS s_key, cast(NULL AS varchar) AS s_destination_id, "
            "cast(NULL AS varchar) AS s_status, cast(NULL AS varchar) AS s_synced_hash, "
            "cast(NULL AS varchar) AS s_attempted_hash, cast(NULL AS integer) AS s_attempts, "
            "cast(NULL AS timestamp) AS s_destination_updated_at, "
            "cast(NULL AS timestamp) AS s_synced_at, "
            "cast(NULL AS varchar) AS s_synced_payload WHERE ? IS NULL AND 1 = 0")


def destination_changed_sql(spec: SyncSpec) -> str:
    """True when the destination changed a synced record after our last confirmed write.

    The destination's last-modified (the model's ``destination_updated_at`` column, as
    extracted) is compared with what the destination said after our write, else with the time
    we committed it; our own write never counts (it is not newer than either).
    """
    if not spec.source.destination_updated_at:
        return "FALSE"
    return (f"(s_synced_hash IS NOT NULL AND m_dest_updated IS NOT NULL AND "
            f"m_dest_updated > coalesce(s_destination_updated_at, s_synced_at) "
            f"+ INTERVAL '{CONFLICT_TOLERANCE_SECONDS} second')")


def operation_sql(spec: SyncSpec) -> str:
    """The CASE expression that names each joined row's operation (see the module docstring)."""
    src = spec.source
    removed = {"archive": "'delete'", "flag": "'flag_removed'", "ignore": "'gone'"}[
        spec.removed_policy()]
    reject = "WHEN m_reject IS NOT NULL THEN 'reject'" if (src.reject_reason or
                                                           src.reject_when) else ""
    insert_only = "WHEN s_synced_hash IS NOT NULL THEN 'unchanged'" if spec.mode == "insert" \
        else ""
    no_target = "'skip'" if spec.mode == "update" else "'insert'"
    held = {"flag": "('conflict')", "destination_wins": "('kept')"}.get(
        spec.conflict)
    still_flagged = (f"WHEN s_status IN {held} AND s_attempted_hash = payload_hash "
                     "THEN 'conflict_open'") if held else ""
    conflict = ""
    if src.destination_updated_at and spec.conflict != "warehouse_wins":
        verdict = "'conflict'" if spec.conflict == "flag" else "'kept'"
        conflict = f"WHEN {destination_changed_sql(spec)} THEN {verdict}"
    return f"""CASE
        WHEN sync_key IS NULL THEN CASE
            WHEN s_status IN ('deleted', 'conflict') OR s_synced_hash IS NULL THEN 'gone'
            ELSE {removed} END
        WHEN s_status = 'dead' AND s_attempted_hash = payload_hash THEN 'dead'
        {reject}
        WHEN s_status IN ('synced', 'kept') AND s_synced_hash = payload_hash THEN 'unchanged'
        {still_flagged}
        {insert_only}
        WHEN target_id IS NULL THEN {no_target}
        {conflict}
        ELSE 'update'
    END"""


def payload_expressions(spec: SyncSpec) -> dict[str, str]:
    """Destination field → SQL expression: mapped columns, then constants as literals."""
    exprs = {name: quote(column) for name, column in spec.fields.items()}
    for name, value in spec.constants.items():
        exprs.setdefault(name, literal(value))
    return exprs


def reject_sql(spec: SyncSpec) -> str:
    """The reason a row is refused (its reject column, else the first matching rule), or NULL.

    >>> from pathlib import Path
    >>> from reverse_etl.spec import parse_spec
    >>> spec = parse_spec("name: s\\nsource: {model: m, reject_when: [{when: 'total < 0', "
    ...                   "reason: negative}]}\\ndestination: {system: crm, object: contacts, "
    ...                   "match: email}\\nfields: {email: email}", Path("s"))
    >>> reject_sql(spec)
    "coalesce(NULL, CASE WHEN (total < 0) THEN 'negative' END)"
    """
    src = spec.source
    column = f"cast({quote(src.reject_reason)} AS varchar)" if src.reject_reason else "NULL"
    if not src.reject_when:
        return column
    rules = " ".join(f"WHEN ({rule.when}) THEN '{rule.reason.replace(chr(39), chr(39) * 2)}'"
                     for rule in src.reject_when)
    return f"coalesce({column}, CASE {rules} END)"


def join_kind(spec: SyncSpec) -> str:
    """A full outer join when records that left the model matter (archive or flag), else a
    left join: with ``removed: ignore`` a state row without a model row is never acted on."""
    return "LEFT JOIN" if spec.removed_policy() == "ignore" else "FULL OUTER JOIN"


def synced_payloads(con: Any, target: Target, sync: str, keys: list[str]) -> dict[str, str]:
    """The last confirmed payloads (JSON text) of ``keys``, one query for all of them."""
    if not keys or not has_state(con, target):
        return {}
    rows = fetch(con, target, f"SELECT sync_key, synced_payload FROM {STATE} WHERE "
                 f"sync_name = ? AND synced_payload IS NOT NULL "
                 f"AND sync_key = ANY(CAST(? AS VARCHAR[]))", (sync, keys))
    return {str(key): str(payload) for key, payload in rows}


def plan_sql(spec: SyncSpec, state_cte: str) -> str:
    """The joined, classified rows of one sync (the shared CTE of the plan's two queries)."""
    src = spec.source
    exprs = payload_expressions(spec)
    model_cols = [f"{expr} AS m_{i}" for i, expr in enumerate(exprs.values())]
    special = {"m_dest_id": src.destination_id, "m_dest_updated": src.destination_updated_at,
               "m_shop": src.shop, "m_reject": src.reject_reason,
               "m_business_date": src.business_date}
    for alias, column in special.items():
        if alias == "m_reject":
            model_cols.append(f"{reject_sql(spec)} AS m_reject")
        elif column:
            cast_text = alias in ("m_dest_id", "m_shop")
            model_cols.append(f"cast({quote(column)} AS varchar) AS {alias}" if cast_text
                              else f"{quote(column)} AS {alias}")
        else:
            model_cols.append(f"NULL AS {alias}")
    dest_id = ("CASE WHEN s_status = 'deleted' THEN m_dest_id "
               "ELSE coalesce(m_dest_id, s_destination_id) END")
    return f"""WITH model AS (
        SELECT cast({quote(src.key)} AS varchar) AS sync_key, {', '.join(model_cols)},
               {payload_hash_sql(exprs)} AS payload_hash
        FROM {src.relation()}
    ), state AS ({state_cte}),
    joined AS (
        SELECT *, {dest_id} AS target_id
        FROM model {join_kind(spec)} state ON model.sync_key = state.s_key
    ), classified AS (
        SELECT *, {operation_sql(spec)} AS operation,
               {destination_changed_sql(spec)} AS destination_changed FROM joined
    )"""


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def _payload(row: dict[str, Any], columns: list[tuple[str, str]]) -> dict[str, Any]:
    """The payload of one joined row: destination field → plain value of its ``m_<i>`` column.

    >>> _payload({"m_0": "a", "m_1": Decimal("2.50")}, [("x", "m_0"), ("y", "m_1")])
    {'x': 'a', 'y': 2.5}
    """
    payload = {}
    for name, column in columns:
        value = row[column]
        payload[name] = value if value.__class__ in _PLAIN_TYPES else plain(value)
    return payload


def payload_columns(spec: SyncSpec) -> list[tuple[str, str]]:
    """(destination field, plan column) pairs, in payload order."""
    return [(name, f"m_{i}") for i, name in enumerate(spec.payload_names())]


def _change(spec: SyncSpec, row: dict[str, Any],
            columns: list[tuple[str, str]] | None = None) -> Change:
    in_model = row["sync_key"] is not None
    payload = _payload(row, columns if columns is not None else payload_columns(spec)) \
        if in_model else {}
    previous = json.loads(row["s_synced_payload"]) if row["s_synced_payload"] else None
    status = row["s_status"]
    attempts = int(row["s_attempts"] or 0) if row["s_attempted_hash"] == row["payload_hash"] \
        else 0
    reason = row["m_reject"]
    changed_at = row["m_dest_updated"] if row.get("destination_changed") and \
        row["operation"] in ("conflict", "kept", "update") else None
    if changed_at is not None:
        ours = row["s_destination_updated_at"] or row["s_synced_at"]
        verdict = {"conflict": "flagged for a person, not written",
                   "kept": "kept the destination's version (conflict policy destination_wins)",
                   "update": "overwritten with the warehouse's (conflict policy warehouse_wins)"}
        reason = (f"the destination changed this record at {changed_at} after our last write "
                  f"({ours}): {verdict[row['operation']]}")
    elif row["operation"] == "flag_removed":
        reason = "the record left the sync model after it was written to the destination"
    business = row["m_business_date"]
    if isinstance(business, datetime):
        business = business.date()
    return Change(
        key=str(row["sync_key"] if in_model else row["s_key"]),
        operation=str(row["operation"]),
        destination_id=row["target_id"] if in_model else row["s_destination_id"],
        payload=payload, payload_hash=row["payload_hash"], attempts=attempts,
        is_retry=status in ("rejected", "failed", "sending"), shop=row["m_shop"],
        previous=previous, reason=reason, business_date=business,
        destination_changed_at=changed_at)


def next_business_day(day: date, calendar: Calendar) -> date:
    """``day`` itself if it is a business day, else the next one.

    >>> next_business_day(date(2026, 11, 7), Calendar())  # a Saturday
    datetime.date(2026, 11, 9)
    """
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    allowed = set(calendar.business_days)
    holidays = set(calendar.holidays)
    current = day
    for _ in range(366):
        if names[current.weekday()] in allowed and current not in holidays:
            return current
        current += timedelta(days=1)
    raise ConfigError("the calendar has no business day within a year",
                      hint="list at least one weekday under calendar.business_days")


def make_plan(con: Any, target: Target, spec: SyncSpec, *, today: date | None = None) -> Plan:
    """Plan one sync: counts per operation and every record to act on, ordered by key."""
    started = time.perf_counter()
    model_rows = check_model(con, target, spec)
    sql = plan_sql(spec, _state_cte(con, target))
    # one pass: every row but the unchanged bulk; the unchanged are counted by difference
    cur = execute(con, target, f"{sql} SELECT * FROM classified WHERE operation NOT IN "
                  f"('unchanged', 'gone') ORDER BY coalesce(sync_key, s_key)", (spec.name,))
    names = [d[0] for d in cur.description]
    fetched = cur.fetchall()
    key_at, operation_at = names.index("s_key"), names.index("operation")
    payloads = synced_payloads(con, target, spec.name, [
        values[key_at] for values in fetched
        if values[key_at] is not None and values[operation_at] in REPORTED_OPERATIONS])
    columns = payload_columns(spec)
    counts: Counter[str] = Counter()
    changes: list[Change] = []
    in_model = 0
    for values in fetched:
        row = dict(zip(names, values, strict=True))
        counts[str(row["operation"])] += 1
        in_model += row["sync_key"] is not None
        if row["operation"] in REPORTED_OPERATIONS:
            row["s_synced_payload"] = payloads.get(row["s_key"])
            changes.append(_change(spec, row, columns))
    counts["unchanged"] = model_rows - in_model
    baseline = 0
    if has_state(con, target):
        baseline = int(fetch(con, target, f"SELECT count(*) FROM {STATE} WHERE sync_name = ? "
                             f"AND synced_hash IS NOT NULL AND status <> 'deleted'",
                             (spec.name,))[0][0])
    notes: list[str] = []
    if spec.calendar is not None and spec.source.business_date:
        day = today or date.today()
        for change in changes:
            if change.operation == "insert" and change.business_date is not None and \
                    next_business_day(change.business_date, spec.calendar) > day:
                due = next_business_day(change.business_date, spec.calendar)
                counts["insert"] -= 1
                counts["queued"] += 1
                change.operation = "queued"
                change.reason = f"queued until {due} (business date {change.business_date})"
        changes = [c for c in changes if c.operation != "queued"] + \
                  [c for c in changes if c.operation == "queued"]
    flags = evaluate_flags(con, target, spec)
    if flags:
        counts["flagged"] += len(flags)
    for gone in ("gone", "conflict_open"):
        counts.pop(gone, None)
    if counts.get("kept"):
        notes.append(f"{counts['kept']} record(s) changed in the destination since our last "
                     "write were kept (conflict policy destination_wins)")
    overwrites = sum(1 for c in changes if c.operation == "update" and c.destination_changed_at)
    if overwrites:
        notes.append(f"{overwrites} record(s) changed in the destination since our last write "
                     "will be overwritten (conflict policy warehouse_wins)")
    return Plan(spec.name, {k: v for k, v in sorted(counts.items()) if v}, changes, model_rows,
                baseline, time.perf_counter() - started, notes, flags)


def evaluate_flags(con: Any, target: Target, spec: SyncSpec) -> list[tuple[str, str, str]]:
    """``(key, rule, detail)`` for every row a flag rule returns that is not flagged already."""
    if not spec.flags:
        return []
    open_flags: set[tuple[str, str]] = set()
    if has_state(con, target):
        open_flags = {(str(k), str(kind)) for k, kind in fetch(
            con, target, f"SELECT sync_key, kind FROM {CONFLICTS} WHERE sync_name = ? "
            f"AND resolved_at IS NULL", (spec.name,))}
    found: list[tuple[str, str, str]] = []
    for rule in spec.flags:
        try:
            rows = fetch(con, target, rule.sql)
        except Exception as exc:
            raise SyncError(f"{spec.where()}: flag {rule.name!r} failed to run: {exc}",
                            hint="fix its SQL: it must return (key, detail) rows") from exc
        for row in rows:
            key = str(row[0])
            if (key, rule.name) not in open_flags:
                open_flags.add((key, rule.name))
                found.append((key, rule.name, str(row[1]) if len(row) > 1 else rule.name))
    return found
