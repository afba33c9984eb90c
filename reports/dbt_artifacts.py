"""What dbt wrote about the last build: ``run_results.json`` (statuses) and ``manifest.json``
(models, columns, descriptions, tests), read from dbt's target folder.

Files are parsed once per change (cached by path and modification time).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from goldloop.errors import GoldloopError

OUTCOMES = ("pass", "warn", "fail", "error", "skipped")


@dataclass(frozen=True)
class Check:
    """One dbt data test or unit test of the last build, with the model it guards."""

    unique_id: str
    name: str
    kind: str  # "data test" | "unit test"
    model: str | None
    layer: str
    status: str
    failures: int | None
    message: str | None
    severity: str


@dataclass(frozen=True)
class ModelRun:
    """One model (or seed) the last build ran."""

    name: str
    layer: str
    status: str
    seconds: float
    message: str | None


@dataclass
class BuildResults:
    """The last dbt invocation: when, what ran, how each check and model ended."""

    command: str
    generated_at: datetime
    elapsed_seconds: float
    checks: list[Check] = field(default_factory=list)
    models: list[ModelRun] = field(default_factory=list)

    def outcome_counts(self) -> dict[str, int]:
        """Checks per outcome (pass, warn, fail, error, skipped), every outcome present."""
        counted = Counter(check.status for check in self.checks)
        return {outcome: counted.get(outcome, 0) for outcome in OUTCOMES}

    @property
    def is_green(self) -> bool:
        """No check failed or errored and no model errored."""
        counts = self.outcome_counts()
        return (counts["fail"] == 0 and counts["error"] == 0
                and all(m.status != "error" for m in self.models))


def layer_of(fqn: list[str]) -> str:
    """The layer (folder under models/) of a dbt node's fully qualified name.

    >>> layer_of(["goldloop", "marts", "core", "customers"]), layer_of(["goldloop", "x"])
    ('marts/core', 'x')
    """
    parts = fqn[1:-1]
    if not parts:
        return fqn[-1] if len(fqn) > 1 else "?"
    return "/".join(parts[:2])


@lru_cache(maxsize=8)
def _read_json(path: Path, mtime: float) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise GoldloopError(f"cannot read {path}: {exc}",
                            hint="rerun `goldloop build` to rewrite dbt's artifacts") from exc
    return dict(data)


def read_artifact(target_dir: Path, name: str) -> dict[str, Any] | None:
    """``target_dir/name`` parsed, or ``None`` when dbt has not written it."""
    path = target_dir / name
    if not path.is_file():
        return None
    return _read_json(path.resolve(), path.stat().st_mtime)


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _tested_model(node: dict[str, Any], nodes: dict[str, Any]) -> str | None:
    attached = node.get("attached_node") or ""
    if not attached:
        models = [n for n in node.get("depends_on", {}).get("nodes", [])
                  if n.startswith(("model.", "snapshot."))]
        attached = models[-1] if models else ""
    return str(nodes[attached]["name"]) if attached in nodes else None


def _layer_fqn(node: dict[str, Any]) -> list[str]:
    """A node's fqn as :func:`layer_of` reads it: seeds and snapshots are layers of their own.

    >>> layer_of(_layer_fqn({"resource_type": "snapshot", "fqn": ["goldloop", "x", "x"]}))
    'snapshots'
    """
    kind = node.get("resource_type")
    if kind in ("seed", "snapshot"):
        return ["", f"{kind}s", ""]
    return list(node.get("fqn", ["", "?", ""]))


def build_results(target_dir: Path) -> BuildResults | None:
    """The last build's checks and models, or ``None`` when dbt has not run yet."""
    results = read_artifact(target_dir, "run_results.json")
    manifest = read_artifact(target_dir, "manifest.json")
    if results is None or manifest is None:
        return None
    nodes: dict[str, Any] = manifest.get("nodes", {})
    unit_tests: dict[str, Any] = manifest.get("unit_tests", {})
    model_fqns = {n["name"]: _layer_fqn(n) for n in nodes.values()
                  if n.get("resource_type") in ("model", "seed", "snapshot")}
    built = BuildResults(
        command=str(results.get("args", {}).get("which", "build")),
        generated_at=_timestamp(results["metadata"]["generated_at"]),
        elapsed_seconds=float(results.get("elapsed_time", 0.0)),
    )
    for result in results.get("results", []):
        uid = str(result["unique_id"])
        status = str(result.get("status", "")).lower()
        if uid.startswith("test."):
            node = nodes.get(uid, {})
            model = _tested_model(node, nodes)
            model_fqn = model_fqns.get(model or "", ["", "?", ""])
            built.checks.append(Check(
                uid, str(node.get("name", uid.split(".")[-1])), "data test", model,
                layer_of(model_fqn), status, result.get("failures"), result.get("message"),
                str(node.get("config", {}).get("severity", "error")).lower()))
        elif uid.startswith("unit_test."):
            node = unit_tests.get(uid, {})
            model = node.get("model")
            built.checks.append(Check(
                uid, str(node.get("name", uid.split(".")[-1])), "unit test", model,
                layer_of(model_fqns.get(model or "", ["", "?", ""])), status,
                result.get("failures"), result.get("message"), "error"))
        elif uid.startswith(("model.", "seed.", "snapshot.")):
            node = nodes.get(uid, {})
            built.models.append(ModelRun(
                str(node.get("name", uid.split(".")[-1])),
                layer_of(_layer_fqn(node) if node else ["", "?", ""]),
                status, float(result.get("execution_time") or 0.0), result.get("message")))
    return built
