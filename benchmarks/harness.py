"""The benchmark runner's small core: figures, a printed table and a JSON record.

Speed is reported as ratios against a baseline measured in the same run (machines here are noisy).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figure:
    """One measured number, optionally with its ratio to a baseline of the same run."""

    benchmark: str
    name: str
    value: float
    unit: str
    ratio: float | None = None
    baseline: str | None = None
    note: str = ""


def render(figures: list[Figure]) -> str:
    """A fixed-width table of figures.

    >>> print(render([Figure("seed", "customers/s", 1234.5, "1/s", 2.0, "x")]))
    benchmark  figure       value     unit  ratio  baseline  note
    seed       customers/s  1,234.50  1/s   2.00   x
    """
    rows = [("benchmark", "figure", "value", "unit", "ratio", "baseline", "note")]
    for f in figures:
        rows.append((f.benchmark, f.name, f"{f.value:,.2f}", f.unit,
                     "" if f.ratio is None else f"{f.ratio:.2f}", f.baseline or "", f.note))
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    return "\n".join("".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def save(figures: list[Figure], out_dir: Path) -> Path:
    """Write the figures with the machine's facts to ``out_dir/<timestamp>.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"bench-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "figures": [asdict(f) for f in figures],
    }, indent=2))
    return path


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


