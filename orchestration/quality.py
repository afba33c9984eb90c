"""Quality: expectation suites, open reconciliation breaks and the customer match rate, as
asset checks.

dbt's own tests are asset checks on each model (see :mod:`orchestration.transform`) and the
golden marts carry a freshness policy (see :mod:`orchestration.translators`). These checks add:

- ``gx_suite`` on each model a Great Expectations suite covers (:mod:`goldloop.quality.suites`):
  the suite runs on the warehouse and every result is recorded in ``quality.check_results``
  under the Dagster run's id. A suite with a blocking check is a blocking asset check: when a
  blocking expectation fails, the check fails with ERROR severity and nothing downstream (the
  syncs) runs; failing ``warn`` expectations only warn.
- what a data steward watches across runs (open breaks, the match rate): these warn and never
  block the loop.
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

from goldloop.quality.suites import SUITES, Suite
from goldloop.warehouse import query
from orchestration.resources import GoldloopResource
from orchestration.transform.metadata import match_metadata
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


@asset_check(asset=dbt_key("customer_xref"), name="customers_matched", blocking=False,
             description="Records were matched into golden customers: fewer customers than "
             "records (match rate = share of customers found in 2+ systems).")
def customers_matched(goldloop: GoldloopResource) -> AssetCheckResult:
    metadata = match_metadata(goldloop.settings())
    passed = metadata["customer_records"] == 0 or (
        metadata["golden_customers"] < metadata["customer_records"])
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN, metadata=metadata)


SUITE_CHECK = "gx_suite"


def suite_metadata(result: Any) -> dict[str, Any]:
    """What the check shows in the UI: counts, the run id, and each check not passing."""
    failing = {o.check_name: f"{o.status} ({o.severity}): {o.message or ''}"
               for o in result.outcomes if o.status != "pass"}
    return {"suite": result.name, "run_id": result.outcomes[0].run_id if result.outcomes else "",
            "checks": len(result.outcomes), **{f"checks_{k}": n
                                               for k, n in result.counts().items()},
            "not_passing": failing}


def _suite_check(suite: Suite) -> AssetChecksDefinition:
    @asset_check(asset=dbt_key(suite.model), name=SUITE_CHECK, blocking=suite.blocking,
                 description=f"Great Expectations suite {suite.name}: {suite.description} "
                 f"({len(suite.checks)} expectations; results recorded in "
                 "quality.check_results).")
    def _check(context, goldloop: GoldloopResource) -> AssetCheckResult:
        # `context` stays unannotated: Dagster checks its annotation before resolving strings
        from goldloop.quality.run import run_suites

        run = run_suites(goldloop.settings(), [suite.name], run_id=context.run.run_id)
        result = run.suites[0]
        return AssetCheckResult(
            passed=result.passed,
            severity=AssetCheckSeverity.ERROR if result.blocked else AssetCheckSeverity.WARN,
            metadata=suite_metadata(result))

    return _check


def suite_checks(keys: Collection[AssetKey],
                 suites: Sequence[Suite] = SUITES) -> list[AssetChecksDefinition]:
    """One ``gx_suite`` check per suite whose model the dbt project has."""
    return [_suite_check(suite) for suite in suites if dbt_key(suite.model) in keys]


def quality_checks(keys: Collection[AssetKey]) -> list[AssetChecksDefinition]:
    """The expectation suites and the steward's checks on the marts the dbt project has."""
    checks = [_breaks_check(mart, column) for mart, column in RECONCILIATIONS.items()
              if dbt_key(mart) in keys]
    if dbt_key("customer_xref") in keys:
        checks.append(customers_matched)
    return [*checks, *suite_checks(keys)]
