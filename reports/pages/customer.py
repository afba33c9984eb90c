"""Customer 360: one golden customer, each golden field with the system it came from and when,
beside every source record's own value; its conflicts, orders, invoices and breaks.

Golden fields are read from the mart's own lineage columns (``<field>__source``,
``<field>__updated_at``), so a field added to the survivorship rules shows up here by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports import breaks
from reports.db import Reader
from reports.pages.conflicts import CONFLICTS_TABLE
from reports.params import Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, TableView, view

FIRST_ROWS = 25
RECORDS = "intermediate.int_customer_records"


def quoted(identifier: str) -> str:
    """A column name from the warehouse's catalogue, quoted for SQL.

    >>> quoted('email'), quoted('a"b')
    ('"email"', '"a""b"')
    """
    return '"' + identifier.replace('"', '""') + '"'


def golden_fields(reader: Reader) -> list[str]:
    """The golden columns of ``marts.customers``: those carrying ``__source``/``__updated_at``."""
    names = [name for name, _ in reader.columns("marts", "customers")]
    present = set(names)
    return [n for n in names if f"{n}__source" in present and f"{n}__updated_at" in present]


def record_fields(reader: Reader, fields: list[str]) -> list[str]:
    """The golden fields each source record also has (in the identity step's record table)."""
    if not reader.has_table("intermediate", "int_customer_records"):
        return []
    present = {name for name, _ in reader.columns("intermediate", "int_customer_records")}
    return [f for f in fields if f in present]


def _by_customer(values: Mapping[str, Value]) -> list[Condition]:
    return [Condition("customer_id = ?", (values.get("id", ""),))]


ORDERS_TABLE = Table(
    name="customer_orders",
    title="Orders",
    columns=(
        Column("customer_id", "Customer", "id", hidden=True),
        Column("order_id", "Shop order id", "id"),
        Column("order_name", "Order"),
        Column("ordered_at", "Placed", "ts"),
        Column("total_amount", "Total", "money"),
        Column("currency_code", "Currency"),
        Column("financial_status", "Status"),
        Column("is_cancelled", "Cancelled", "bool"),
        Column("invoice_id", "ERP invoice id", "id"),
    ),
    source_sql=("select customer_id, order_id, order_name, ordered_at, total_amount, "
                "currency_code, financial_status, is_cancelled, invoice_id from marts.orders"),
    order_by="ordered_at desc, order_id",
    filters=(Text("id", 64, "customer id"),),
    conditions=_by_customer,
)

INVOICES_TABLE = Table(
    name="customer_invoices",
    title="Invoices",
    columns=(
        Column("customer_id", "Customer", "id", hidden=True),
        Column("invoice_id", "ERP invoice id", "id"),
        Column("invoice_number", "Invoice"),
        Column("reference", "Reference"),
        Column("invoice_date", "Date", "date"),
        Column("total_amount", "Total", "money"),
        Column("amount_due", "Due", "money"),
        Column("currency_code", "Currency"),
        Column("invoice_status", "Status"),
        Column("is_deleted", "Deleted", "bool"),
    ),
    source_sql=("select customer_id, invoice_id, invoice_number, reference, invoice_date, "
                "total_amount, amount_due, currency_code, invoice_status, is_deleted "
                "from marts.invoices"),
    order_by="invoice_date desc, invoice_id",
    filters=(Text("id", 64, "customer id"),),
    conditions=_by_customer,
)

RECORDS_TABLE = Table(
    name="customer_records",
    title="Source records",
    columns=(
        Column("customer_id", "Customer", "id", hidden=True),
        Column("system", "System"),
        Column("object", "Object"),
        Column("record_id", "Record id", "id"),
        Column("is_anchor_record", "Anchor", "bool"),
        Column("is_deleted", "Deleted", "bool", good=False),
        Column("created_at", "Created", "ts"),
        Column("updated_at", "Changed", "ts"),
    ),
    source_sql=("select customer_id, system, object, record_id, is_anchor_record, is_deleted, "
                "created_at, updated_at from marts.customer_xref"),
    order_by="system, updated_at desc nulls last, record_id",
    filters=(Text("id", 64, "customer id"),),
    conditions=_by_customer,
)


def field_grid(reader: Reader, customer_id: str) -> tuple[dict[str, Any] | None,
                                                         list[dict[str, Any]],
                                                         list[dict[str, Any]]]:
    """The golden row, its source records with their values, and one grid row per field."""
    fields = golden_fields(reader)
    selected = ["customer_id", "crm_contact_id", "erp_contact_id", "shop_customer_id",
                "source_record_count", "source_system_count", "is_deleted",
                "is_business_account", "first_seen_at", "last_updated_at"]
    present = {name for name, _ in reader.columns("marts", "customers")}
    columns = [c for c in selected if c in present]
    columns += [c for f in fields for c in (f, f"{f}__source", f"{f}__updated_at")]
    found = reader.rows(f"select {', '.join(quoted(c) for c in columns)} from marts.customers "
                        "where customer_id = ?", (customer_id,))
    if not found:
        return None, [], []
    golden = dict(zip(columns, found[0], strict=True))
    values = record_fields(reader, fields)
    value_sql = "".join(f", r.{quoted(f)}" for f in values)
    # the customer's records first, so the join probes the record table with a few keys only
    join = (f" left join {RECORDS} as r on r.record_key = x.record_key "
            "and r.record_key in (select record_key from x)" if values else "")
    records = []
    for row in reader.rows(
            "with x as (select * from marts.customer_xref where customer_id = ?) "
            "select x.system, x.object, x.record_id, x.is_anchor_record, x.is_deleted, "
            f"x.updated_at{value_sql} from x{join} "
            "order by x.system, x.updated_at desc nulls last, x.record_id", (customer_id,)):
        system, obj, record_id, anchor, deleted, updated = row[:6]
        records.append({"system": system, "object": obj, "record_id": record_id,
                        "is_anchor": anchor, "is_deleted": deleted, "updated_at": updated,
                        "values": dict(zip(values, row[6:], strict=True))})
    grid = []
    for field in fields:
        value = golden[field]
        cells = []
        for record in records:
            has = field in record["values"]
            theirs = record["values"].get(field)
            cells.append({"value": theirs, "known": has,
                          "differs": has and theirs is not None and str(theirs) != str(value)})
        grid.append({"field": field, "value": value, "source": golden[f"{field}__source"],
                     "updated_at": golden[f"{field}__updated_at"], "cells": cells})
    return golden, records, grid


def _grid_rows(reader: Reader, _site: Any, values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    """The customer's field grid in long form (field by record) for its CSV."""
    golden, records, grid = field_grid(reader, str(values.get("id", "")))
    if golden is None:
        return []
    return [(golden["customer_id"], row["field"], row["value"], row["source"],
             row["updated_at"], record["system"], record["record_id"], cell["value"],
             record["updated_at"], cell["differs"])
            for row in grid for record, cell in zip(records, row["cells"], strict=True)]


FIELDS_TABLE = Table(
    name="customer_fields",
    title="Golden fields and each system's value",
    columns=(
        Column("customer_id", "Customer", "id"),
        Column("field", "Field"),
        Column("golden_value", "Golden value"),
        Column("golden_source", "From"),
        Column("golden_updated_at", "Updated", "ts"),
        Column("system", "System"),
        Column("record_id", "Record", "id"),
        Column("record_value", "Record's value"),
        Column("record_updated_at", "Record changed", "ts"),
        Column("differs", "Differs", "bool"),
    ),
    filters=(Text("id", 64, "customer id"),),
    artifact=_grid_rows,
)


def _not_found(customer_id: str, reader: Reader, site: Site, notices: list[str]) -> Page:
    owner = reader.rows("select customer_id, system, object from marts.customer_xref "
                        "where record_id = ? order by customer_id limit 1", (customer_id,))
    suggestion = None
    if owner:
        golden, system, obj = owner[0]
        suggestion = (site.links.page("customer", id=str(golden)), f"{system} {obj[:-1]}",
                      str(golden))
    message = (f"No golden customer has the id '{customer_id}'." if customer_id else
               "Which customer? Open one from the customer search.")
    return Page(title="Customer not found", template="customer_missing.html", notices=notices,
                status=404 if customer_id else 200,
                context={"message": message, "suggestion": suggestion, "query": customer_id})


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """One customer's 360 page."""
    values, notices = parse(raw, (Text("id", 64, "customer id"),))
    customer_id = str(values.get("id", ""))
    golden, records, grid = field_grid(reader, customer_id) if customer_id else (None, [], [])
    if golden is None:
        return _not_found(customer_id, reader, site, notices)
    by_id: dict[str, Value] = {"id": customer_id, "page": 1, "size": FIRST_ROWS}
    tables: dict[str, TableView] = {
        table.name: view(reader, table, by_id, site.links, "customer", site=site, paged=False)
        for table in (RECORDS_TABLE, ORDERS_TABLE, INVOICES_TABLE)}
    conflicts = view(reader, CONFLICTS_TABLE, {"customer": customer_id, "page": 1,
                                               "size": FIRST_ROWS},
                     site.links, "conflicts", site=site, paged=False)
    customer_breaks = reader.rows(
        f"select break_kind, record_id, source_reference, amount_at_stake, currency_code "
        f"from ({breaks.BREAKS_SQL}) as b where customer_id = ? "
        f"order by amount_at_stake desc, break_id", (customer_id,))
    name = " ".join(str(golden.get(k) or "") for k in ("first_name", "last_name")).strip()
    return Page(
        title=name or customer_id,
        lead=f"Golden customer {customer_id}: {len(records)} source records in "
             f"{golden.get('source_system_count', '?')} systems.",
        template="customer.html",
        notices=notices,
        context={
            "golden": golden, "records": records, "grid": grid, "tables": tables,
            "conflicts": conflicts, "customer_breaks": customer_breaks,
            "break_labels": breaks.LABELS,
            "fields_csv": site.links.csv(FIELDS_TABLE.name, id=customer_id),
        },
    )


SPEC = PageSpec("customer", "Customer", render, in_menu=False,
                tables=(FIELDS_TABLE, RECORDS_TABLE, ORDERS_TABLE, INVOICES_TABLE),
                requires=("marts.customers", "marts.customer_xref", "marts.invoices",
                          "marts.customer_field_conflicts", *breaks.TABLES))
