"""erp_contacts end to end against the sandbox's Xero: per-element ValidationErrors reject only
their record, a rerun writes nothing, a write whose answer was lost is never duplicated, and
mirror mode archives what left the model."""

from __future__ import annotations

from typing import Any

from goldloop.settings import Settings
from goldloop.warehouse import connect
from reverse_etl.destinations.erp import ErpContactsWriter
from reverse_etl.plan import make_plan
from reverse_etl.runner import run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    ERP_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    query,
    state_of,
    unique,
)

MODEL = "sync_erp__contacts"


def golden(tag: str, i: int, **values: Any) -> dict[str, Any]:
    row = {"sync_key": f"{tag}-{i:03d}", "contact_id": None, "name": f"Gold {tag} {i}",
           "first_name": "Gold", "last_name": f"{tag}{i}",
           "email_address": f"{tag}.{i}@example.com", "phone": "+442071838750",
           "address_line1": f"{i} High Street", "city": "London", "postal_code": "SW1A 1AA",
           "country": "United Kingdom", "contact_number": f"{tag}-{i:03d}"}
    row.update(values)
    return row


def test_validation_errors_reject_only_their_rows_and_rerun_writes_nothing(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("erp_contacts")
    conn = connection(sandbox, "erp")
    tag = unique("e")
    taken = reader.erp("Contacts", page="1", pageSize="5")["Contacts"][2]["Name"]
    rows = [golden(tag, i) for i in range(120)]
    rows[7]["name"] = taken  # Xero: the name must be unique across active contacts
    rows[64]["email_address"] = "not an e-mail"
    create_model(warehouse, MODEL, ERP_COLUMNS, rows)

    first = run_sync(spec, warehouse, connection=conn)
    assert (first.inserted, first.rejected, first.requests) == (118, 2, 3)  # 50 + 50 + 20
    state = state_of(warehouse, "erp_contacts")
    assert state[f"{tag}-007"][3] == (f"The contact name {taken} is already assigned to "
                                      "another contact. The contact name must be unique "
                                      "across all active contacts.")
    assert state[f"{tag}-064"][3] == "Email address must be valid."
    contact = reader.erp_contacts(f"{tag}-010")
    assert len(contact) == 1
    assert contact[0]["Name"] == f"Gold {tag} 10"
    phone = next(p for p in contact[0]["Phones"] if p["PhoneType"] == "DEFAULT")
    street = next(a for a in contact[0]["Addresses"] if a["AddressType"] == "STREET")
    assert (phone["PhoneNumber"], street["AddressLine1"], street["City"]) == (
        "+442071838750", "10 High Street", "London")
    assert state[f"{tag}-010"][:2] == ("synced", contact[0]["ContactID"])
    assert reader.erp_contacts(f"{tag}-007") == []

    second = run_sync(spec, warehouse, connection=conn)
    assert (second.unchanged, second.inserted, second.updated, second.rejected) == (118, 0, 0, 2)
    assert second.requests == 1  # only the two rejected rows, retried together


def test_a_write_whose_answer_was_lost_is_never_duplicated(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("erp_contacts")
    conn = connection(sandbox, "erp")
    tag = unique("e")
    rows = [golden(tag, i) for i in range(30)]
    create_model(warehouse, MODEL, ERP_COLUMNS, rows)
    # the first attempt reaches Xero, but the process dies before it records anything
    with connect(warehouse) as con:
        plan = make_plan(con, "duckdb", spec)
    writer = ErpContactsWriter(spec.with_pace(0), conn)
    lost = writer.write("contacts", plan.to_write[:20])
    writer.close()
    assert {o.status for o in lost} == {"ok"}
    assert state_of(warehouse, "erp_contacts") == {}

    summary = run_sync(spec, warehouse, connection=conn)
    assert summary.inserted == 30 and summary.rejected == 0
    for i in range(30):
        assert len(reader.erp_contacts(f"{tag}-{i:03d}")) == 1
    state = state_of(warehouse, "erp_contacts")
    assert state[f"{tag}-005"][1] == lost[5].destination_id  # the same contact, matched again


def test_mirror_mode_archives_contacts_that_left_the_model(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("erp_contacts").model_copy(update={"mode": "mirror"})
    conn = connection(sandbox, "erp")
    tag = unique("m")
    rows = [golden(tag, i) for i in range(6)]
    create_model(warehouse, MODEL, ERP_COLUMNS, rows)
    assert run_sync(spec, warehouse, connection=conn).inserted == 6
    ids = {key: row[1] for key, row in state_of(warehouse, "erp_contacts").items()}

    create_model(warehouse, MODEL, ERP_COLUMNS, rows[:4])  # two customers left the feed
    summary = run_sync(spec, warehouse, connection=conn, approve=True)
    assert (summary.deleted, summary.unchanged, summary.requests) == (2, 4, 1)
    for i in (4, 5):
        number = f"{tag}-{i:03d}"
        archived = reader.erp("Contacts", where=f'ContactNumber=="{number}"',
                              includeArchived="true")["Contacts"]
        assert [(c["ContactID"], c["ContactStatus"], c["Name"]) for c in archived] == [
            (ids[number], "ARCHIVED", f"Gold {tag} {i}")]
        assert reader.erp_contacts(number) == []  # gone from the active list
    assert len(reader.erp_contacts(f"{tag}-003")) == 1
    state = state_of(warehouse, "erp_contacts")
    assert [state[f"{tag}-{i:03d}"][0] for i in range(6)] == ["synced"] * 4 + ["deleted"] * 2
    audit = query(warehouse, "SELECT sync_key, destination_id, operation, status, http_status "
                  "FROM reverse_etl.audit WHERE run_id = ? ORDER BY sync_key",
                  (summary.run_id,))
    assert audit == [(f"{tag}-{i:03d}", ids[f"{tag}-{i:03d}"], "delete", "success", 200)
                     for i in (4, 5)]
    again = run_sync(spec, warehouse, connection=conn)
    assert (again.deleted, again.requests, again.unchanged) == (0, 0, 4)
