"""Planning in SQL and the run's bookkeeping: a fake model table in, a plan (and state) out.

No sandbox here: the destination is a :class:`FakeWriter` that records what it was sent.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from goldloop.errors import ConfigError, SyncError
from goldloop.settings import Settings
from reverse_etl.guards import GuardStop
from reverse_etl.runner import plan_sync, replay_sync, run_sync, sync_status
from reverse_etl.spec import SyncSpec, parse_spec
from tests.reverse_etl.helpers import FakeWriter, create_model, query, state_of

COLUMNS = {"sync_key": "varchar", "email": "varchar", "firstname": "varchar",
           "city": "varchar", "note": "varchar", "crm_record_id": "varchar",
           "crm_updated_at": "timestamp", "closed_on": "date", "total": "decimal(18, 2)"}
SPEC = """\
name: things
source:
  model: sync_test__things
  destination_id: crm_record_id
destination: {system: crm, object: contacts, match: email}
fields:
  email: email
  firstname: firstname
  city: city
"""


def spec_of(extra: str = "", base: str = SPEC) -> SyncSpec:
    return parse_spec(base + extra, Path("things.yml"))


def rows(n: int, **changes: dict[str, Any]) -> list[dict[str, Any]]:
    """``n`` model rows k000.. (every 3rd with a destination id); ``changes`` by key."""
    out = []
    for i in range(n):
        key = f"k{i:03d}"
        row = {"sync_key": key, "email": f"{key}@example.com", "firstname": f"First{i}",
               "city": "Oslo", "note": "unmapped", "crm_record_id": str(1000 + i)
               if i % 3 == 0 else None}
        row.update(changes.get(key, {}))
        out.append(row)
    return out


def model(settings: Settings, data: list[dict[str, Any]]) -> None:
    create_model(settings, "sync_test__things", COLUMNS, data)


def run(settings: Settings, spec: SyncSpec, writer: FakeWriter, **kw: Any) -> Any:
    return run_sync(spec, settings, writer=writer, **kw)


def test_first_plan_inserts_new_records_and_updates_known_ones(warehouse: Settings) -> None:
    model(warehouse, rows(30))
    plan = plan_sync(spec_of(), warehouse)
    assert plan.counts == {"insert": 20, "update": 10}
    assert plan.changed_percent() is None  # first run: no baseline
    first = plan.changes[0]
    assert (first.key, first.operation, first.destination_id) == ("k000", "update", "1000")
    assert first.payload == {"email": "k000@example.com", "firstname": "First0", "city": "Oslo"}


def test_second_run_writes_nothing_and_only_mapped_changes_count(warehouse: Settings) -> None:
    spec = spec_of()
    model(warehouse, rows(30))
    writer = FakeWriter()
    summary = run(warehouse, spec, writer)
    assert (summary.inserted, summary.updated, summary.status) == (20, 10, "ok")
    again = FakeWriter()
    assert run(warehouse, spec, again).unchanged == 30
    assert again.batches == []
    # an unmapped column changes: nothing to send; a mapped one: exactly that record
    model(warehouse, rows(30, k004={"note": "other"}, k007={"city": "Bergen"}))
    plan = plan_sync(spec, warehouse)
    assert plan.counts == {"unchanged": 29, "update": 1}
    assert [(c.key, c.diff()) for c in plan.changes] == [("k007", [("city", "Oslo", "Bergen")])]
    assert plan.changed_percent() == pytest.approx(100 / 30)
    third = FakeWriter()
    run(warehouse, spec, third)
    assert third.written_keys() == ["k007"]
    # a new mapping changes every payload
    wider = spec_of("  crm_record_id: crm_record_id\n")
    assert plan_sync(wider, warehouse).counts == {"update": 30}


def test_duplicate_and_missing_keys_are_hard_errors(warehouse: Settings) -> None:
    data = [*rows(5), rows(5)[1], rows(5)[1], rows(5)[3]]
    model(warehouse, data)
    with pytest.raises(SyncError) as caught:
        plan_sync(spec_of(), warehouse)
    assert "duplicate sync_key in marts.sync_test__things: k001 (3x), k003 (2x)" in str(
        caught.value)
    model(warehouse, rows(4, k003={"email": "k001@example.com"}))
    with pytest.raises(SyncError) as caught:
        plan_sync(spec_of(), warehouse)
    assert ("email values shared by several rows of marts.sync_test__things: "
            "'k001@example.com' (2 rows, e.g. k001 and k003)") in str(caught.value)
    model(warehouse, [*rows(2), {"sync_key": None, "email": "x@y.z"}])
    with pytest.raises(SyncError, match=r"1 row\(s\) of marts.sync_test__things have no "
                                        r"sync_key"):
        plan_sync(spec_of(), warehouse)


def test_a_mapping_to_a_missing_column_names_the_column(warehouse: Settings) -> None:
    model(warehouse, rows(2))
    with pytest.raises(ConfigError) as caught:
        plan_sync(spec_of("  lastname: lastname\n"), warehouse)
    assert "things.yml: fields.lastname names column 'lastname', which " \
           "marts.sync_test__things does not have" in str(caught.value)


def test_a_missing_model_says_to_build(warehouse: Settings) -> None:
    model(warehouse, rows(1))
    with pytest.raises(SyncError, match="run `goldloop build`"):
        plan_sync(spec_of(base=SPEC.replace("sync_test__things", "sync_nope")), warehouse)


def test_rejections_go_to_dead_letters_after_max_attempts_and_replay_resends(
        warehouse: Settings) -> None:
    spec = spec_of()
    model(warehouse, rows(6))
    writer = FakeWriter(reject={"k002": "VALIDATION_ERROR: email: invalid (INVALID_EMAIL)"})
    for attempt in (1, 2, 3):
        summary = run(warehouse, spec, writer)
        assert summary.rejected == 1 and summary.status == "partial"
        assert state_of(warehouse, "things")["k002"][:3] == (
            "dead" if attempt == 3 else "rejected", None, attempt)
    assert summary.dead_lettered == 1
    dead = query(warehouse, "SELECT sync_key, reason, attempts FROM reverse_etl.dead_letters")
    assert dead == [("k002", "VALIDATION_ERROR: email: invalid (INVALID_EMAIL)", 3)]
    # a dead record is not sent again ...
    quiet = FakeWriter()
    assert run(warehouse, spec, quiet).dead == 1 and quiet.batches == []
    # ... until it is replayed
    fixed = FakeWriter()
    replayed = replay_sync(spec, warehouse, writer=fixed)
    assert fixed.written_keys() == ["k002"]
    assert (replayed.kind, replayed.inserted, replayed.retried) == ("replay", 1, 1)
    assert state_of(warehouse, "things")["k002"][0] == "synced"
    assert query(warehouse, "SELECT count(*) FROM reverse_etl.dead_letters "
                            "WHERE replayed_at IS NULL") == [(0,)]
    status = sync_status(warehouse, spec)
    assert status["records"] == {"synced": 6} and status["dead_letters"] == 0
    assert [r["kind"] for r in status["runs"]][:1] == ["replay"]


def test_transient_failures_are_never_marked_synced_and_retry_next_run(
        warehouse: Settings) -> None:
    spec = spec_of()
    model(warehouse, rows(4))
    summary = run(warehouse, spec, FakeWriter(fail={"k001"}))
    assert (summary.failed, summary.status) == (1, "partial")
    assert state_of(warehouse, "things")["k001"][0] == "failed"
    retry = FakeWriter()
    summary = run(warehouse, spec, retry)
    assert retry.written_keys() == ["k001"] and summary.retried == 1
    assert state_of(warehouse, "things")["k001"][0] == "synced"


def test_mirror_deletes_what_left_the_model_other_modes_ignore_it(warehouse: Settings) -> None:
    mirror = spec_of("mode: mirror\n")
    model(warehouse, rows(5))
    run(warehouse, mirror, FakeWriter())
    model(warehouse, rows(5)[:3])
    assert plan_sync(spec_of(), warehouse).counts == {"unchanged": 3}
    writer = FakeWriter()
    summary = run(warehouse, mirror, writer, approve=True)
    assert [(kind, [c.key for c in batch]) for kind, batch in writer.batches] == [
        ("delete", ["k003", "k004"])]
    assert summary.deleted == 2
    assert state_of(warehouse, "things")["k004"][0] == "deleted"
    assert plan_sync(mirror, warehouse).counts == {"unchanged": 3}


def test_guard_stops_a_mass_change_and_writes_nothing(warehouse: Settings) -> None:
    spec = spec_of("guards: {max_changed_percent: 10}\n")
    model(warehouse, rows(20))
    run(warehouse, spec, FakeWriter())
    model(warehouse, rows(20, **{f"k{i:03d}": {"city": "Paris"} for i in range(5)}))
    writer = FakeWriter()
    with pytest.raises(GuardStop) as caught:
        run(warehouse, spec, writer)
    assert "5 of 20 synced records would change (25.0 % > the 10 % threshold)" in str(
        caught.value)
    assert "--approve" in str(caught.value)
    assert writer.batches == []
    assert state_of(warehouse, "things")["k001"][0] == "synced"
    assert query(warehouse, "SELECT status FROM reverse_etl.runs ORDER BY started_at DESC "
                            "LIMIT 1") == [("blocked",)]
    approved = run(warehouse, spec, writer, approve=True)
    assert approved.updated == 5 and "approved" in approved.notes[-1]


def test_blocking_checks_stop_the_run(warehouse: Settings) -> None:
    spec = spec_of("guards:\n  checks:\n    - name: emails_present\n      sql: select count(*)"
                   " from marts.sync_test__things where email is null\n")
    model(warehouse, rows(3, k001={"email": None}))
    writer = FakeWriter()
    with pytest.raises(GuardStop, match="emails_present \\(1 failing row\\(s\\), from spec\\)"):
        run(warehouse, spec, writer)
    assert writer.batches == []
    # the quality results the model layer records: the latest result of each check counts
    model(warehouse, rows(3))
    create_model(warehouse, "check_results", {
        "model_name": "varchar", "check_name": "varchar", "severity": "varchar",
        "status": "varchar", "checked_at": "timestamp"}, [
        {"model_name": "sync_test__things", "check_name": "volume", "severity": "blocking",
         "status": "fail", "checked_at": datetime(2026, 1, 2)},
        {"model_name": "sync_test__things", "check_name": "nulls", "severity": "warn",
         "status": "fail", "checked_at": datetime(2026, 1, 2)},
    ], schema="quality")
    with pytest.raises(GuardStop, match=r"volume .* from quality"):
        run(warehouse, spec, writer, approve=True)
    assert writer.batches == []
    create_model(warehouse, "check_results", {
        "model_name": "varchar", "check_name": "varchar", "severity": "varchar",
        "status": "varchar", "checked_at": "timestamp"}, [
        {"model_name": "sync_test__things", "check_name": "volume", "severity": "blocking",
         "status": "fail", "checked_at": datetime(2026, 1, 2)},
        {"model_name": "sync_test__things", "check_name": "volume", "severity": "blocking",
         "status": "pass", "checked_at": datetime(2026, 1, 3)},
    ], schema="quality")
    assert run(warehouse, spec, writer).inserted == 2


def test_reject_rules_dead_letter_at_once_with_their_reason(warehouse: Settings) -> None:
    spec = spec_of(base=SPEC.replace(
        "  destination_id: crm_record_id\n",
        "  destination_id: crm_record_id\n  reject_when:\n"
        "    - {when: 'total < 0', reason: negative total}\n"))
    data = rows(3)
    data[1]["total"] = -5
    model(warehouse, data)
    writer = FakeWriter()
    summary = run(warehouse, spec, writer)
    assert (summary.rejected, summary.dead_lettered) == (1, 1)
    assert "k001" not in writer.written_keys()
    assert query(warehouse, "SELECT reason FROM reverse_etl.dead_letters") == [
        ("negative total",)]
    assert plan_sync(spec, warehouse).counts == {"dead": 1, "unchanged": 2}


def test_business_days_queue_a_weekend_close(warehouse: Settings) -> None:
    spec = spec_of(base=SPEC.replace(
        "  destination_id: crm_record_id\n",
        "  destination_id: crm_record_id\n  business_date: closed_on\n") +
        "calendar: {business_days: [mon, tue, wed, thu, fri], holidays: [2026-11-09]}\n")
    data = rows(2)
    data[0]["crm_record_id"] = None
    data[0]["closed_on"] = date(2026, 11, 7)  # a Saturday; Monday the 9th is a holiday
    data[1]["closed_on"] = date(2026, 11, 6)
    model(warehouse, data)
    saturday = plan_sync(spec, warehouse, today=date(2026, 11, 7))
    assert saturday.counts == {"insert": 1, "queued": 1}
    assert saturday.changes[-1].reason == "queued until 2026-11-10 (business date 2026-11-07)"
    assert plan_sync(spec, warehouse, today=date(2026, 11, 10)).counts == {"insert": 2}


def test_conflicts_follow_the_policy(warehouse: Settings) -> None:
    base = SPEC.replace("  destination_id: crm_record_id\n",
                        "  destination_id: crm_record_id\n"
                        "  destination_updated_at: crm_updated_at\n")
    data = rows(3)
    model(warehouse, data)
    flag = spec_of("conflict: flag\n", base=base)

    class Stamped(FakeWriter):
        def _answer(self, changes: Any, deleting: bool) -> list[Any]:
            from dataclasses import replace

            return [replace(o, destination_updated_at=datetime(2026, 1, 1))
                    for o in super()._answer(changes, deleting)]

    run(warehouse, flag, Stamped())
    # someone edits k001 in the CRM after our write; the warehouse has a new value too
    data[1].update(crm_updated_at=datetime(2026, 2, 1), city="Bergen")
    data[2].update(crm_updated_at=datetime(2026, 1, 1), city="Bergen")  # our own write
    model(warehouse, data)
    writer = Stamped()
    summary = run(warehouse, flag, writer, approve=True)
    assert writer.written_keys() == ["k002"] and summary.conflicts == 1
    assert query(warehouse, "SELECT sync_key, kind FROM reverse_etl.conflicts") == [
        ("k001", "changed_in_destination")]
    assert plan_sync(flag, warehouse).counts == {"unchanged": 2}  # flagged once
    kept = spec_of("conflict: destination_wins\n", base=base)
    assert plan_sync(kept, warehouse).counts == {"kept": 1, "unchanged": 2}
    wins = spec_of("conflict: warehouse_wins\n", base=base)
    assert plan_sync(wins, warehouse).counts == {"unchanged": 2, "update": 1}
    # a person decides: replay releases the conflict and the warehouse value is written
    released = Stamped()
    replay_sync(flag, warehouse, writer=released)
    assert released.written_keys() == ["k001"]


def test_flag_rules_record_conflicts_once(warehouse: Settings) -> None:
    spec = spec_of("flags:\n  - name: reopened\n    sql: select sync_key, 'reopened' from "
                   "marts.sync_test__things where city = 'Rome'\n")
    model(warehouse, rows(3, k002={"city": "Rome"}))
    summary = run(warehouse, spec, FakeWriter())
    assert summary.conflicts == 1
    assert plan_sync(spec, warehouse).counts == {"unchanged": 3}
    assert query(warehouse, "SELECT sync_key, kind, detail FROM reverse_etl.conflicts") == [
        ("k002", "reopened", "reopened")]


def test_plan_samples_show_field_level_before_and_after(warehouse: Settings) -> None:
    spec = spec_of()
    model(warehouse, rows(3))
    run(warehouse, spec, FakeWriter())
    model(warehouse, rows(3, k001={"firstname": "Changed"}))
    samples = plan_sync(spec, warehouse).samples()
    assert samples == {"update": [{"key": "k001", "destination_id": "id-k001", "fields": [
        {"field": "firstname", "before": "First1", "after": "Changed"}]}]}


def test_audit_keeps_one_row_per_operation_with_pii_redacted(warehouse: Settings) -> None:
    spec = spec_of("pii: [email]\n")
    model(warehouse, rows(2))
    summary = run(warehouse, spec, FakeWriter(reject={"k001": "bad"}))
    audit = query(warehouse, "SELECT run_id, sync_key, operation, status, reason, payload "
                             "FROM reverse_etl.audit ORDER BY sync_key")
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in audit] == [
        (summary.run_id, "k000", "update", "success", None),
        (summary.run_id, "k001", "insert", "rejected", "bad")]
    assert '"email": "***"' in audit[0][5] and "k000@example.com" not in audit[0][5]


CONFLICT_BASE = SPEC.replace("  destination_id: crm_record_id\n",
                             "  destination_id: crm_record_id\n"
                             "  destination_updated_at: crm_updated_at\n")


def test_destination_wins_keeps_the_record_and_records_the_conflict_once(
        warehouse: Settings) -> None:
    spec = spec_of("conflict: destination_wins\n", base=CONFLICT_BASE)
    data = rows(3)
    model(warehouse, data)
    run(warehouse, spec, FakeWriter())  # no last-modified in the answers: synced_at counts
    synced_at = query(warehouse, "SELECT max(synced_at) FROM reverse_etl.sync_state")[0][0]
    # a person edits k001 in the CRM an hour after our write; k000's stamp is our own write
    data[0].update(crm_updated_at=synced_at, city="Bergen")
    data[1].update(crm_updated_at=synced_at + timedelta(hours=1), city="Bergen")
    model(warehouse, data)
    writer = FakeWriter()
    summary = run(warehouse, spec, writer, approve=True)
    assert writer.written_keys() == ["k000"]
    assert (summary.updated, summary.conflicts, summary.skipped) == (1, 1, 1)
    assert state_of(warehouse, "things")["k001"][0] == "kept"
    assert query(warehouse, "SELECT sync_key, kind, resolution, destination_updated_at, "
                 "resolved_at IS NOT NULL FROM reverse_etl.conflicts") == [
        ("k001", "changed_in_destination", "destination_kept", synced_at + timedelta(hours=1),
         True)]
    audit = query(warehouse, "SELECT operation, status, reason FROM reverse_etl.audit "
                  "WHERE sync_key = 'k001' AND run_id = ?", (summary.run_id,))
    assert [(op, status) for op, status, _ in audit] == [("update", "kept")]
    assert "kept the destination's version" in audit[0][2]
    # nothing new on the next run: the record stays kept, recorded once
    again = FakeWriter()
    assert run(warehouse, spec, again).conflicts == 0 and again.written_keys() == []
    assert query(warehouse, "SELECT count(*) FROM reverse_etl.conflicts") == [(1,)]
    assert sync_status(warehouse, spec)["open_conflicts"] == 0  # settled by the policy


def test_warehouse_wins_writes_and_records_the_overwrite_once_confirmed(
        warehouse: Settings) -> None:
    spec = spec_of("conflict: warehouse_wins\n", base=CONFLICT_BASE)
    data = rows(3)
    model(warehouse, data)
    run(warehouse, spec, FakeWriter())
    synced_at = query(warehouse, "SELECT max(synced_at) FROM reverse_etl.sync_state")[0][0]
    later = synced_at + timedelta(minutes=5)
    for row in data:  # every record changed on both sides
        row.update(crm_updated_at=later, city="Bergen")
    model(warehouse, data)
    plan = plan_sync(spec, warehouse)
    assert plan.counts == {"update": 3}
    assert plan.notes[-1] == ("3 record(s) changed in the destination since our last write "
                              "will be overwritten (conflict policy warehouse_wins)")
    summary = run(warehouse, spec, FakeWriter(reject={"k002": "bad city"}), approve=True)
    assert (summary.updated, summary.rejected, summary.conflicts) == (2, 1, 2)
    # only what the destination confirmed is an overwrite; the rejected record is not
    assert query(warehouse, "SELECT sync_key, resolution, resolved_at IS NOT NULL "
                 "FROM reverse_etl.conflicts ORDER BY sync_key") == [
        ("k000", "warehouse_written", True), ("k001", "warehouse_written", True)]
    reason = query(warehouse, "SELECT reason FROM reverse_etl.audit WHERE sync_key = 'k000' "
                   "AND status = 'success' AND run_id = ?", (summary.run_id,))[0][0]
    assert reason.startswith(f"the destination changed this record at {later} after our "
                             "last write") and "warehouse_wins" in reason
    # the next extract brings our own write's stamp: no conflict, nothing to write
    data[0]["crm_updated_at"] = synced_at
    model(warehouse, data)
    assert plan_sync(spec, warehouse).counts.get("unchanged") == 2


def test_a_conflicts_table_from_before_gets_the_new_columns(warehouse: Settings) -> None:
    from goldloop.warehouse import connect
    from reverse_etl.sql import execute

    with connect(warehouse) as con:  # the table as the first release made it
        execute(con, "duckdb", "CREATE SCHEMA reverse_etl")
        execute(con, "duckdb", "CREATE TABLE reverse_etl.conflicts (sync_name VARCHAR NOT NULL, "
                "sync_key VARCHAR NOT NULL, destination_id VARCHAR, kind VARCHAR NOT NULL, "
                "detail VARCHAR, run_id VARCHAR NOT NULL, detected_at TIMESTAMP NOT NULL, "
                "resolved_at TIMESTAMP, PRIMARY KEY (sync_name, sync_key, kind, run_id))")
        execute(con, "duckdb", "INSERT INTO reverse_etl.conflicts VALUES ('things', 'k9', NULL, "
                "'reopened', 'old', 'r0', TIMESTAMP '2026-01-01', NULL)")
    spec = spec_of("flags:\n  - name: reopened\n    sql: select sync_key, 'again' from "
                   "marts.sync_test__things where city = 'Rome'\n")
    model(warehouse, rows(2, k001={"city": "Rome"}))
    assert run(warehouse, spec, FakeWriter()).conflicts == 1
    assert query(warehouse, "SELECT sync_key, detail, resolution FROM reverse_etl.conflicts "
                 "ORDER BY sync_key") == [("k001", "again", "flagged"), ("k9", "old", None)]
