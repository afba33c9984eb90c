"""Seeding speed: generate the world and write the four systems' stores.

Baseline: the same store writes of minimal documents with no world generation or rendering,
measured in the same run (the floor SQLite puts under seeding).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.harness import Figure, Timer
from sandbox.config import SandboxConfig
from sandbox.seeding import seed_data_dir
from sandbox.store import Doc, Store


def _store_floor(records: int, directory: Path) -> float:
    store = Store(directory / "floor.sqlite")
    docs = (Doc(id=str(i), updated_ms=i, body={"id": str(i), "n": i}) for i in range(records))
    with Timer() as t:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) == 50_000:
                store.put_many("floor", batch)
                batch = []
        store.put_many("floor", batch)
    store.close()
    return t.seconds


def run(customers: int) -> list[Figure]:
    """Seed a world of ``customers`` into a temporary dir and report the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "sandbox"
        with Timer() as t:
            timings = seed_data_dir(data_dir, SandboxConfig(customers=customers, seed=7))
        records = 0
        for path in sorted(data_dir.glob("*.sqlite")):
            store = Store(path)
            records += sum(store.count(obj) for obj in store.objects())
            store.close()
        floor = _store_floor(records, Path(tmp))
    name = f"seed {customers:,}"
    return [
        Figure(name, "wall", t.seconds, "s", t.seconds / floor, "store floor (same record count)"),
        Figure(name, "customers/s", customers / t.seconds, "1/s"),
        Figure(name, "records", records, "records", note="all systems, incl. orders/invoices"),
        Figure(name, "generate", timings["generate"], "s", timings["generate"] / t.seconds,
               "seed wall"),
        *[Figure(name, f"seed {s}", timings[s], "s") for s in ("crm", "erp", "shop", "hr")],
    ]
