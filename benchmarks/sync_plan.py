"""Planning a sync over many golden rows with 1 % changed, against a bare DuckDB hash join.

One DuckDB file holds a ``marts.sync_crm__contacts``-shaped model of N rows and the
``reverse_etl.sync_state`` a previous run would have left (every row synced, its payload hash
computed by the planner's own SQL); then every row with ``i % 100 == 37`` moves city: exactly
1 % changed, deterministic.

Measured in the same run, each in its own child process (so peak RSS is its own):

- the planner: :func:`reverse_etl.plan.make_plan` for the shipped ``crm_contacts`` spec
  (model checks, the full outer join with the state, classification, the changed rows turned
  into payloads);
- the baseline: a bare DuckDB hash join of the same two tables on the key, comparing the same
  payload md5 with the stored hash and fetching the changed rows.

Printed: rows to send (must be exactly the changed rows, else the exit code is 1), planning
seconds and peak RSS growth of each, and the planner/bare-join ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import Figure, render

SYNC = "crm_contacts"
CHANGED_MODULO = 100
CHANGED_REMAINDER = 37
ROOT = Path(__file__).resolve().parents[1]
NUMBER = "CAST(substr(sync_key, 7) AS BIGINT)"  # the row number i of 'bench-%07d'


def expected_changes(rows: int) -> int:
    """How many of ``rows`` rows the benchmark changes (``i % 100 == 37``).

    >>> expected_changes(1_000_000), expected_changes(500), expected_changes(137)
    (10000, 5, 1)
    """
    whole, rest = divmod(rows, CHANGED_MODULO)
    return whole + (1 if rest > CHANGED_REMAINDER else 0)


def build(db: Path, rows: int) -> None:
    """The model (changed rows applied) and the state of a previous run, in ``db``."""
    import duckdb

    from benchmarks.sync_throughput import add_missing_columns, model_sql
    from reverse_etl.plan import payload_expressions
    from reverse_etl.spec import find_spec
    from reverse_etl.sql import payload_hash_sql
    from reverse_etl.state import DDL, STATE

    spec = find_spec(SYNC)
    model = f"marts.{spec.source.model}"
    exprs = payload_expressions(spec)
    payload_json = "to_json({" + ", ".join(
        f"'{name}': {expr}" for name, expr in sorted(exprs.items())) + "})"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"CREATE TABLE {model} AS SELECT * REPLACE (printf('%d', 5000000 + "
                    f"{NUMBER}) AS crm_record_id) FROM ({model_sql('crm')})", [rows])
        add_missing_columns(con, spec)
        for statement in DDL:
            con.execute(statement)
        con.execute(f"INSERT INTO {STATE} SELECT '{SYNC}', sync_key, crm_record_id, 'synced', "
                    f"{payload_hash_sql(exprs)}, {payload_json}, {payload_hash_sql(exprs)}, 0, "
                    f"NULL, TIMESTAMP '2026-01-01', NULL, TIMESTAMP '2026-01-01' FROM {model}")
        con.execute(f"UPDATE {model} SET city = 'Salem' "
                    f"WHERE {NUMBER} % {CHANGED_MODULO} = {CHANGED_REMAINDER}")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def bare_join_sql() -> str:
    """The baseline: model ⋈ state on the key, the same payload md5 against the stored hash."""
    from reverse_etl.plan import payload_expressions
    from reverse_etl.spec import find_spec
    from reverse_etl.sql import payload_hash_sql
    from reverse_etl.state import STATE

    spec = find_spec(SYNC)
    exprs = payload_expressions(spec)
    columns = ", ".join(f"m.{expr}" for expr in exprs.values())
    return (f"SELECT m.sync_key, m.crm_record_id, {columns} "
            f"FROM marts.{spec.source.model} AS m JOIN {STATE} AS s "
            f"ON s.sync_name = '{SYNC}' AND s.sync_key = m.sync_key "
            f"WHERE s.synced_hash IS DISTINCT FROM "
            f"{payload_hash_sql({k: f'm.{v}' for k, v in exprs.items()})}")


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in KiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak() -> None:
    """Restart the peak-RSS mark (Linux: ``5`` into ``/proc/self/clear_refs``), so the peak
    read afterwards is this measurement's, not the imports'."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_kib() -> int:
    """The peak resident set since :func:`_reset_peak` (else since the process started)."""
    peak = _status_kib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(kind: str, db: Path, repeat: int) -> dict[str, Any]:
    """Run one side ``repeat`` times in this process: best wall, rows, peak RSS growth."""
    import duckdb

    from reverse_etl.plan import check_model, make_plan
    from reverse_etl.spec import find_spec

    spec = find_spec(SYNC)
    sql = bare_join_sql()
    con = duckdb.connect(str(db), read_only=True)
    before = _status_kib("VmRSS") or 0
    _reset_peak()
    walls: list[float] = []
    rows = 0
    checks: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        if kind == "planner":
            plan = make_plan(con, "duckdb", spec)
            walls.append(time.perf_counter() - started)
            rows = len(plan.to_write)
            started = time.perf_counter()
            check_model(con, "duckdb", spec)
            checks.append(time.perf_counter() - started)
            del plan
        else:
            found = con.execute(sql).fetchall()
            walls.append(time.perf_counter() - started)
            rows = len(found)
            del found
    peak = _peak_kib()
    con.close()
    return {"seconds": min(walls), "rows": rows, "peak_mib": max(peak - before, 0) / 1024,
            "checks_seconds": min(checks) if checks else None}


def _spawn(kind: str, db: Path, repeat: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    out = subprocess.run([sys.executable, "-m", "benchmarks.sync_plan", "--child", kind,
                          "--db", str(db), "--repeat", str(repeat)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"the {kind} child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@dataclass
class PlanResult:
    """The planner against the bare join, same tables, same run."""

    rows: int
    expected: int
    build_seconds: float
    planner_rows: int
    planner_seconds: float
    planner_peak_mib: float
    checks_seconds: float
    join_rows: int
    join_seconds: float
    join_peak_mib: float

    @property
    def exact(self) -> bool:
        return self.planner_rows == self.expected == self.join_rows

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exact": self.exact}


def run(rows: int, work_dir: Path, repeat: int = 1) -> PlanResult:
    """Build the tables in ``work_dir`` and measure both sides."""
    db = work_dir / "plan.duckdb"
    started = time.perf_counter()
    build(db, rows)
    built = time.perf_counter() - started
    planner = _spawn("planner", db, repeat)
    join = _spawn("join", db, repeat)
    return PlanResult(rows, expected_changes(rows), built, planner["rows"], planner["seconds"],
                      planner["peak_mib"], planner["checks_seconds"], join["rows"],
                      join["seconds"], join["peak_mib"])


def figures(r: PlanResult) -> list[Figure]:
    name = f"plan {r.rows:,} (1% changed)"
    return [
        Figure(name, "rows to send", r.planner_rows, "rows", note=(
            f"expected exactly {r.expected:,}; bare join found {r.join_rows:,}")),
        Figure(name, "planning", r.planner_seconds, "s", r.planner_seconds / r.join_seconds,
               f"bare hash join {r.join_seconds:.2f}s"),
        Figure(name, "of which model checks", r.checks_seconds, "s",
               r.checks_seconds / r.planner_seconds, "planning",
               note="row count, null/duplicate keys, duplicate e-mails"),
        Figure(name, "peak RSS growth", r.planner_peak_mib, "MiB",
               r.planner_peak_mib / r.join_peak_mib if r.join_peak_mib else None,
               f"bare hash join {r.join_peak_mib:.0f} MiB"),
        Figure(name, "build tables", r.build_seconds, "s", note="not part of either side"),
    ]


def add_arguments(parser: argparse.ArgumentParser, *, work_dir: bool = True) -> None:
    """This benchmark's flags (shared with ``python -m benchmarks``, which has ``--work-dir``
    already)."""
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="golden rows to plan (1%% of them changed)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="planning runs per side; the best wall is reported")
    if work_dir:
        parser.add_argument("--work-dir", type=Path, default=None,
                            help="where the DuckDB file goes (default: a temp dir)")


def bench(args: argparse.Namespace) -> tuple[list[Figure], list[str]]:
    """Run with parsed flags: the figures, and what went wrong (empty when nothing did)."""
    if args.work_dir is not None:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        result = run(args.rows, args.work_dir, args.repeat)
    else:
        with tempfile.TemporaryDirectory(prefix="goldloop-plan-bench-") as tmp:
            result = run(args.rows, Path(tmp), args.repeat)
    wrong = [] if result.exact else [
        f"the planner would send {result.planner_rows:,} rows and the bare join found "
        f"{result.join_rows:,}; exactly {result.expected:,} changed"]
    return figures(result), wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reverse-ETL planning vs a bare DuckDB join")
    add_arguments(parser)
    parser.add_argument("--child", choices=("planner", "join"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.repeat)))
        return 0
    found, wrong = bench(args)
    print(render(found))
    for line in wrong:
        print(f"WRONG: {line}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
