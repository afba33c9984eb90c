"""Run the expectation suites on the warehouse and record every result.

:func:`run_suites` is what ``goldloop quality run`` and the Dagster asset checks call.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from goldloop.quality.results import CheckOutcome, insert, utc_now
from goldloop.quality.suites import SUITES, Suite, select_suites
from goldloop.quality.validate import DEFAULT_CHUNK_ROWS, validate_suites
from goldloop.settings import Settings
from goldloop.warehouse import connect


@dataclass(frozen=True)
class SuiteResult:
    """One suite's outcomes in one run."""

    suite: Suite
    outcomes: tuple[CheckOutcome, ...]

    @property
    def name(self) -> str:
        """The suite's (and its model's) name."""
        return self.suite.name

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return all(o.status == "pass" for o in self.outcomes)

    @property
    def blocked(self) -> bool:
        """A blocking check failed or could not run: what reads the model must stop."""
        return any(o.blocks for o in self.outcomes)

    @property
    def status(self) -> str:
        """``pass``, ``warn`` (only warn checks fail) or ``fail`` (a blocking one does)."""
        if self.blocked:
            return "fail"
        return "pass" if self.passed else "warn"

    def counts(self) -> dict[str, int]:
        """Checks per status, every status present."""
        counted = {status: 0 for status in ("pass", "warn", "fail", "error")}
        for outcome in self.outcomes:
            counted[outcome.status] += 1
        return counted

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary and every check."""
        return {"suite": self.name, "model": self.suite.relation, "status": self.status,
                "blocking": self.suite.blocking, "counts": self.counts(),
                "checks": [o.to_dict() for o in self.outcomes]}


@dataclass
class QualityRun:
    """One run of the suites: its id, each suite's result, how many rows were recorded."""

    run_id: str
    suites: list[SuiteResult] = field(default_factory=list)
    recorded: int = 0

    @property
    def blocked(self) -> bool:
        """A blocking check failed (or errored) in some suite."""
        return any(s.blocked for s in self.suites)

    def outcomes(self) -> list[CheckOutcome]:
        """Every check's outcome, suite by suite."""
        return [o for s in self.suites for o in s.outcomes]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"run_id": self.run_id, "blocked": self.blocked, "recorded": self.recorded,
                "suites": [s.to_dict() for s in self.suites]}


def run_suites(settings: Settings, names: Sequence[str] | None = None, *,
               suites: Sequence[Suite] = SUITES, record: bool = True, run_id: str | None = None,
               chunk_rows: int = DEFAULT_CHUNK_ROWS) -> QualityRun:
    """Validate the suites named (default: all) on the configured warehouse.

    Each check's outcome is appended to ``quality.check_results`` (unless ``record`` is false),
    under ``run_id`` (default: a new one). Never raises for failing data: read
    :attr:`QualityRun.blocked`.
    """
    chosen = select_suites(names, suites)
    run = QualityRun(run_id or f"gx-{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
    with connect(settings) as con:
        found = validate_suites(settings, con, chosen, run.run_id, utc_now(), chunk_rows)
        run.suites = [SuiteResult(suite, tuple(found[suite.name])) for suite in chosen]
        if record:
            run.recorded = insert(con, settings.target, run.outcomes())
    return run
