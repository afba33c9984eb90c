"""The reconciliation breaks of ``marts.orders_vs_invoices`` and ``marts.deals_vs_invoices`` as
one relation, with the record to fix, each system's id and value, the amount at stake and the
month the business event happened (order placed, deal closed).

The amount at stake and its currency are ``marts.reconciliation_breaks``' (joined on
``break_id``): the rule lives in that mart only, so these pages and the breaks history
(``snapshots.reconciliation_breaks_snapshot``, a copy of the mart) always agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BreakKind:
    """A kind of break the marts report, in words a business user reads."""

    kind: str
    area: str
    label: str
    meaning: str


KINDS: tuple[BreakKind, ...] = (
    BreakKind("order_missing_invoice", "orders", "Order without invoice",
              "A live shop order the ERP never invoiced: revenue not billed."),
    BreakKind("invoice_amount_mismatch", "orders", "Invoice amount differs",
              "The order's first invoice totals differently from the order."),
    BreakKind("duplicate_invoice", "orders", "Duplicate invoice",
              "A second live invoice for the same order: the customer is billed twice."),
    BreakKind("deal_won_not_invoiced", "deals", "Won deal not invoiced",
              "A closed-won CRM deal with no live invoice."),
    BreakKind("deal_invoice_amount_mismatch", "deals", "Deal invoiced differently",
              "The deal's invoices total differently from the deal amount."),
)
KIND_NAMES = tuple(k.kind for k in KINDS)
# The other kind marts.reconciliation_breaks (and its history) holds: the compliance page's.
LEAVER = BreakKind("leaver_active_owner", "people", "Leaver with CRM access",
                   "A person who left (terminated in HR) still holds an active CRM seat.")
# one colour per kind on every chart
COLORS = dict(zip((*KIND_NAMES, LEAVER.kind),
                  ("#2f6db5", "#e07b39", "#3a9a5b", "#8a62b8", "#c8434d", "#5f6b7a"),
                  strict=True))
LABELS = {k.kind: k.label for k in KINDS}
ALL_LABELS = {**LABELS, LEAVER.kind: LEAVER.label}
SYSTEMS = ("shop", "crm", "erp")
# what BREAKS_SQL reads
TABLES = ("marts.orders_vs_invoices", "marts.deals_vs_invoices", "marts.reconciliation_breaks",
          "marts.orders")
# The system whose record a break names (as the marts' `system` column says per kind).
FIX_IN = {"order_missing_invoice": "shop", "deal_won_not_invoiced": "crm",
          "invoice_amount_mismatch": "erp", "duplicate_invoice": "erp",
          "deal_invoice_amount_mismatch": "erp"}

# One relation for both marts: every column named the same, NULLs typed for Postgres; the
# amount at stake and currency from marts.reconciliation_breaks (one row per break_id).
BREAKS_SQL = """
select
    b.break_id, b.break_kind, b.system, b.record_id,
    'shop' as source_system, b.order_record_id as source_id,
    b.order_reference as source_reference, r.currency_code,
    b.order_amount as source_amount,
    b.invoice_id, b.invoice_number, b.invoice_amount, b.amount_difference,
    r.amount_at_stake,
    o.customer_id,
    cast(date_trunc('month', o.ordered_at) as date) as business_month
from marts.orders_vs_invoices as b
left join marts.reconciliation_breaks as r on r.break_id = b.break_id
left join marts.orders as o on o.order_id = b.order_record_id
union all
select
    d.break_id, d.break_kind, d.system, d.record_id,
    'crm' as source_system, d.deal_id as source_id,
    cast('DEAL-' || d.deal_id as varchar) as source_reference, r.currency_code,
    d.deal_amount as source_amount,
    d.invoice_id, d.invoice_number, d.invoiced_amount as invoice_amount, d.amount_difference,
    r.amount_at_stake,
    cast(null as varchar) as customer_id,
    cast(date_trunc('month', d.closed_at) as date) as business_month
from marts.deals_vs_invoices as d
left join marts.reconciliation_breaks as r on r.break_id = d.break_id
"""


def by_kind_sql() -> str:
    """Count and amount at stake per kind and currency."""
    return (f"select break_kind, currency_code, count(*), coalesce(sum(amount_at_stake), 0) "
            f"from ({BREAKS_SQL}) as breaks group by break_kind, currency_code "
            f"order by break_kind, currency_code")


def by_month_sql() -> str:
    """Count and amount at stake per business month and kind."""
    return (f"select business_month, break_kind, count(*), coalesce(sum(amount_at_stake), 0) "
            f"from ({BREAKS_SQL}) as breaks where business_month is not null "
            f"group by business_month, break_kind order by business_month, break_kind")
