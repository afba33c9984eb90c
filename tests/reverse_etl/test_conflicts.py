"""Conflicts end to end against the sandbox's HubSpot: a person edits a contact after our sync;
the next sync flags it (skipped, recorded for a person) or, under warehouse_wins, overwrites it
and records the overwrite. Our own writes never count as a change made in the destination.

The model's ``destination_updated_at`` is set the way ``goldloop extract`` + ``dbt build`` set
it: the contact's ``updatedAt`` as HubSpot serves it.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

from goldloop.settings import Settings
from reverse_etl.destinations.base import parse_iso
from reverse_etl.plan import CONFLICT_TOLERANCE_SECONDS
from reverse_etl.runner import plan_sync, run_sync
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


def last_modified(reader: SandboxReader, contact_id: str) -> datetime:
    """The contact's last-modified as the extract loads it (HubSpot's ``updatedAt``)."""
    found = parse_iso(reader.crm_contact(contact_id)["updatedAt"])
    assert found is not None
    return found


def extracted(reader: SandboxReader, settings: Settings, rows: list[dict[str, Any]]) -> None:
    """What extract + build give the next sync: each contact's id and last-modified."""
    state = state_of(settings, "crm_contacts")
    for row in rows:
        row["crm_record_id"] = state[row["sync_key"]][1]
        row["destination_updated_at"] = last_modified(reader, row["crm_record_id"])
    create_model(settings, MODEL, CRM_COLUMNS, rows)


def test_a_contact_edited_in_hubspot_is_flagged_then_overwritten_by_policy(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    shipped = find_spec("crm_contacts")
    flag = shipped.model_copy(update={"conflict": "flag"})
    conn = connection(sandbox, "crm")
    tag = unique()
    rows = [{"sync_key": f"{tag}-{i}", "email": f"{tag}.{i}@example.com", "firstname": "Gold",
             "lastname": f"{tag}{i}", "city": "Portland", "hs_email_optout": "false"}
            for i in range(3)]
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)
    assert run_sync(flag, warehouse, connection=conn).inserted == 3
    extracted(reader, warehouse, rows)
    assert plan_sync(flag, warehouse).counts == {"unchanged": 3}  # our own writes

    # a person edits the first contact in HubSpot; the next extract sees it
    time.sleep(CONFLICT_TOLERANCE_SECONDS + 0.2)  # a change within the tolerance is ours
    edited_id = rows[0]["crm_record_id"]
    httpx.patch(f"{sandbox.base_url('crm')}/crm/v3/objects/contacts/{edited_id}",
                headers={"Authorization": f"Bearer {sandbox.credentials.crm_token}"},
                json={"properties": {"firstname": "Edited"}}).raise_for_status()
    extracted(reader, warehouse, rows)
    edited_at = rows[0]["destination_updated_at"]
    for row in rows[:2]:  # the golden records change too
        row["city"] = "Salem"
    create_model(warehouse, MODEL, CRM_COLUMNS, rows)

    flagged = run_sync(flag, warehouse, connection=conn, approve=True)
    assert (flagged.updated, flagged.conflicts) == (1, 1)
    kept = reader.crm_contact(edited_id)["properties"]
    assert (kept["firstname"], kept["city"]) == ("Edited", "Portland")  # skipped
    assert reader.crm_contacts(rows[1]["email"])[0]["properties"]["city"] == "Salem"
    assert query(warehouse, "SELECT sync_key, destination_id, kind, resolution, "
                 "destination_updated_at, resolved_at FROM reverse_etl.conflicts") == [
        (rows[0]["sync_key"], edited_id, "changed_in_destination", "flagged", edited_at,
         None)]
    audit = query(warehouse, "SELECT status, reason FROM reverse_etl.audit WHERE run_id = ? "
                  "AND sync_key = ?", (flagged.run_id, rows[0]["sync_key"]))
    assert audit[0][0] == "conflict" and "flagged for a person" in audit[0][1]
    assert run_sync(flag, warehouse, connection=conn).conflicts == 0  # recorded once

    # the same record under warehouse_wins: written, and the overwrite recorded
    wins = run_sync(shipped, warehouse, connection=conn, approve=True)
    assert (wins.updated, wins.conflicts) == (1, 1)
    written = reader.crm_contact(edited_id)["properties"]
    assert (written["firstname"], written["city"]) == ("Gold", "Salem")
    # both the flagged conflict and this overwrite are settled: nobody needs to look
    assert query(warehouse, "SELECT run_id = ?, resolution FROM reverse_etl.conflicts "
                 "WHERE resolved_at IS NOT NULL ORDER BY detected_at", (wins.run_id,)) == [
        (False, "warehouse_written"), (True, "warehouse_written")]
    reason = query(warehouse, "SELECT reason FROM reverse_etl.audit WHERE run_id = ? AND "
                   "status = 'success'", (wins.run_id,))[0][0]
    assert "overwritten with the warehouse's" in reason

    # the extract after our write sees our own stamp: nothing to do, no conflict
    extracted(reader, warehouse, rows)
    assert rows[0]["destination_updated_at"] > edited_at
    assert plan_sync(shipped, warehouse).counts == {"unchanged": 3}
    assert plan_sync(flag, warehouse).counts == {"unchanged": 3}
