"""The same engine on Postgres: planning SQL, state, dead letters, replay, conflicts, and a
real sync."""

from __future__ import annotations

from datetime import timedelta

import pytest

from goldloop.errors import SyncError
from goldloop.settings import Settings
from reverse_etl.runner import plan_sync, replay_sync, run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    CRM_COLUMNS,
    FakeWriter,
    SandboxReader,
    connection,
    create_model,
    query,
    state_of,
    unique,
)
from tests.reverse_etl.test_plan import CONFLICT_BASE, model, rows, spec_of

pytestmark = pytest.mark.postgres


def test_plan_state_dead_letters_and_replay_on_postgres(postgres: Settings) -> None:
    spec = spec_of("conflict: flag\n")
    model(postgres, rows(12))
    first = run_sync(spec, postgres, writer=FakeWriter(reject={"k005": "bad email"}))
    assert (first.inserted, first.updated, first.rejected) == (7, 4, 1)
    for _ in range(2):
        again = run_sync(spec, postgres, writer=FakeWriter(reject={"k005": "bad email"}))
        assert (again.unchanged, again.rejected) == (11, 1)
    assert state_of(postgres, "things")["k005"][:3] == ("dead", None, 3)
    assert query(postgres, "SELECT reason FROM reverse_etl.dead_letters") == [("bad email",)]
    model(postgres, rows(12, k001={"city": "Bergen"}))
    plan = plan_sync(spec, postgres)
    assert plan.counts == {"dead": 1, "unchanged": 10, "update": 1}
    assert plan.changes[0].diff() == [("city", "Oslo", "Bergen")]
    fixed = FakeWriter()
    assert replay_sync(spec, postgres, writer=fixed).inserted == 1
    assert fixed.written_keys() == ["k005"]
    model(postgres, [*rows(3), rows(3)[2]])
    with pytest.raises(SyncError, match=r"duplicate sync_key .*: k002 \(2x\)"):
        plan_sync(spec, postgres)


def test_crm_sync_with_a_postgres_warehouse(
        sandbox: SandboxConfig, reader: SandboxReader, postgres: Settings) -> None:
    tag = unique("g")
    create_model(postgres, "sync_crm__contacts", CRM_COLUMNS, [
        {"sync_key": f"{tag}-{i}", "email": f"{tag}.{i}@example.com", "firstname": "Pg",
         "lastname": str(i), "hs_email_optout": "true"} for i in range(150)])
    spec = find_spec("crm_contacts")
    conn = connection(sandbox, "crm")
    first = run_sync(spec, postgres, connection=conn)
    assert (first.inserted, first.requests) == (150, 2)
    assert reader.crm_contacts(f"{tag}.149@example.com")[0]["properties"]["lastname"] == "149"
    second = run_sync(spec, postgres, connection=conn)
    assert (second.unchanged, second.requests) == (150, 0)


def test_conflicts_on_postgres_flag_then_replay_writes(postgres: Settings) -> None:
    spec = spec_of("conflict: flag\n", base=CONFLICT_BASE)
    data = rows(3)
    model(postgres, data)
    run_sync(spec, postgres, writer=FakeWriter())
    synced_at = query(postgres, "SELECT max(synced_at) FROM reverse_etl.sync_state")[0][0]
    data[0].update(crm_updated_at=synced_at, city="Bergen")  # our own write
    data[1].update(crm_updated_at=synced_at + timedelta(minutes=5), city="Bergen")
    model(postgres, data)
    writer = FakeWriter()
    summary = run_sync(spec, postgres, writer=writer, approve=True)
    assert (writer.written_keys(), summary.conflicts) == (["k000"], 1)
    assert query(postgres, "SELECT sync_key, resolution, resolved_at FROM "
                 "reverse_etl.conflicts") == [("k001", "flagged", None)]
    released = FakeWriter()
    assert replay_sync(spec, postgres, writer=released).updated == 1
    assert released.written_keys() == ["k001"]
    assert query(postgres, "SELECT resolution FROM reverse_etl.conflicts") == [("released",)]
