"""crm_contacts end to end against the sandbox's HubSpot: golden values land, a rerun writes
nothing, a 1 % change writes exactly that, 207 rejections carry HubSpot's reason, dead letters
replay, a guard stop writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from goldloop.settings import Settings
from reverse_etl.guards import GuardStop
from reverse_etl.runner import replay_sync, run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    CRM_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    query,
    state_of,
    unique,
)

MODEL = "sync_crm__contacts"


def existing_contacts(config: SandboxConfig, start: int, count: int) -> list[dict[str, Any]]:
    """Live sandbox contacts with an e-mail, a slice per test so tests never share records."""
    response = httpx.get(f"{config.base_url('crm')}/crm/v3/objects/contacts",
                         params={"limit": 100, "properties": "email,firstname"},
                         headers={"Authorization": f"Bearer {config.credentials.crm_token}"})
    response.raise_for_status()
    found = [c for c in response.json()["results"] if c["properties"].get("email")]
    return found[start:start + count]


def golden(key: str, email: str | None, record_id: str | None = None, **values: Any,
           ) -> dict[str, Any]:
    row = {"sync_key": key, "email": email, "firstname": "Gold", "lastname": key,
           "phone": "+14155550100", "city": "Portland", "country": "United States",
           "hs_email_optout": "false", "crm_record_id": record_id}
    row.update(values)
    return row


def test_sync_lands_golden_values_then_writes_only_what_changed(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("crm_contacts")
    conn = connection(sandbox, "crm")
    tag = unique()
    known = existing_contacts(sandbox, 0, 20)
    rows = [golden(f"{tag}-u{i}", c["properties"]["email"], c["id"], firstname=f"Gold{i}")
            for i, c in enumerate(known)]
    rows += [golden(f"{tag}-n{i:02d}", f"{tag}.n{i}@example.com") for i in range(80)]
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)
    before = reader.counts("crm")["contacts"]["total"]

    first = run_sync(spec, warehouse, connection=conn)
    assert (first.status, first.inserted, first.updated, first.rejected) == ("ok", 80, 20, 0)
    assert reader.counts("crm")["contacts"]["total"] == before + 80
    updated = reader.crm_contact(known[3]["id"])["properties"]
    assert (updated["firstname"], updated["city"], updated["hs_email_optout"]) == (
        "Gold3", "Portland", "false")
    created = reader.crm_contacts(f"{tag}.n7@example.com")
    assert len(created) == 1 and created[0]["properties"]["lastname"] == f"{tag}-n07"
    assert state_of(warehouse, "crm_contacts")[f"{tag}-n07"][:2] == ("synced", created[0]["id"])

    second = run_sync(spec, warehouse, connection=conn)
    assert (second.unchanged, second.processed, second.requests) == (100, 0, 0)

    rows[42]["city"] = "Salem"  # 1 % of the feed
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)
    third = run_sync(spec, warehouse, connection=conn)
    assert (third.updated, third.inserted, third.unchanged, third.requests) == (1, 0, 99, 1)
    assert reader.crm_contacts(rows[42]["email"])[0]["properties"]["city"] == "Salem"
    assert reader.counts("crm")["contacts"]["total"] == before + 80

    # a mass change is stopped before anything is written
    create_model(warehouse, MODEL, CRM_COLUMNS, [{**r, "city": "Eugene"} for r in rows])
    with pytest.raises(GuardStop, match="100 of 100 synced records would change"):
        run_sync(spec, warehouse, connection=conn)
    assert reader.crm_contacts(rows[42]["email"])[0]["properties"]["city"] == "Salem"


def test_rejected_rows_carry_hubspots_reason_dead_letter_and_replay(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("crm_contacts")
    conn = connection(sandbox, "crm")
    tag = unique()
    holder, victim = existing_contacts(sandbox, 20, 2)
    taken = holder["properties"]["email"]
    rows = [golden(f"{tag}-ok{i}", f"{tag}.ok{i}@example.com") for i in range(5)]
    rows.append(golden(f"{tag}-dup", taken, victim["id"]))  # e-mail held by another contact
    rows.append(golden(f"{tag}-bad", f"{tag}-not-an-email"))
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)

    for attempt in (1, 2, 3):
        summary = run_sync(spec, warehouse, connection=conn)
        assert summary.rejected == 2
        assert summary.inserted == (5 if attempt == 1 else 0)
    assert summary.dead_lettered == 2
    dead = dict(query(warehouse, "SELECT sync_key, reason FROM reverse_etl.dead_letters"))
    assert dead[f"{tag}-dup"] == f"CONFLICT: Contact already exists. Existing ID: {holder['id']}"
    assert "INVALID_EMAIL" in dead[f"{tag}-bad"]
    assert run_sync(spec, warehouse, connection=conn).dead == 2

    # someone archives the contact holding the e-mail; replay sends both again
    httpx.delete(f"{sandbox.base_url('crm')}/crm/v3/objects/contacts/{holder['id']}",
                 headers={"Authorization": f"Bearer {sandbox.credentials.crm_token}"})
    replayed = replay_sync(spec, warehouse, connection=conn)
    assert (replayed.kind, replayed.updated, replayed.rejected, replayed.retried) == (
        "replay", 1, 1, 2)
    assert reader.crm_contact(victim["id"])["properties"]["email"] == taken
    assert state_of(warehouse, "crm_contacts")[f"{tag}-bad"][:3] == ("rejected", None, 1)


def test_mirror_mode_archives_contacts_that_left_the_model(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("crm_contacts").model_copy(update={"mode": "mirror"})
    conn = connection(sandbox, "crm")
    tag = unique()
    rows = [golden(f"{tag}-{i}", f"{tag}.{i}@example.com") for i in range(10)]
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)
    run_sync(spec, warehouse, connection=conn)
    create_model(warehouse, MODEL, CRM_COLUMNS, rows[:8])
    summary = run_sync(spec, warehouse, connection=conn, approve=True)
    assert (summary.deleted, summary.unchanged) == (2, 8)
    assert reader.crm_contacts(f"{tag}.9@example.com") == []
    assert len(reader.crm_contacts(f"{tag}.7@example.com")) == 1
    assert state_of(warehouse, "crm_contacts")[f"{tag}-9"][0] == "deleted"
