"""``make bench``: run the benchmarks, print a table of figures and ratios, write a JSON record.

    python -m benchmarks [--customers 100000] [--only seeding,fetch]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks import extract, fetch_floor, seeding
from benchmarks.harness import Figure, render, save


def main() -> None:
    parser = argparse.ArgumentParser(description="goldloop benchmarks")
    parser.add_argument("--customers", type=int, default=100_000,
                        help="world size for the fetch floor and the large seeding run")
    parser.add_argument("--only", default="seeding,fetch,extract,pace",
                        help="comma list of: seeding, fetch, extract, pace")
    parser.add_argument("--pace-customers", type=int, default=20_000,
                        help="world size for the pace-under-limits run")
    parser.add_argument("--systems", default="crm,erp,shop,hr",
                        help="systems for the extract benchmark")
    parser.add_argument("--sandbox-dir", type=Path, default=None,
                        help="reuse this seeded sandbox world for the extract benchmark")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    figures: list[Figure] = []
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
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")


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
    main()
