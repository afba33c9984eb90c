"""Customers: find a golden customer by id, name, e-mail, phone or any system's record id.

The search is one parameterised query in the warehouse; nothing typed reaches the SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.db import Reader
from reports.params import Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view

MIN_PHONE_DIGITS = 6


def search_conditions(values: Mapping[str, Value]) -> list[Condition]:
    """Match ``q`` against the customer id, e-mail, full name, phone digits, or a record id.

    One pass over the customers and one over their records, both in the warehouse; the text is
    a bound parameter matched literally (``strpos``: ``%`` and ``_`` are plain characters).

    >>> [c.params for c in search_conditions({"q": "Ann O'Neil"})][0]
    ("Ann O'Neil", "ann o'neil", "ann o'neil", "Ann O'Neil")
    >>> len(search_conditions({"q": "+1 (415) 555-0123"})[0].params)
    5
    """
    if "q" not in values:
        return []
    text = str(values["q"])
    lowered = text.lower()
    clauses = [
        "customer_id = ?",
        "strpos(lower(coalesce(email, '')), ?) > 0",
        "strpos(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ?) > 0",
    ]
    params: list[Any] = [text, lowered, lowered]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= MIN_PHONE_DIGITS:
        clauses.append("strpos(coalesce(phone, ''), ?) > 0")
        params.append(digits)
    params.append(text)
    return [Condition(
        "customer_id in (select customer_id from marts.customers where "
        + " or ".join(clauses)
        + " union all select customer_id from marts.customer_xref where record_id = ?)",
        tuple(params))]


CUSTOMERS_TABLE = Table(
    name="customers",
    title="Golden customers",
    columns=(
        Column("customer_id", "Customer", "id", link="customer"),
        Column("first_name", "First name"),
        Column("last_name", "Last name"),
        Column("email", "E-mail"),
        Column("phone", "Phone"),
        Column("city", "City"),
        Column("country_code", "Country"),
        Column("is_in_crm", "CRM", "bool"),
        Column("is_in_erp", "ERP", "bool"),
        Column("is_in_shop", "Shop", "bool"),
        Column("source_record_count", "Records", "int"),
        Column("has_marketing_consent", "Consent", "bool", hidden=True),
        Column("is_business_account", "Business", "bool", hidden=True),
        Column("is_deleted", "Deleted", "bool", hidden=True),
        Column("last_updated_at", "Last change", "ts"),
    ),
    source_sql=(
        "select customer_id, first_name, last_name, email, phone, city, country_code, "
        "is_in_crm, is_in_erp, is_in_shop, source_record_count, has_marketing_consent, "
        "is_business_account, is_deleted, last_updated_at from marts.customers"),
    order_by="customer_id",
    key="customer_id",
    filters=(Text("q", 100, "search"),),
    conditions=search_conditions,
)


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The customer search page."""
    values, notices = parse(raw, CUSTOMERS_TABLE.fields)
    table = view(reader, CUSTOMERS_TABLE, values, site.links, "customers", site=site)
    query = str(values.get("q", ""))
    if query and table.total == 0:
        notices.append(f"No golden customer matches '{query}'. Search by customer id "
                       "(cus_…), e-mail, name, phone number or a CRM, ERP or shop record id.")
    return Page(
        title="Customers",
        lead="One golden record per customer, matched across CRM, ERP and shop. Open a "
             "customer to see each field, the system it came from, and every system's own value.",
        template="customers.html",
        notices=notices,
        context={"table": table, "query": query},
    )


SPEC = PageSpec("customers", "Customers", render, tables=(CUSTOMERS_TABLE,),
                requires=("marts.customers", "marts.customer_xref"))
