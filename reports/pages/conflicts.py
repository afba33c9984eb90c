"""Conflicts: golden customers whose systems disagree on e-mail, phone or address, each record's
value beside the golden one (``marts.customer_field_conflicts``)."""

from __future__ import annotations

from collections.abc import Mapping

from reports import charts
from reports.db import Reader, like_pattern
from reports.pages.common import href_for
from reports.params import Choice, Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view

FIELDS = ("email", "phone", "address")
SYSTEMS = ("crm", "erp", "shop")


def _conditions(values: Mapping[str, Value]) -> list[Condition]:
    found: list[Condition] = []
    if "field" in values:
        found.append(Condition("field_name = ?", (values["field"],)))
    if "system" in values:
        found.append(Condition("system = ?", (values["system"],)))
    if "customer" in values:
        found.append(Condition("customer_id = ?", (values["customer"],)))
    if "q" in values:
        pattern = like_pattern(str(values["q"]).lower())
        found.append(Condition(
            "lower(coalesce(field_value, '')) like ? escape '\\' "
            "or lower(coalesce(golden_value, '')) like ? escape '\\' "
            "or lower(record_id) like ? escape '\\' or customer_id = ?",
            (pattern, pattern, pattern, values["q"])))
    return found


CONFLICTS_TABLE = Table(
    name="conflicts",
    title="Field conflicts",
    columns=(
        Column("customer_id", "Customer", "id", link="customer"),
        Column("field_name", "Field"),
        Column("system", "System"),
        Column("object", "Object", hidden=True),
        Column("record_id", "Record", "id"),
        Column("field_value", "This system's value"),
        Column("golden_value", "Golden value"),
        Column("golden_source", "Golden from"),
        Column("is_golden_value", "Agrees", "bool", good=True),
        Column("record_updated_at", "Record changed", "ts"),
    ),
    source_sql=(
        "select customer_id, field_name, system, object, record_id, field_value, golden_value, "
        "golden_source, is_golden_value, record_updated_at from marts.customer_field_conflicts"),
    order_by="customer_id, field_name, system, record_id",
    filters=(Choice("field", FIELDS, "field"), Choice("system", SYSTEMS, "system"),
             Text("customer", 64, "customer"), Text("q", 100, "search")),
    conditions=_conditions,
)


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The field-conflicts page."""
    values, notices = parse(raw, CONFLICTS_TABLE.fields)
    summary = {field: (0, 0, 0) for field in FIELDS}
    for field, customers, records, disagreeing in reader.rows(
            "select field_name, count(distinct customer_id), count(*), "
            "coalesce(sum(case when is_golden_value then 0 else 1 end), 0) "
            "from marts.customer_field_conflicts group by field_name"):
        summary[str(field)] = (int(customers), int(records), int(disagreeing))
    chart = charts.hbar_chart(
        [charts.Bar(field, counts[0], site.links.page("conflicts", field=field))
         for field, counts in summary.items()],
        title="Customers with conflicting values, by field",
        empty="no conflicts: every system agrees")
    filters = CONFLICTS_TABLE.filter_values(values)
    return Page(
        title="Field conflicts",
        lead="Customers whose systems disagree on e-mail, phone or address (compared "
             "normalised). Each row is one system's record next to the golden value the "
             "survivorship rules chose; fix the records that do not agree.",
        template="conflicts.html",
        notices=notices,
        context={
            "summary": summary,
            "customers": int(reader.scalar(
                "select count(distinct customer_id) from marts.customer_field_conflicts")),
            "chart": chart,
            "table": view(reader, CONFLICTS_TABLE, values, site.links, "conflicts", site=site),
            "filters": filters,
            "href": href_for(site.links, "conflicts", filters),
            "fields": [(f, f) for f in FIELDS],
            "systems": [(s, s) for s in SYSTEMS],
        },
    )


SPEC = PageSpec("conflicts", "Conflicts", render, tables=(CONFLICTS_TABLE,),
                requires=("marts.customer_field_conflicts",))
