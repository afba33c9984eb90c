"""Overview: is the loop healthy? Last extract per system, last build, data quality, open breaks,
leavers past the access policy, syncs when they have run, each with its trend where one exists
(loads per day from dlt's load log, breaks open per day from dbt's snapshot of the breaks).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from reports import breaks, charts, formats, history
from reports.db import Reader
from reports.dbt_artifacts import build_results
from reports.params import parse
from reports.site import Page, PageSpec, Site

SYSTEMS = ("crm", "erp", "shop", "hr")
HISTORY_DAYS = 14
# reverse-ETL syncs and the system each writes to (INTERFACES.md)
SYNC_SYSTEMS = {"crm_contacts": "crm", "erp_contacts": "erp", "shop_customers": "shop",
                "deal_invoices": "erp"}


def extract_status(reader: Reader, site: Site) -> list[dict[str, Any]]:
    """Per system: last successful load (dlt's ``_dlt_loads``), loads per day, newest record."""
    since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS - 1)
    newest: dict[str, Any] = {}
    if reader.has_table("marts", "customer_xref"):
        newest.update((str(s), t) for s, t in reader.rows(
            "select system, max(updated_at) from marts.customer_xref group by system"))
    if reader.has_table("marts", "employees"):
        newest["hr"] = reader.scalar("select max(updated_at) from marts.employees")
    found = []
    for system in SYSTEMS:
        schema = f"raw_{system}"  # from the fixed list above, never from a request
        entry: dict[str, Any] = {"system": system, "last": None, "loads": 0, "per_day": [],
                                 "newest": newest.get(system)}
        if reader.has_table(schema, "_dlt_loads"):
            last, loads = reader.one(
                f"select max(inserted_at), count(*) from {schema}._dlt_loads where status = 0")
            per_day = dict(reader.rows(
                f"select cast(inserted_at as date), count(*) from {schema}._dlt_loads "
                f"where status = 0 and inserted_at >= ? group by 1", (since,)))
            days = [since.date() + timedelta(days=i) for i in range(HISTORY_DAYS)]
            entry.update(last=last, loads=int(loads),
                         per_day=[int(per_day.get(day, 0)) for day in days])
        entry["age"] = formats.age(entry["last"], site.now)
        entry["sparkline"] = charts.sparkline(
            entry["per_day"], title=f"{system}: successful loads per day, last {HISTORY_DAYS} days")
        found.append(entry)
    return found


def sync_status(reader: Reader) -> dict[str, list[dict[str, Any]]]:
    """Per system written to, each sync's last finished run and last successful one (status
    ``ok``), from the reverse-ETL run log (nothing until a sync has run)."""
    if not reader.has_table("reverse_etl", "runs"):
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for sync_name, last_at, status, last_ok in reader.rows(
            "select sync_name, max(finished_at), "
            "max(case when finished_at = last_finished then status end), "
            "max(case when status = 'ok' then finished_at end) from ("
            "  select sync_name, finished_at, status, "
            "  max(finished_at) over (partition by sync_name) as last_finished "
            "  from reverse_etl.runs where finished_at is not null) as runs "
            "group by sync_name order by sync_name"):
        system = SYNC_SYSTEMS.get(str(sync_name), str(sync_name).split("_")[0])
        found.setdefault(system, []).append(
            {"sync": sync_name, "at": last_at, "status": status, "last_ok": last_ok})
    return found


def break_counts(reader: Reader) -> dict[str, Any]:
    """Open breaks by area: orders/deals vs invoices, customer conflicts, leavers."""
    counts: dict[str, Any] = {"orders": 0, "deals": 0, "stake": [], "conflict_customers": 0,
                              "conflict_records": 0, "leavers": 0, "breached": 0}
    for kind, currency, number, amount in reader.rows(breaks.by_kind_sql()):
        area = "deals" if str(kind).startswith("deal") else "orders"
        counts[area] += int(number)
        counts["stake"].append((currency, amount))
    customers, records = reader.one(
        "select count(distinct customer_id), count(*) from marts.customer_field_conflicts")
    counts.update(conflict_customers=int(customers), conflict_records=int(records))
    leavers, breached = reader.one(
        "select count(*), coalesce(sum(case when is_policy_breached then 1 else 0 end), 0) "
        "from marts.leavers_with_access")
    counts.update(leavers=int(leavers), breached=int(breached))
    totals: dict[str, Any] = {}
    for currency, amount in counts["stake"]:
        totals[currency] = totals.get(currency, 0) + amount
    counts["stake_text"] = "; ".join(formats.money(a, c) for c, a in sorted(
        totals.items(), key=lambda item: str(item[0]))) or formats.money(0)
    return counts


def customer_counts(reader: Reader) -> dict[str, int]:
    """Golden customers (all, live) and the source records matched into them."""
    total, live = reader.one(
        "select count(*), coalesce(sum(case when is_deleted then 0 else 1 end), 0) "
        "from marts.customers")
    records = reader.scalar("select count(*) from marts.customer_xref")
    return {"total": int(total), "live": int(live), "records": int(records)}


def break_trends(reader: Reader, site: Site) -> dict[str, Any]:
    """Breaks open per day by kind (chart) and the tiles' sparklines, from the snapshot."""
    found = history.open_per_day(reader, site.now)
    if found is None:
        return {"history": None, "history_chart": "", "sparks": {"breaks": None,
                                                                "leavers": None}}
    kinds = (*breaks.KIND_NAMES, breaks.LEAVER.kind)

    def href(kind: str) -> str | None:
        if kind == breaks.LEAVER.kind:
            return site.links.page("compliance")
        return site.links.page("reconciliation", kind=kind)

    days = len(found.days)
    lines = days > 1  # one day is a dot, not a line
    return {
        "history": found,
        "history_chart": history.chart(found, kinds, href=href,
                                       title=f"Breaks open at the end of each day, last "
                                             f"{days} {'day' if days == 1 else 'days'}"),
        "sparks": {
            "breaks": charts.sparkline(found.total(breaks.KIND_NAMES),
                                       title="Orders and deals not matching invoices, per day",
                                       width=160, height=28) if lines else None,
            "leavers": charts.sparkline(found.total([breaks.LEAVER.kind]),
                                        title="Leavers holding CRM access, per day",
                                        width=160, height=28) if lines else None,
        },
    }


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The overview page."""
    _, notices = parse(raw, [])
    build = build_results(site.dbt_target)
    syncs = sync_status(reader)
    systems = extract_status(reader, site)
    for entry in systems:
        entry["sync"] = syncs.get(entry["system"])
    return Page(
        title="Overview",
        lead="Is the loop healthy? When each system was last extracted, the last build and its "
             "checks, and what is open: breaks between systems, conflicting customer fields and "
             "leavers who still hold CRM access.",
        template="overview.html",
        notices=notices,
        context={
            "systems": systems,
            "has_syncs": bool(syncs),
            "build": build,
            "build_counts": build.outcome_counts() if build else None,
            "build_age": formats.age(build.generated_at, site.now) if build else "never",
            "breaks": break_counts(reader),
            "customers": customer_counts(reader),
            **break_trends(reader, site),
            "history_days": HISTORY_DAYS,
            "today": date.today(),
        },
    )


SPEC = PageSpec("index", "Overview", render, requires=(
    "marts.customers", "marts.customer_xref", "marts.customer_field_conflicts",
    "marts.leavers_with_access", *breaks.TABLES))
