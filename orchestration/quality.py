"""Quality: open reconciliation breaks and the customer match rate, as asset checks.

dbt's own tests are asset checks on each model (see :mod:`orchestration.transform`) and the
golden marts carry a freshness policy (see :mod:`orchestration.translators`); these checks add
what a data steward watches across runs. They warn and never block the loop.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    asset_check,
)

from goldloop.settings import Settings
from goldloop.warehouse import query
from orchestration.resources import GoldloopResource
from orchestration.translators import dbt_key

# reconciliation mart → the column its breaks are counted by
RECONCILIATIONS = {"orders_vs_invoices": "break_kind", "deals_vs_invoices": "break_kind",
                   "leavers_with_access": "break_kind", "customer_field_conflicts": "field_name"}


def breaks_by(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    """``{group: count}`` of ``(group, count)`` rows, largest first.

    >>> breaks_by([("duplicate_invoice", 2), ("order_missing_invoice", 5)])
    {'order_missing_invoice': 5, 'duplicate_invoice': 2}
    """
    return {str(k): int(n) for k, n in sorted(rows, key=lambda row: (-int(row[1]), str(row[0])))}


def _breaks_check(mart: str, column: str) -> AssetChecksDefinition:
    @asset_check(asset=dbt_key(mart), name="breaks_open", blocking=False,
                 description=f"Breaks open in marts.{mart}, by {column} (warns when any).")
    def _check(goldloop: GoldloopResource) -> AssetCheckResult:
        counts = breaks_by(query(goldloop.settings(),
                                 f"select {column}, count(*) from marts.{mart} group by 1"))
        total = sum(counts.values())
        return AssetCheckResult(passed=total == 0, severity=AssetCheckSeverity.WARN,
                                metadata={"breaks_open": total, f"by_{column}": counts})

    return _check


def match_metadata(settings: Settings) -> dict[str, Any]:
    """Records, golden customers and the share of customers seen in more than one system."""
    (records, customers, multi), = query(settings, """
        select count(*), count(distinct customer_id),
               (select count(*) from (select customer_id from marts.customer_xref
                                      group by customer_id having count(distinct system) > 1) m)
        from marts.customer_xref""")
    return {
        "customer_records": int(records),
        "golden_customers": int(customers),
        "records_per_customer": round(records / customers, 3) if customers else 0.0,
        "match_rate": round(multi / customers, 4) if customers else 0.0,
    }


@asset_check(asset=dbt_key("customer_xref"), name="customers_matched", blocking=False,
             description="Records were matched into golden customers: fewer customers than "
             "records (match rate = share of customers found in 2+ systems).")
def customers_matched(goldloop: GoldloopResource) -> AssetCheckResult:
    metadata = match_metadata(goldloop.settings())
    passed = metadata["customer_records"] == 0 or (
        metadata["golden_customers"] < metadata["customer_records"])
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN, metadata=metadata)


def quality_checks(keys: Collection[AssetKey]) -> list[AssetChecksDefinition]:
    """The steward's checks on the marts the dbt project has."""
    checks = [_breaks_check(mart, column) for mart, column in RECONCILIATIONS.items()
              if dbt_key(mart) in keys]
    if dbt_key("customer_xref") in keys:
        checks.append(customers_matched)
    return checks
