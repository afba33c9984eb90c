"""Customers: find a golden customer by id, name, e-mail, phone or any system's record id.

The search is one parameterised query in the warehouse; nothing typed reaches the SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.db import Reader, contains
from reports.params import Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view

MIN_PHONE_DIGITS = 6
PREFILTER_WORDS = 3
FULL_NAME = "coalesce(first_name, '') || ' ' || coalesce(last_name, '')"


def name_condition(text: str) -> tuple[str, list[str]]:
    """SQL matching ``text`` anywhere in the full name (first, space, last), ignoring case.

    Text without a space lies within one of the two names, so each is matched on its own: few
    distinct names, which the warehouse compares once each instead of once per customer. Text
    with a space is matched against the full name built per row, but only on rows where its
    first words already appear in one of the names (a word holds no space, so it must).

    >>> name_condition("nel")
    ('(first_name ilike ? or last_name ilike ?)', ['%nel%', '%nel%'])
    >>> name_condition("ann o'neil")[1]
    ['%ann%', '%ann%', "%o'neil%", "%o'neil%", "%ann o'neil%"]
    """
    tests, params = [], []
    for word in text.split()[:PREFILTER_WORDS]:
        (first, patterns), (last, _) = contains("first_name", word), contains("last_name", word)
        tests.append(f"({first} or {last})")
        params += patterns * 2
    if " " in text:
        full, patterns = contains(FULL_NAME, text)
        tests.append(full)
        params += patterns
    return " and ".join(tests), params


def search_conditions(values: Mapping[str, Value]) -> list[Condition]:
    """Match ``q`` against the customer id, e-mail, full name, phone digits, or a record id.

    One pass over the customers and one over their records' ids, both in the warehouse; the
    text is a bound parameter matched literally (wildcards escaped), ignoring case.

    >>> search_conditions({"q": "ann"})[0].params
    ('ann', '%ann%', '%ann%', '%ann%', 'ann')
    >>> len(search_conditions({"q": "+1 (415) 555-0123"})[0].params)  # digits: phone too
    11
    """
    if "q" not in values:
        return []
    text = str(values["q"])
    email, patterns = contains("email", text)
    names, name_params = name_condition(text)
    clauses = ["customer_id = ?", email, f"({names})"]
    params: list[Any] = [text, *patterns, *name_params]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= MIN_PHONE_DIGITS:
        clauses.append("strpos(coalesce(phone, ''), ?) > 0")
        params.append(digits)
    clauses.append("customer_id in (select customer_id from marts.customer_xref "
                   "where record_id = ?)")
    params.append(text)
    return [Condition(" or ".join(clauses), tuple(params))]


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
