"""deal_invoices end to end: closed-won deals become draft ACCREC invoices in the sandbox's
Xero exactly once, with their edge cases (new contact, unreconciled lines, unknown item code,
weekend close, re-opened deal, a create whose answer was lost)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from goldloop.settings import Settings
from goldloop.warehouse import connect
from reverse_etl import state
from reverse_etl.destinations.erp_invoices import ErpInvoicesWriter
from reverse_etl.plan import make_plan
from reverse_etl.runner import run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    INVOICE_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    query,
    state_of,
    unique,
)

MODEL = "sync_erp__invoices"
DEALS = {"deal_id": "varchar", "deal_stage": "varchar", "is_closed_won": "boolean",
         "is_deleted": "boolean", "invoice_count": "integer"}
MONDAY, SATURDAY = date(2026, 11, 2), date(2026, 11, 7)


def deal(key: str, lines: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    total = round(sum(line["Quantity"] * line["UnitAmount"] for line in lines), 2)
    row = {"sync_key": key, "reference": f"DEAL-{key}", "currency_code": "USD",
           "line_items": json.dumps(lines), "line_count": len(lines), "total": total,
           "deal_amount": total, "date": MONDAY, "due_date": date(2026, 12, 2)}
    row.update(values)
    return row


def test_closed_won_deals_become_one_draft_invoice_each(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("deal_invoices")
    conn = connection(sandbox, "erp")
    tag = unique("d")
    item = reader.erp("Items")["Items"][0]
    billed = reader.erp("Contacts", page="2", pageSize="5")["Contacts"][0]
    line = {"ItemCode": item["Code"], "Description": "Discounted", "Quantity": 2,
            "UnitAmount": 90.5}
    rows = [
        deal(f"{tag}1", [line], contact_id=billed["ContactID"]),
        deal(f"{tag}2", [line, {"ItemCode": None, "Description": "Setup fee", "Quantity": 1,
                                "UnitAmount": 250.0}], contact_name=f"New Co {tag}"),
        deal(f"{tag}3", [line], contact_id=billed["ContactID"], deal_amount=999.0),
        deal(f"{tag}4", [{**line, "ItemCode": "NOPE-404"}], contact_id=billed["ContactID"]),
        deal(f"{tag}5", [line], contact_id=billed["ContactID"], date=SATURDAY),
    ]
    create_model(warehouse, MODEL, INVOICE_COLUMNS, rows)
    create_model(warehouse, "deals", DEALS, [
        {"deal_id": f"{tag}9", "deal_stage": "contractsent", "is_closed_won": False,
         "is_deleted": False, "invoice_count": 1}])

    first = run_sync(spec, warehouse, connection=conn, today=SATURDAY)
    assert (first.inserted, first.rejected, first.queued, first.conflicts) == (2, 2, 1, 1)
    one = reader.erp_invoices(f"DEAL-{tag}1")
    assert len(one) == 1
    assert (one[0]["Type"], one[0]["Status"], one[0]["Contact"]["ContactID"], one[0]["Total"]) \
        == ("ACCREC", "DRAFT", billed["ContactID"], 181.0)
    two = reader.erp_invoices(f"DEAL-{tag}2")[0]
    assert two["Contact"]["Name"] == f"New Co {tag}" and two["Total"] == 431.0
    assert reader.erp("Contacts", where=f'Name=="New Co {tag}"')["Contacts"]  # created by name
    reasons = dict(query(warehouse, "SELECT sync_key, reason FROM reverse_etl.dead_letters"))
    assert reasons[f"{tag}3"] == "the invoice lines do not add up to the deal amount"
    assert reader.erp_invoices(f"DEAL-{tag}3") == []
    assert state_of(warehouse, "deal_invoices")[f"{tag}4"][3] == "Item code 'NOPE-404' is not valid"
    assert reader.erp_invoices(f"DEAL-{tag}5") == []  # closed on a Saturday: waits for Monday
    assert query(warehouse, "SELECT sync_key, kind FROM reverse_etl.conflicts") == [
        (f"{tag}9", "deal_reopened")]

    monday = run_sync(spec, warehouse, connection=conn, today=date(2026, 11, 9))
    assert (monday.inserted, monday.unchanged, monday.conflicts) == (1, 2, 0)
    assert len(reader.erp_invoices(f"DEAL-{tag}5")) == 1
    again = run_sync(spec, warehouse, connection=conn, today=date(2026, 11, 9))
    assert (again.inserted, again.unchanged) == (0, 3)
    assert len(reader.erp_invoices(f"DEAL-{tag}1")) == 1


def test_an_interrupted_create_is_found_by_reference_not_billed_twice(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("deal_invoices")
    conn = connection(sandbox, "erp")
    tag = unique("d")
    billed = reader.erp("Contacts", page="2", pageSize="5")["Contacts"][1]
    line = {"ItemCode": None, "Description": "Consulting", "Quantity": 1, "UnitAmount": 500.0}
    rows = [deal(f"{tag}{i}", [line], contact_id=billed["ContactID"]) for i in range(3)]
    create_model(warehouse, MODEL, INVOICE_COLUMNS, rows)
    create_model(warehouse, "deals", DEALS, [])
    # a run marked the batch in flight and created the invoices, then died before its commit
    with connect(warehouse) as con:
        state.ensure_tables(con, "duckdb")
        plan = make_plan(con, "duckdb", spec, today=MONDAY)
        state.write_attempts(con, "duckdb", spec.name, [
            (c.key, None, "sending", c.payload_hash, 0, None) for c in plan.to_write],
            keep_error=True)
    writer = ErpInvoicesWriter(spec.with_pace(0), conn)
    lost = writer.write("invoices", plan.to_write)
    writer.close()
    assert {o.status for o in lost} == {"ok"}
    # the deal changed in the meantime: a new payload, a new idempotency key
    rows[0]["due_date"] = date(2026, 12, 31)
    create_model(warehouse, MODEL, INVOICE_COLUMNS, rows)

    summary = run_sync(spec, warehouse, connection=conn, today=MONDAY)
    assert (summary.inserted, summary.retried, summary.rejected) == (3, 3, 0)
    for i in range(3):
        assert len(reader.erp_invoices(f"DEAL-{tag}{i}")) == 1
    assert state_of(warehouse, "deal_invoices")[f"{tag}0"][1] == lost[0].destination_id
