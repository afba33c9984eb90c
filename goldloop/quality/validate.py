"""One suite on the warehouse through Great Expectations, as check outcomes.

- **DuckDB**: Great Expectations' SQL datasource does not work on DuckDB (every expectation
  fails to resolve its metrics), so the model is read into pandas batches, ``chunk_rows`` rows
  at a time, and each batch is validated through GX's pandas datasource. Uniqueness must see
  every row sharing a value at once: a table larger than one chunk is split by a hash of the
  checked columns, so equal values always land in the same chunk (one pass per set of unique
  columns, reading only those columns). Per check, the chunks' failing rows add up.
- **Postgres**: GX's SQL datasource on a query asset (``select <the suite's columns> from
  <model>``): the database computes every metric, nothing is read into Python.

A missing model or column is an ``error`` result of the checks it affects, not an exception.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from goldloop.errors import WarehouseError
from goldloop.quality.expectations import CHECK_META, to_gx_suite
from goldloop.quality.results import CheckOutcome, Status, cursor, mark
from goldloop.quality.suites import Expect, Suite
from goldloop.settings import Settings, Target
from goldloop.warehouse import redact_dsn

DEFAULT_CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class Pass:
    """One read of the model: the checks it validates, the columns it reads, and the columns
    whose hash splits it into chunks (empty: one chunk)."""

    checks: tuple[Expect, ...]
    columns: tuple[str, ...]
    partition: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tally:
    """One check's result over the chunks seen so far."""

    rows: int = 0
    failing: int = 0
    success: bool = True
    error: str | None = None

    def add(self, other: Tally) -> Tally:
        """Both chunks' results together.

        >>> Tally(10, 0).add(Tally(5, 2, False))
        Tally(rows=15, failing=2, success=False, error=None)
        """
        return Tally(self.rows + other.rows, self.failing + other.failing,
                     self.success and other.success, self.error or other.error)


def chunk_count(rows: int, chunk_rows: int) -> int:
    """How many chunks ``rows`` rows take (at least one).

    >>> chunk_count(0, 10), chunk_count(10, 10), chunk_count(11, 10)
    (1, 1, 2)
    """
    return max(1, math.ceil(rows / max(1, chunk_rows)))


def plan_passes(suite: Suite, chunks: int) -> list[Pass]:
    """How to read the model: one pass when it fits in one chunk; else a pass per set of
    unique columns (the first also runs the row-by-row checks), split by those columns' hash.

    >>> suite = Suite("m", "", (Expect("unique", ("a",)), Expect("not_null", ("b",)),
    ...                        Expect("unique", ("c",))))
    >>> [(p.columns, p.partition) for p in plan_passes(suite, 1)]
    [(('a', 'b', 'c'), ())]
    >>> [(p.columns, p.partition) for p in plan_passes(suite, 3)]
    [(('b', 'a'), ('a',)), (('c',), ('c',))]
    """
    if chunks <= 1:
        return [Pass(suite.checks, suite.columns())]
    groups: dict[tuple[str, ...], list[Expect]] = {}
    for check in suite.checks:
        if check.whole_table:
            groups.setdefault(check.columns, []).append(check)
    row_checks = [check for check in suite.checks if not check.whole_table]
    if not groups:
        columns = suite.columns(row_checks)
        return [Pass(tuple(row_checks), columns, columns)]
    passes = []
    for number, (partition, checks) in enumerate(groups.items()):
        chosen = [*row_checks, *checks] if number == 0 else checks
        passes.append(Pass(tuple(chosen), suite.columns(chosen), partition))
    return passes


def chunk_sql(suite: Suite, read: Pass, chunks: int, index: int) -> str:
    """The DuckDB query of chunk ``index`` of ``chunks`` of one pass.

    >>> suite = Suite("m", "", (Expect("unique", ("a",)),), derived=(("a", "lower(x)"),))
    >>> chunk_sql(suite, Pass(suite.checks, ("a",), ("a",)), 4, 1)
    'select lower(x) as "a" from marts.m where hash(lower(x)) % 4 = 1'
    >>> chunk_sql(suite, Pass(suite.checks, ("a",), ("a",)), 1, 0)
    'select lower(x) as "a" from marts.m'
    """
    sql = suite.select_sql(read.columns)
    if chunks <= 1 or not read.partition:
        return sql
    hashed = ", ".join(suite.expression(column) for column in read.partition)
    return f"{sql} where hash({hashed}) % {chunks} = {index}"


def _error_message(info: Any) -> str | None:
    """The first exception message in a GX result's ``exception_info`` (flat or per metric)."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message") or "error") if info["raised_exception"] else None
    for value in info.values():
        found = _error_message(value)
        if found:
            return found
    return None


def tallies(validation: Any) -> dict[str, Tally]:
    """Per check name, the result of one GX validation of one batch."""
    found: dict[str, Tally] = {}
    for result in validation.results:
        name = str(result.expectation_config.meta.get(CHECK_META, ""))
        details = result.result or {}
        error = _error_message(result.exception_info)
        found[name] = Tally(int(details.get("element_count") or 0),
                            int(details.get("unexpected_count") or 0),
                            bool(result.success) and error is None, error)
    return found


def status_of(suite: Suite, check: Expect, tally: Tally) -> Status:
    """``pass``; ``error`` when the check could not run; else ``fail`` (blocking) or ``warn``.

    >>> suite = Suite("m", "", ())
    >>> status_of(suite, Expect("unique", ("a",), "warn"), Tally(3, 2, False))
    'warn'
    >>> status_of(suite, Expect("unique", ("a",)), Tally(3, 2, False))
    'fail'
    """
    if tally.error:
        return "error"
    if tally.success:
        return "pass"
    return "fail" if suite.severity_of(check) == "blocking" else "warn"


def outcomes(suite: Suite, found: dict[str, Tally], run_id: str,
             checked_at: datetime) -> list[CheckOutcome]:
    """One recorded result per check of the suite."""
    results = []
    for check in suite.checks:
        tally = found.get(check.name, Tally(error="the check did not run"))
        status = status_of(suite, check, tally)
        if status == "error":
            message = f"{check.description}: could not run: {tally.error}"
        elif status == "pass":
            message = f"{check.description}: {tally.rows:,} rows checked"
        else:
            message = f"{check.description}: {tally.failing:,} of {tally.rows:,} rows do not"
        results.append(CheckOutcome(
            suite.model, check.name, "gx", suite.severity_of(check), status,
            None if status == "error" else tally.failing, checked_at, run_id, message[:1000]))
    return results


def missing(suite: Suite, reason: str, run_id: str, checked_at: datetime) -> list[CheckOutcome]:
    """Every check of a suite that could not run (e.g. its model does not exist)."""
    return outcomes(suite, {c.name: Tally(error=reason) for c in suite.checks}, run_id,
                    checked_at)


def relation_exists(con: Any, target: Target, suite: Suite) -> bool:
    """Whether the suite's model exists in the warehouse (a table or a view)."""
    cur = cursor(con, target)
    cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                f"{mark(target)} AND table_name = {mark(target)}", (suite.schema, suite.model))
    return bool(cur.fetchone()[0])


class Validator:
    """An ephemeral Great Expectations context with one datasource on the warehouse."""

    def __init__(self, settings: Settings) -> None:
        from goldloop.quality.expectations import ephemeral_context

        self.settings = settings
        self.context = ephemeral_context()
        self._datasource: Any = None

    def _pandas(self) -> Any:
        if self._datasource is None:
            self._datasource = self.context.data_sources.add_pandas("goldloop_duckdb")
        return self._datasource

    def _postgres(self) -> Any:
        if self._datasource is None:
            dsn = self.settings.postgres_dsn
            url = "postgresql+psycopg2://" + dsn.split("://", 1)[1]
            try:
                self._datasource = self.context.data_sources.add_postgres(
                    "goldloop_postgres", connection_string=url)
            except Exception as exc:
                raise WarehouseError(
                    f"Great Expectations cannot reach Postgres at {redact_dsn(dsn)}: "
                    f"{type(exc).__name__}",
                    hint="start PostgreSQL or fix GOLDLOOP_POSTGRES_DSN") from exc
        return self._datasource

    def close(self) -> None:
        """Release the SQL engine's pooled connections (Postgres)."""
        if self._datasource is not None and hasattr(self._datasource, "get_engine"):
            self._datasource.get_engine().dispose()

    def frames(self, con: Any, suite: Suite, read: Pass, chunks: int) -> Iterator[Any]:
        """The pass's chunks as pandas data frames (DuckDB)."""
        for index in range(chunks if read.partition else 1):
            yield con.execute(chunk_sql(suite, read, chunks, index)).df()

    def validate_duckdb(self, con: Any, suite: Suite, chunk_rows: int) -> dict[str, Tally]:
        """Per check, its result over every chunk of the model (DuckDB, pandas batches)."""
        (rows,) = con.execute(f"select count(*) from {suite.relation}").fetchone()
        chunks = chunk_count(int(rows), chunk_rows)
        asset = self._pandas().add_dataframe_asset(suite.name)
        batches = asset.add_batch_definition_whole_dataframe("chunk")
        found: dict[str, Tally] = {}
        for number, read in enumerate(plan_passes(suite, chunks)):
            gx_suite = to_gx_suite(suite, read.checks, f"__pass{number}")
            for frame in self.frames(con, suite, read, chunks):
                batch = batches.get_batch(batch_parameters={"dataframe": frame})
                for name, tally in tallies(batch.validate(gx_suite, result_format="BASIC")).items():
                    found[name] = found[name].add(tally) if name in found else tally
        return found

    def validate_postgres(self, suite: Suite) -> dict[str, Tally]:
        """Per check, its result computed by Postgres (GX's SQL datasource, a query asset)."""
        asset = self._postgres().add_query_asset(
            suite.name, query=suite.select_sql(suite.columns()))
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        return tallies(batch.validate(to_gx_suite(suite, suite.checks), result_format="BASIC"))

    def run(self, con: Any, suite: Suite, run_id: str, checked_at: datetime,
            chunk_rows: int = DEFAULT_CHUNK_ROWS) -> list[CheckOutcome]:
        """Validate one suite on an open warehouse connection; one outcome per check."""
        target = self.settings.target
        if not relation_exists(con, target, suite):
            return missing(suite, f"{suite.relation} does not exist (run `goldloop build`)",
                           run_id, checked_at)
        absent = set(_missing_columns(con, target, suite))
        found = {check.name: Tally(error=f"{suite.relation} has no column "
                                   + ", ".join(c for c in check.columns if c in absent))
                 for check in suite.checks if absent & set(check.columns)}
        runnable = replace(suite, checks=tuple(c for c in suite.checks if c.name not in found))
        if runnable.checks:
            try:
                if target == "duckdb":
                    found.update(self.validate_duckdb(con, runnable, chunk_rows))
                else:
                    found.update(self.validate_postgres(runnable))
            except WarehouseError:
                raise
            except Exception as exc:  # a broken derived column, a dropped connection, ...
                reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}"
                found.update({c.name: Tally(error=reason) for c in runnable.checks})
        return outcomes(suite, found, run_id, checked_at)


def _missing_columns(con: Any, target: Target, suite: Suite) -> list[str]:
    """The model's columns the suite reads (derived columns: their inputs) that it lacks."""
    cur = cursor(con, target)
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                f"{mark(target)} AND table_name = {mark(target)}", (suite.schema, suite.model))
    present = {str(row[0]) for row in cur.fetchall()}
    derived = dict(suite.derived)
    return [c for c in suite.columns() if c not in derived and c not in present]


def validate_suites(settings: Settings, con: Any, suites: Sequence[Suite], run_id: str,
                    checked_at: datetime, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                    ) -> dict[str, list[CheckOutcome]]:
    """Per suite name, its outcomes (one ephemeral GX context for them all)."""
    validator = Validator(settings)
    try:
        return {suite.name: validator.run(con, suite, run_id, checked_at, chunk_rows)
                for suite in suites}
    finally:
        validator.close()
