"""The same engine on Postgres: planning SQL, state, dead letters, replay, and a real sync."""

from __future__ import annotations

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
from tests.reverse_etl.test_plan import model, rows, spec_of

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
