"""``make bench``: run the benchmarks, print a table of figures and ratios, write a JSON record.

    python -m benchmarks [--customers 100000] [--only seeding,fetch]
    python -m benchmarks sync-throughput [--records 100000] [--xero-records 6000]
    python -m benchmarks sync-plan [--rows 1000000]
    python -m benchmarks.freshness [--changes 20]   (also --only freshness)

The two ``sync-*`` commands run one reverse-ETL benchmark each (their ``--help`` lists the
flags); ``--only sync-throughput,sync-plan`` adds them to a full run with the same flags.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    extract,
    fetch_floor,
    freshness,
    model,
    reports,
    seeding,
    sync_plan,
    sync_throughput,
)
from benchmarks.harness import Figure, render, save

Bench = Callable[[argparse.Namespace], tuple[list[Figure], list[str]]]
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Bench, str]] = {
    "sync-throughput": (sync_throughput.add_arguments, sync_throughput.bench,
                        "reverse-ETL writes at the published limits (HubSpot, Xero)"),
    "sync-plan": (sync_plan.add_arguments, sync_plan.bench,
                  "reverse-ETL planning of N rows with 1% changed vs a bare DuckDB join"),
}


def command(name: str, argv: list[str]) -> int:
    """One ``sync-*`` benchmark: print its table, save the record; 1 when a result is wrong."""
    add_arguments, bench, description = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks {name}",
                                     description=description)
    add_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    figures, wrong = bench(args)
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")
    for line in wrong:
        print(f"WRONG: {line}", file=sys.stderr)
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return command(argv[0], argv[1:])
    parser = argparse.ArgumentParser(description="goldloop benchmarks",
                                     epilog="single benchmarks: "
                                            + ", ".join(f"`{n} --help`" for n in COMMANDS))
    parser.add_argument("--customers", type=int, default=100_000,
                        help="world size for the fetch floor and the large seeding run")
    parser.add_argument("--only", default="seeding,fetch,extract,pace",
                        help="comma list of: seeding, fetch, extract, pace, sync-throughput, "
                             "sync-plan, reports, model, freshness")
    parser.add_argument("--pace-customers", type=int, default=20_000,
                        help="world size for the pace-under-limits run")
    parser.add_argument("--systems", default="crm,erp,shop,hr",
                        help="systems for the extract benchmark")
    parser.add_argument("--sandbox-dir", type=Path, default=None,
                        help="reuse this seeded sandbox world for the extract benchmark")
    parser.add_argument("--report-customers", type=int, default=1_000_000,
                        help="golden customers for the report pages benchmark")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    sync_throughput.add_arguments(parser)
    sync_plan.add_arguments(parser, work_dir=False)
    args = parser.parse_args(argv)
    chosen = set(args.only.split(","))
    figures: list[Figure] = []
    wrong: list[str] = []
    if "seeding" in chosen:
        for size in sorted({10_000, args.customers}):
            figures += seeding.run(size)
    if "fetch" in chosen:
        figures += _fetch(args.customers)
    if "extract" in chosen:
        figures += extract.run_systems(args.customers, tuple(args.systems.split(",")),
                                       args.sandbox_dir)
    if "pace" in chosen:
        figures += extract.run_pace(args.pace_customers)
    if "model" in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            figures += model.run(args.customers, root=Path(tmp), ports=model.DEFAULT_PORTS)
    if "reports" in chosen:
        figures += reports.run(args.report_customers)
    if "freshness" in chosen:
        figures += freshness.run()
    for name in ("sync-throughput", "sync-plan"):
        if name in chosen:
            found, problems = COMMANDS[name][1](args)
            figures += found
            wrong += problems
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")
    for line in wrong:
        print(f"WRONG: {line}", file=sys.stderr)
    return 1 if wrong else 0


def _fetch(customers: int) -> list[Figure]:
    from sandbox import control

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "sandbox"
        config = control.up(data_dir, customers=customers, seed=7, limits_enabled=False,
                            ports={"crm": 18201, "erp": 18202, "shop": 18203, "hr": 18204},
                            timeout=120)
        try:
            return fetch_floor.run(config)
        finally:
            control.down(data_dir)


if __name__ == "__main__":
    sys.exit(main())
