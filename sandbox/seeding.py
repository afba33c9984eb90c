"""Create a sandbox data dir: generate the world once and let each system seed its own store."""

from __future__ import annotations

import gc
import importlib
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.config import SYSTEMS, SandboxConfig
from sandbox.store import Store
from sandbox.world.model import World


def is_seeded(data_dir: Path) -> bool:
    """A data dir is seeded once its config.json exists (written last)."""
    return (data_dir / "config.json").exists()


def seed_data_dir(data_dir: Path, config: SandboxConfig,
                  progress: Callable[[str], None] = lambda _: None) -> dict[str, float]:
    """Generate the world of ``config`` and write every system's SQLite file; returns timings."""
    from sandbox.world.generate import generate

    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("*.sqlite*"):
        stale.unlink()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    lines = "" if config.order_lines is None else f", about {config.order_lines:,} order lines"
    progress(f"generating a world of {config.customers:,} customers{lines} (seed {config.seed})")
    # The world is millions of long-lived objects: collections would rescan them for nothing.
    gc.disable()
    try:
        world = generate(config.customers, config.seed, config.order_lines)
        timings["generate"] = time.perf_counter() - started
        _seed_systems(world, data_dir, timings, progress)
    finally:
        gc.enable()
    config.save(data_dir)
    timings["total"] = time.perf_counter() - started
    return timings


def _seed_systems(world: World, data_dir: Path, timings: dict[str, float],
                  progress: Callable[[str], None]) -> None:
    for system in SYSTEMS:
        t0 = time.perf_counter()
        progress(f"seeding {system}")
        seeder = importlib.import_module(f"sandbox.{system}.seed")
        store = Store(data_dir / f"{system}.sqlite")
        try:
            seeder.seed(world, store)
        finally:
            store.close()
        timings[system] = time.perf_counter() - t0
