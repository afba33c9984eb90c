"""Reconciliation: orders and deals against the ERP invoices that bill them.

Breaks by kind (count and amount at stake), their trend (open per day, from dbt's snapshot of
the breaks, and by month of the order or deal), and a filterable table down to the record, each
system's id and value side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from reports import breaks, charts, formats, history
from reports.db import Reader, like_pattern
from reports.pages.common import href_for, month_label, month_range, month_start
from reports.params import Choice, Month, Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view


def _conditions(values: Mapping[str, Value]) -> list[Condition]:
    found: list[Condition] = []
    if "kind" in values:
        found.append(Condition("break_kind = ?", (values["kind"],)))
    if "system" in values:
        found.append(Condition("system = ?", (values["system"],)))
    if "month" in values:
        found.append(Condition("business_month = ?", (month_start(str(values["month"])),)))
    if "customer" in values:
        found.append(Condition("customer_id = ?", (values["customer"],)))
    if "q" in values:
        pattern = like_pattern(str(values["q"]).lower())
        found.append(Condition(
            "lower(record_id) like ? escape '\\' or lower(source_id) like ? escape '\\' "
            "or lower(coalesce(source_reference, '')) like ? escape '\\' "
            "or lower(coalesce(invoice_id, '')) like ? escape '\\' "
            "or lower(coalesce(invoice_number, '')) like ? escape '\\'",
            (pattern,) * 5))
    return found


BREAKS_TABLE = Table(
    name="breaks",
    title="Reconciliation breaks",
    columns=(
        Column("break_kind", "Break", labels=breaks.LABELS),
        Column("system", "Fix in"),
        Column("record_id", "Record to fix", "id"),
        Column("source_system", "Source", hidden=True),
        Column("source_id", "Order / deal id", "id", hidden=True),
        Column("source_reference", "Shop order / CRM deal", "id"),
        Column("source_amount", "Order / deal amount", "money"),
        Column("invoice_id", "ERP invoice id", "id", hidden=True),
        Column("invoice_number", "ERP invoice", "id"),
        Column("invoice_amount", "Invoiced", "money"),
        Column("amount_difference", "Difference", "money"),
        Column("amount_at_stake", "At stake", "money"),
        Column("currency_code", "Currency", hidden=True),
        Column("business_month", "Month", "month"),
        Column("customer_id", "Customer", "id", link="customer"),
        Column("break_id", "Break id", "id", hidden=True),
    ),
    source_sql=breaks.BREAKS_SQL,
    order_by="amount_at_stake desc nulls last, break_id",
    filters=(Choice("kind", breaks.KIND_NAMES, "kind"), Choice("system", breaks.SYSTEMS, "system"),
             Month("month", "month"), Text("customer", 64, "customer"), Text("q", 80, "search")),
    conditions=_conditions,
)


def kind_summary(reader: Reader) -> list[dict[str, Any]]:
    """Every break kind with its count and amount at stake (per currency), zero when none."""
    found: dict[str, dict[str, Any]] = {
        k.kind: {"kind": k.kind, "label": k.label, "meaning": k.meaning, "area": k.area,
                 "count": 0, "amounts": []} for k in breaks.KINDS}
    for kind, currency, number, amount in reader.rows(breaks.by_kind_sql()):
        entry = found.setdefault(str(kind), {"kind": kind, "label": kind, "meaning": "",
                                             "area": "", "count": 0, "amounts": []})
        entry["count"] += int(number)
        entry["amounts"].append((currency, Decimal(amount)))
    for entry in found.values():
        entry["stake"] = "; ".join(formats.money(a, c) for c, a in entry["amounts"]) or formats.NONE
        entry["fix_in"] = breaks.FIX_IN.get(entry["kind"], "")
    return list(found.values())


def monthly(reader: Reader) -> tuple[list[date], dict[str, dict[date, tuple[int, Decimal]]]]:
    """Months from the first to the last break, and per kind each month's count and amount."""
    per_kind: dict[str, dict[date, tuple[int, Decimal]]] = {}
    months: list[date] = []
    for month, kind, number, amount in reader.rows(breaks.by_month_sql()):
        day = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
        per_kind.setdefault(str(kind), {})[day] = (int(number), Decimal(amount))
        months.append(day)
    if not months:
        return [], per_kind
    return month_range(min(months), max(months)), per_kind


def trend_chart(reader: Reader, site: Site, page: str = "reconciliation") -> str:
    """Breaks per month of the order or deal, stacked by kind; a column opens that month."""
    months, per_kind = monthly(reader)
    series = [charts.Series(breaks.LABELS.get(kind, kind),
                            [per_kind[kind].get(m, (0, 0))[0] for m in months],
                            [site.links.page(page, kind=kind, month=month_label(m))
                             for m in months], breaks.COLORS.get(kind))
              for kind in breaks.KIND_NAMES if kind in per_kind]
    return charts.column_chart([month_label(m) for m in months], series,
                               title="Open breaks by month of the order or deal",
                               empty="no breaks: every order and won deal is invoiced right")


def history_charts(reader: Reader, site: Site) -> dict[str, Any]:
    """Orders and deals breaks open per day by kind, and their amount at stake per day."""
    found = history.open_per_day(reader, site.now)
    if found is None:
        return {"history": None, "history_chart": "", "stake_history_chart": ""}

    def href(kind: str) -> str | None:
        return site.links.page("reconciliation", kind=kind)

    currency = f" ({found.currencies[0]})" if len(found.currencies) == 1 else ""
    return {
        "history": found,
        "history_chart": history.chart(found, breaks.KIND_NAMES, href=href,
                                       title="Open breaks at the end of each day"),
        "stake_history_chart": history.chart(
            found, breaks.KIND_NAMES, href=href, amounts=True,
            title=f"Amount at stake at the end of each day{currency}",
            empty="nothing was at stake on these days"),
        "stake_currency": currency,
    }


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The reconciliation page."""
    values, notices = parse(raw, BREAKS_TABLE.fields)
    summary = kind_summary(reader)
    count_bars = [charts.Bar(s["label"], s["count"],
                             site.links.page("reconciliation", kind=s["kind"]),
                             breaks.COLORS.get(s["kind"]))
                  for s in summary]
    amount_bars = [charts.Bar(s["label"], float(sum(a for _, a in s["amounts"])),
                              site.links.page("reconciliation", kind=s["kind"]),
                              breaks.COLORS.get(s["kind"]))
                   for s in summary]
    currencies = sorted({c for s in summary for c, _ in s["amounts"] if c})
    table = view(reader, BREAKS_TABLE, values, site.links, "reconciliation", site=site)
    filters = BREAKS_TABLE.filter_values(values)
    return Page(
        title="Reconciliation",
        lead="Shop orders and won CRM deals against the ERP invoices that bill them. Each row "
             "is one break: the record to fix, with each system's id and amount side by side.",
        template="reconciliation.html",
        notices=notices,
        context={
            "summary": summary,
            "total": sum(s["count"] for s in summary),
            "count_chart": charts.hbar_chart(count_bars, title="Open breaks by kind"),
            "amount_chart": charts.hbar_chart(
                amount_bars, title="Amount at stake by kind",
                fmt=lambda v: formats.money(v, currencies[0] if len(currencies) == 1 else None)),
            "trend_chart": trend_chart(reader, site),
            **history_charts(reader, site),
            "table": table,
            "filters": filters,
            "href": href_for(site.links, "reconciliation", filters),
            "kinds": [(k.kind, k.label) for k in breaks.KINDS],
            "systems": [(s, s) for s in breaks.SYSTEMS],
        },
    )


SPEC = PageSpec("reconciliation", "Reconciliation", render, tables=(BREAKS_TABLE,),
                requires=breaks.TABLES)
