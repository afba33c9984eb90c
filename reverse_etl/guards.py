"""What stops a run before it writes anything: failing blocking checks and mass changes.

Blocking checks come from two places:

- the spec's own ``guards.checks`` (SQL that counts failing rows);
- the data-quality results the model layer records in ``quality.check_results``
  (``model_name, check_name, severity, status, checked_at``; the latest result of each check
  counts; ``severity = 'blocking'`` and ``status = 'fail'`` stops syncs that read that model).
  Without that table there is nothing to honour, and the plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goldloop.errors import SyncError
from goldloop.settings import Target
from reverse_etl.plan import Plan
from reverse_etl.spec import SyncSpec
from reverse_etl.sql import fetch, table_columns
from reverse_etl.state import RUNS

QUALITY_SCHEMA = "quality"
QUALITY_TABLE = "check_results"
QUALITY_COLUMNS = {"model_name", "check_name", "severity", "status", "checked_at"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    failing: int
    blocking: bool
    source: str  # "spec" or "quality"


class GuardStop(SyncError):
    """A guard stopped the run; nothing was written."""


def spec_checks(con: Any, target: Target, spec: SyncSpec) -> list[CheckResult]:
    """Run the spec's SQL checks (each returns the number of failing rows)."""
    results = []
    for check in spec.guards.checks:
        try:
            rows = fetch(con, target, check.sql)
        except Exception as exc:
            raise SyncError(f"{spec.where()}: check {check.name!r} failed to run: {exc}",
                            hint="fix the check's SQL (it must return one number)") from exc
        failing = int(rows[0][0] or 0) if rows and rows[0] else 0
        results.append(CheckResult(check.name, failing, check.blocking, "spec"))
    return results


def quality_checks(con: Any, target: Target, spec: SyncSpec) -> list[CheckResult] | None:
    """The latest recorded quality results for the sync's model (None: no results table)."""
    columns = set(table_columns(con, target, QUALITY_SCHEMA, QUALITY_TABLE))
    if not columns >= QUALITY_COLUMNS:
        return None
    rows = fetch(con, target, f"""
        SELECT check_name, severity, status FROM (
            SELECT check_name, severity, status, row_number() OVER (
                PARTITION BY check_name ORDER BY checked_at DESC) AS recency
            FROM {QUALITY_SCHEMA}.{QUALITY_TABLE} WHERE model_name = ?) latest
        WHERE recency = 1 ORDER BY check_name""", (spec.source.model,))
    return [CheckResult(str(name), 1 if str(status).lower() in ("fail", "failed", "error", "warn")
                        else 0, str(severity).lower() == "blocking", "quality")
            for name, severity, status in rows]


def has_completed_run(con: Any, target: Target, sync: str) -> bool:
    """Whether a run of ``sync`` ever got to its end (ok or partial)."""
    rows = fetch(con, target, f"SELECT count(*) FROM {RUNS} WHERE sync_name = ? "
                 "AND kind = 'run' AND status IN ('ok', 'partial')", (sync,))
    return bool(rows and rows[0][0])


def evaluate(con: Any, target: Target, spec: SyncSpec, plan: Plan, *,
             approve: bool) -> list[str]:
    """Raise :class:`GuardStop` when a guard stops the run; return notes otherwise."""
    notes: list[str] = []
    checks = spec_checks(con, target, spec)
    if spec.guards.blocking_checks:
        quality = quality_checks(con, target, spec)
        if quality is None:
            notes.append(f"no {QUALITY_SCHEMA}.{QUALITY_TABLE} table: no recorded quality "
                         "checks to honour")
        else:
            checks += quality
    failing = [c for c in checks if c.failing and c.blocking]
    for check in checks:
        if check.failing and not check.blocking:
            notes.append(f"warning: check {check.name} fails ({check.failing} row(s))")
    if failing:
        listed = "; ".join(f"{c.name} ({c.failing} failing row(s), from {c.source})"
                           for c in failing)
        raise GuardStop(f"sync {spec.name} stopped, nothing written: blocking check(s) fail on "
                        f"{spec.source.model}: {listed}",
                        hint="fix the data (or the check) and rebuild; --approve does not "
                             "override a blocking check")
    percent = plan.changed_percent()
    limit = spec.guards.max_changed_percent
    if percent is not None and not has_completed_run(con, target, spec.name):
        percent = None  # a first run that was interrupted is still the first run
    if percent is None:
        if plan.changed():
            notes.append("first run: no completed run yet, the change threshold does not "
                         "apply")
    elif percent > limit and not approve:
        raise GuardStop(
            f"sync {spec.name} stopped, nothing written: {plan.new_changes():,} of "
            f"{plan.baseline:,} synced records would change ({percent:.1f} % > the "
            f"{limit:g} % threshold)",
            hint=f"review `goldloop sync plan {spec.name}`, then rerun with --approve")
    elif percent > limit:
        notes.append(f"approved: {percent:.1f} % change over the {limit:g} % threshold")
    return notes
