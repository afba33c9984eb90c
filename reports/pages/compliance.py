"""Compliance: people who left (terminated in HR) but still hold an active CRM seat, against
the access policy (``marts.leavers_with_access``, hours counted by the build)."""

from __future__ import annotations

from collections.abc import Mapping

from reports import charts
from reports.db import Reader
from reports.pages.common import href_for
from reports.params import Choice, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view

STATUSES = ("breached", "within")
# How far past the policy each leaver is; buckets in hours since the termination day began.
BUCKETS_SQL = """
select bucket, count(*) from (
    select case
        when not is_policy_breached then 'within policy'
        when hours_since_termination <= 24 then 'past policy, under 1 day'
        when hours_since_termination <= 168 then '1 to 7 days'
        when hours_since_termination <= 720 then '7 to 30 days'
        else 'over 30 days'
    end as bucket
    from marts.leavers_with_access
) as leavers group by bucket
"""
BUCKETS = ("within policy", "past policy, under 1 day", "1 to 7 days", "7 to 30 days",
           "over 30 days")
BUCKET_COLORS = ("#3a9a5b", "#e0a030", "#e07b39", "#c8434d", "#8a1c1c")


def _conditions(values: Mapping[str, Value]) -> list[Condition]:
    if values.get("status") == "breached":
        return [Condition("is_policy_breached")]
    if values.get("status") == "within":
        return [Condition("not is_policy_breached")]
    return []


LEAVERS_TABLE = Table(
    name="leavers",
    title="Leavers still holding CRM access",
    columns=(
        Column("is_policy_breached", "Past policy", "bool", good=False),
        Column("first_name", "First name"),
        Column("last_name", "Last name"),
        Column("work_email", "Work e-mail"),
        Column("department", "Department"),
        Column("employee_id", "HR employee", "id"),
        Column("termination_date", "Left on", "date"),
        Column("owner_id", "CRM owner (record to fix)", "id"),
        Column("user_id", "CRM user", "id", hidden=True),
        Column("hours_since_termination", "Access since leaving", "hours"),
        Column("policy_hours", "Policy (h)", "int", hidden=True),
        Column("as_of_at", "As of", "ts", hidden=True),
        Column("break_id", "Break id", "id", hidden=True),
    ),
    source_sql=(
        "select is_policy_breached, first_name, last_name, work_email, department, employee_id, "
        "termination_date, owner_id, user_id, hours_since_termination, policy_hours, as_of_at, "
        "break_id from marts.leavers_with_access"),
    order_by="hours_since_termination desc, owner_id",
    filters=(Choice("status", STATUSES, "status"),),
    conditions=_conditions,
)


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The compliance page."""
    values, notices = parse(raw, LEAVERS_TABLE.fields)
    leavers, breached, policy, as_of = reader.one(
        "select count(*), coalesce(sum(case when is_policy_breached then 1 else 0 end), 0), "
        "max(policy_hours), max(as_of_at) from marts.leavers_with_access")
    terminated = int(reader.scalar(
        "select count(*) from marts.employees where is_terminated"))
    buckets = dict(reader.rows(BUCKETS_SQL))
    chart = charts.hbar_chart(
        [charts.Bar(b, int(buckets.get(b, 0)), site.links.page(
            "compliance", status="within" if b == "within policy" else "breached"), color)
         for b, color in zip(BUCKETS, BUCKET_COLORS, strict=True)],
        title="Leavers with CRM access, by time past the policy",
        empty="no leaver holds CRM access")
    filters = LEAVERS_TABLE.filter_values(values)
    return Page(
        title="Compliance",
        lead="People who left the company (terminated in HR) but still hold an active CRM seat "
             "under the same work e-mail. Policy: access ends within "
             f"{policy if policy is not None else 'the configured'} hours of the termination "
             "day. Remove the CRM seat named in each row.",
        template="compliance.html",
        notices=notices,
        context={
            "leavers": int(leavers), "breached": int(breached), "policy": policy,
            "as_of": as_of, "terminated": terminated, "chart": chart,
            "table": view(reader, LEAVERS_TABLE, values, site.links, "compliance", site=site),
            "filters": filters, "href": href_for(site.links, "compliance", filters),
            "statuses": [("breached", "past policy"), ("within", "within policy")],
        },
    )


SPEC = PageSpec("compliance", "Compliance", render, tables=(LEAVERS_TABLE,),
                requires=("marts.leavers_with_access", "marts.employees"))
