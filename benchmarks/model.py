"""The model (dbt) at scale: build time per layer and model, and customer matching accuracy.

Seeds a sandbox world, extracts all four systems into a fresh DuckDB warehouse, runs
``dbt build`` on ``dbt_project/`` and reports:

- the build's wall time, the time of each layer (staging, intermediate, marts, seeds, tests) and
  of the slowest models, from dbt's ``run_results.json``;
- customer matching against the sandbox's ground truth, pairwise over records: rules only,
  Splink only and the two combined (what ``customer_xref`` holds);
- with ``--incremental``: 1 % of the records changed, an incremental extract and a second
  ``dbt build``, its wall time against the full build's (``--repeat N``: N builds, each from
  the same changed warehouse, and their median);
- with ``--baseline``: the same compiled SQL replayed in one DuckDB connection on a copy of the
  warehouse taken before the build (``<root>/baseline/warehouse.duckdb``, see model_baseline.py)
  and the build's wall against it. Unit tests (dbt-only) are then left out of the build.

    python -m benchmarks.model [--customers 100000] [--incremental] [--keep DIR]
    python -m benchmarks.model --customers 1000000 --workdir /big/disk
    python -m benchmarks.model --customers 10000 --baseline
    python -m benchmarks.model --customers 1000000 --incremental --repeat 3 --workdir /big/disk

The sandbox serves on ``--ports`` (four from 19401); the warehouse and dlt state live in a
temporary folder unless ``--workdir`` names one (``--reuse`` then skips seeding/extracting).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import duckdb

from benchmarks import model_baseline
from benchmarks.harness import Figure, Timer, render, save
from goldloop.settings import patched_environ

REPO = Path(__file__).resolve().parents[1]
PROJECT_DIR = REPO / "dbt_project"
SYSTEMS = ("crm", "erp", "shop", "hr")
CUSTOMER_OBJECTS = {("crm", "contacts"), ("erp", "contacts"), ("shop", "customers")}
DEFAULT_PORTS = {"crm": 19401, "erp": 19402, "shop": 19403, "hr": 19404}
LAYERS = ("seeds", "staging", "intermediate", "marts", "tests")


@dataclass
class World:
    """A seeded sandbox world extracted into a DuckDB warehouse."""

    root: Path
    warehouse: Path
    truth: dict[str, str]  # customer record key (system:object:record_id) -> true entity


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> tuple[float, float]:
    """Pairwise precision and recall of a clustering against the true entities, in O(records).

    Both map a record key to its cluster; only keys in both count. Pairs are never listed: each
    cluster of n records holds n(n-1)/2 pairs, each (cluster, entity) cell the true positives.

    >>> pairwise({"a": "1", "b": "1", "c": "2"}, {"a": "x", "b": "x", "c": "x"})
    (1.0, 0.3333333333333333)
    >>> pairwise({"a": "1", "b": "1"}, {"a": "x", "b": "y"})
    (0.0, 1.0)
    """
    keys = predicted.keys() & truth.keys()

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    found = pairs(Counter(predicted[k] for k in keys))
    real = pairs(Counter(truth[k] for k in keys))
    hits = pairs(Counter((predicted[k], truth[k]) for k in keys))
    return (hits / found if found else 1.0, hits / real if real else 1.0)


def components(keys: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Each key's connected component under ``edges`` (named by one of its members).

    >>> found = components(["a", "b", "c"], [("a", "b")])
    >>> found["a"] == found["b"] != found["c"]
    True
    """
    parent = {key: key for key in keys}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for a, b in edges:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    return {key: find(key) for key in keys}




def extract_all(root: Path, warehouse: Path, config: Any) -> float:
    """Extract the four systems of the running sandbox ``config`` into ``warehouse``; seconds."""
    from benchmarks.extract import sandbox_env
    from goldloop.settings import Settings
    from pipelines.run import extract_system

    settings = Settings(warehouse=warehouse)
    with patched_environ(sandbox_env(config, warehouse, unlimited=True)), Timer() as t:
        for system in SYSTEMS:
            extract_system(system, settings=settings, pipelines_dir=root / "dlt")
    return t.seconds


def customer_truth(rows: Sequence[tuple[str, str, str, str]]) -> dict[str, str]:
    """The customer records of the sandbox's truth rows: record key -> true entity.

    >>> customer_truth([("crm", "contacts", "1", "e1"), ("crm", "deals", "9", "d9")])
    {'crm:contacts:1': 'e1'}
    """
    return {f"{s}:{o}:{r}": e for s, o, r, e in rows if (s, o) in CUSTOMER_OBJECTS}


def dbt(command: str, *args: str, root: Path, warehouse: Path,
        threads: int | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    """``dbt <command>`` of dbt_project/ on ``warehouse``, target and logs under ``root``."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PWD": str(REPO),
           "GOLDLOOP_TARGET": "duckdb", "GOLDLOOP_WAREHOUSE": str(warehouse)}
    if threads is not None:
        env["GOLDLOOP_DBT_THREADS"] = str(threads)
    executable = Path(sys.executable).with_name("dbt")
    with Timer() as t:
        result = subprocess.run(
            [str(executable), command, "--project-dir", str(PROJECT_DIR),
             "--profiles-dir", str(PROJECT_DIR), "--target-path", str(root / "target"),
             "--log-path", str(root / "logs"), *args],
            cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dbt {command} failed:\n{result.stdout[-5000:]}")
    return t.seconds, result


def keep_run_results(root: Path, label: str) -> None:
    """Keep the last build's node timings as ``run_results_<label>.json`` beside the target."""
    results = root / "target" / "run_results.json"
    if results.exists():
        shutil.copy(results, root / f"run_results_{label}.json")


def layer_of(unique_id: str, path: str) -> str:
    """The layer a dbt node belongs to, from its id and file path.

    >>> layer_of("model.goldloop.customers", "marts/core/customers.sql")
    'marts'
    >>> layer_of("test.goldloop.unique_customers_customer_id.1", "unique_customers.sql")
    'tests'
    """
    kind = unique_id.split(".", 1)[0]
    if kind in ("test", "unit_test"):
        return "tests"
    if kind == "seed":
        return "seeds"
    top = path.split("/", 1)[0]
    return top if top in LAYERS else kind


def build_times(root: Path) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Seconds per layer and per model (slowest first) of the last dbt run under ``root``."""
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    nodes = json.loads((root / "target" / "manifest.json").read_text())
    paths = {uid: node.get("path", "") for section in ("nodes", "unit_tests")
             for uid, node in nodes.get(section, {}).items()}
    per_layer: dict[str, float] = defaultdict(float)
    per_model: list[tuple[str, float]] = []
    for result in results:
        uid, seconds = result["unique_id"], float(result["execution_time"])
        per_layer[layer_of(uid, paths.get(uid, ""))] += seconds
        if uid.startswith("model."):
            per_model.append((uid.split(".")[-1], seconds))
    return dict(per_layer), sorted(per_model, key=lambda item: -item[1])


# The fields beyond a name two records of one person may agree on (int_customer_match_features).
EVIDENCE = ("email_local", "phone_key", "postcode_key", "street_key", "city_key", "company_key",
            "company_label", "crm_company_domain")


def missed_pairs(predicted: Mapping[str, str], truth: Mapping[str, str],
                 evidence: Mapping[str, Sequence[Any]]) -> tuple[int, int, int]:
    """True pairs, those the clustering split, and those of them that agree on no field of
    ``evidence`` (a record key -> its values of EVIDENCE; a key without evidence agrees with
    nothing). Only the split entities' pairs are listed.

    >>> truth = {"a": "x", "b": "x", "c": "x"}
    >>> missed_pairs({"a": "1", "b": "1", "c": "2"}, truth,
    ...              {"a": ("ann", None), "b": ("bob", None), "c": ("ann", None)})
    (3, 2, 1)
    """
    keys = predicted.keys() & truth.keys()
    members: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        members[truth[key]].append(key)
    real = sum(len(group) * (len(group) - 1) // 2 for group in members.values())
    split = name_only = 0
    for group in members.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if predicted[a] == predicted[b]:
                    continue
                split += 1
                left, right = evidence.get(a, ()), evidence.get(b, ())
                if not any(x is not None and x == y for x, y in zip(left, right, strict=False)):
                    name_only += 1
    return real, split, name_only


def recall_ceiling(warehouse: Path, truth: Mapping[str, str]) -> tuple[int, int, float]:
    """Missed true pairs, those that share nothing but a name, and the recall a matcher would
    reach that linked every missed pair agreeing on anything beyond the name (EVIDENCE)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        combined = dict(con.execute(
            "select system || ':' || object || ':' || record_id, customer_id"
            " from marts.customer_xref").fetchall())
        evidence = {row[0]: row[1:] for row in con.execute(
            f"select record_key, {', '.join(EVIDENCE)}"
            " from intermediate.int_customer_match_features").fetchall()}
    finally:
        con.close()
    real, split, name_only = missed_pairs(combined, truth, evidence)
    return split, name_only, 1 - name_only / real if real else 1.0


def matching(warehouse: Path, truth: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """Precision and recall of rules only, Splink only, and both (customer_xref)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        combined = dict(con.execute(
            "select system || ':' || object || ':' || record_id, customer_id"
            " from marts.customer_xref").fetchall())
        edges = con.execute(
            "select record_key, linked_record_key, match_rule = 'probabilistic'"
            " from intermediate.int_customer_match_edges").fetchall()
    finally:
        con.close()
    keys = sorted(combined)
    rules = [(a, b) for a, b, probabilistic in edges if not probabilistic]
    splink = [(a, b) for a, b, probabilistic in edges if probabilistic]
    return {
        "rules only": pairwise(components(keys, rules), truth),
        "Splink only": pairwise(components(keys, splink), truth),
        "rules + Splink": pairwise(combined, truth),
    }


def incremental_builds(name: str, root: Path, warehouse: Path, full_wall: float, repeat: int,
                       args: Sequence[str] = (), threads: int | None = None) -> list[Figure]:
    """The same build as the full one, without --full-refresh, ``repeat`` times on the changed
    ``warehouse``: each from the same state (a copy, ``<root>/changed/``, put back before every
    run after the first; one run varies by 5-10 % on a shared machine). Each run's wall and the
    median, against the full build's."""
    kept = root / "changed" / warehouse.name  # the same stem: the same catalog name
    if repeat > 1:
        model_baseline.copy_warehouse(warehouse, kept)
    walls: list[float] = []
    for run_index in range(repeat):
        if run_index:
            model_baseline.copy_warehouse(kept, warehouse)
        seconds, _ = dbt("build", *args, root=root, warehouse=warehouse, threads=threads)
        walls.append(seconds)
    keep_run_results(root, "incremental")
    if repeat > 1:
        shutil.rmtree(kept.parent)
    middle = median(walls)
    figures = [Figure(name, f"dbt build wall after 1% change, run {i + 1}", seconds, "s",
                      seconds / full_wall, "full build wall")
               for i, seconds in enumerate(walls)] if repeat > 1 else []
    label = "dbt build wall after 1% change" + (f" (median of {repeat})" if repeat > 1 else "")
    return [*figures, Figure(name, label, middle, "s", middle / full_wall, "full build wall")]


def seed_and_serve(root: Path, customers: int, seed: int, ports: dict[str, int],
                   order_lines: int | None = None) -> Any:
    """Seed (once) and serve the sandbox world under ``root/sandbox``; its config."""
    from sandbox import control

    return control.up(root / "sandbox", customers=customers, seed=seed,
                      order_lines=order_lines, ports=ports,
                      limits_enabled=False, timeout=3600)


def run(customers: int, *, seed: int = 42, root: Path, ports: dict[str, int],
        incremental: bool = False, reuse: bool = False, threads: int | None = None,
        baseline: bool = False, order_lines: int | None = None,
        repeat: int = 1) -> list[Figure]:
    """Seed, extract, build and measure a world of ``customers``; the figures.

    With ``reuse`` and a warehouse already under ``root``, the sandbox is not served unless the
    incremental run needs it (its seeded world still gives the truth). With ``baseline`` the
    warehouse is copied before the build and the build's compiled SQL replayed on the copy.
    """
    from sandbox import control

    name = f"model {customers:,}"
    warehouse = root / "warehouse.duckdb"
    figures: list[Figure] = []
    serve = incremental or not (reuse and warehouse.exists())
    config = seed_and_serve(root, customers, seed, ports, order_lines) if serve else None
    try:
        if not (reuse and warehouse.exists()):
            seconds = extract_all(root, warehouse, config)
            figures.append(Figure(name, "extract (all systems)", seconds, "s"))
        truth = customer_truth(control.truth_rows(root / "sandbox"))
        copy = root / "baseline" / "warehouse.duckdb"  # the same stem: the same catalog name
        if baseline:
            model_baseline.copy_warehouse(warehouse, copy)
        no_unit_tests = ("--exclude-resource-type", "unit_test") if baseline else ()
        wall, _ = dbt("build", "--full-refresh", *no_unit_tests, root=root,
                      warehouse=warehouse, threads=threads)
        per_layer, per_model = build_times(root)
        keep_run_results(root, "full")
        figures.append(Figure(name, "dbt build wall (full refresh)", wall, "s",
                              note=f"{len(truth):,} customer records"
                              + ("; unit tests excluded" if baseline else "")))
        if baseline:
            figures += model_baseline.measure(name, wall, root / "target", copy)
        figures += [Figure(name, f"layer {layer}", per_layer[layer], "s", per_layer[layer] / wall,
                           "build wall", note="sum of node times (threads overlap)")
                    for layer in LAYERS if layer in per_layer]
        figures += [Figure(name, f"model {model}", seconds, "s") for model, seconds in
                    per_model[:12]]
        for label, (precision, recall) in matching(warehouse, truth).items():
            # percent: the table prints two decimals, and the targets are 99.5 / 99
            figures += [Figure(name, f"{label} precision", 100 * precision, "%"),
                        Figure(name, f"{label} recall", 100 * recall, "%")]
        split, name_only, ceiling = recall_ceiling(warehouse, truth)
        figures += [
            Figure(name, "true pairs split", split, "pairs"),
            Figure(name, "  of them sharing only a name", name_only, "pairs",
                   note="no e-mail local part, phone, postcode, street, city or company in common"),
            Figure(name, "recall ceiling on the evidence", 100 * ceiling, "%",
                   note="every split pair agreeing on anything beyond a name linked"),
        ]
        if incremental:
            control.mutate(root / "sandbox", 0.01, seed=3)
            seconds = extract_all(root, warehouse, config)
            figures.append(Figure(name, "incremental extract (1% changed)", seconds, "s"))
            figures += incremental_builds(name, root, warehouse, wall, repeat,
                                          no_unit_tests, threads)
    finally:
        if serve:
            control.down(root / "sandbox")
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="dbt build time and matching accuracy")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="also run at 1,000,000")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--order-lines", type=int, default=None,
                        help="about this many shop order lines per world (the issue's 1M run: "
                             "5,000,000); default about 2.7 per shop customer")
    parser.add_argument("--incremental", action="store_true",
                        help="then change 1%%, extract incrementally and build again")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --incremental: build after the change this many times, each "
                             "from the same changed warehouse, and report the median")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep sandbox, warehouse and dbt target here (one subfolder per size)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --workdir: reuse an extracted warehouse, build only")
    parser.add_argument("--ports", default="19401,19402,19403,19404",
                        help="crm,erp,shop,hr ports of the sandbox")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads")
    parser.add_argument("--baseline", action="store_true",
                        help="also replay the compiled SQL in one DuckDB connection (no unit "
                             "tests on either side)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: give how many builds after the change to time "
                     "(1 or more)")
    ports = dict(zip(SYSTEMS, (int(p) for p in args.ports.split(",")), strict=True))
    sizes = [args.customers] + ([1_000_000] if args.million else [])
    figures: list[Figure] = []
    for size in sizes:
        if args.workdir is not None:
            root = args.workdir / f"model-{size}"
            root.mkdir(parents=True, exist_ok=True)
            figures += run(size, seed=args.seed, root=root, ports=ports,
                           incremental=args.incremental, reuse=args.reuse, threads=args.threads,
                           baseline=args.baseline, order_lines=args.order_lines,
                           repeat=args.repeat)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                figures += run(size, seed=args.seed, root=Path(tmp), ports=ports,
                               incremental=args.incremental, threads=args.threads,
                               baseline=args.baseline, order_lines=args.order_lines,
                               repeat=args.repeat)
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")


if __name__ == "__main__":
    main()
