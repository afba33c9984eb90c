"""dbt's test results (``run_results.json`` + ``manifest.json`` of a build) as check outcomes.

Call :func:`record_dbt_results` after ``dbt build`` (or ``dbt test``): every data test and unit
test becomes one row of ``quality.check_results`` with source ``dbt``, under the model it tests,
severity ``blocking`` for dbt's ``error`` severity and ``warn`` for ``warn``. The run id is
dbt's invocation id, so recording the same build twice adds nothing. Tests dbt skipped (an
upstream node failed) are not recorded: the model still holds what the last checked build
made, and its last results still describe it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from goldloop.dbt import DBT_PROJECT_DIR
from goldloop.errors import GoldloopError
from goldloop.quality.results import CheckOutcome, Status, insert, run_recorded
from goldloop.settings import Settings
from goldloop.warehouse import connect

DEFAULT_TARGET = DBT_PROJECT_DIR / "target"
RECORDED_STATUSES: dict[str, Status] = {"pass": "pass", "fail": "fail", "warn": "warn",
                                        "error": "error"}


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON artifact, or ``None`` when dbt has not written it."""
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise GoldloopError(f"cannot read dbt's {path}: {exc}",
                            hint="rerun `goldloop build` to rewrite dbt's artifacts") from exc


def timestamp(text: str) -> datetime:
    """dbt's ISO time as naive UTC.

    >>> timestamp("2026-11-25T19:16:44.202911Z")
    datetime.datetime(2026, 11, 25, 19, 16, 44, 202911)
    """
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def tested_model(node: Mapping[str, Any], manifest: Mapping[str, Any]) -> str | None:
    """The model (or ``source.table``) a data test is attached to.

    >>> manifest = {"nodes": {"model.p.customers": {"name": "customers"}},
    ...             "sources": {"source.p.crm.contacts": {"source_name": "crm",
    ...                                                   "name": "contacts"}}}
    >>> tested_model({"attached_node": "model.p.customers"}, manifest)
    'customers'
    >>> tested_model({"depends_on": {"nodes": ["source.p.crm.contacts"]}}, manifest)
    'crm.contacts'
    """
    nodes = manifest.get("nodes", {})
    sources = manifest.get("sources", {})
    attached = node.get("attached_node") or ""
    if not attached:
        depends = list(node.get("depends_on", {}).get("nodes", []))
        models = [n for n in depends if n.startswith("model.")]
        attached = models[-1] if models else next(
            (n for n in depends if n.startswith("source.")), "")
    if attached in nodes:
        return str(nodes[attached]["name"])
    if attached in sources:
        source = sources[attached]
        return f"{source['source_name']}.{source['name']}"
    return None


def dbt_outcomes(run_results: Mapping[str, Any],
                 manifest: Mapping[str, Any]) -> list[CheckOutcome]:
    """Each data test and unit test of one dbt invocation as an outcome (skipped ones left out).

    >>> results = {"metadata": {"generated_at": "2026-11-25T10:00:00Z", "invocation_id": "i1"},
    ...            "results": [{"unique_id": "test.p.unique_customers_customer_id",
    ...                         "status": "fail", "failures": 2, "message": "Got 2 results"}]}
    >>> manifest = {"nodes": {"model.p.customers": {"name": "customers"},
    ...     "test.p.unique_customers_customer_id": {"name": "unique_customers_customer_id",
    ...         "attached_node": "model.p.customers", "config": {"severity": "ERROR"}}}}
    >>> [(o.model_name, o.check_name, o.severity, o.status, o.failing_rows, o.run_id)
    ...  for o in dbt_outcomes(results, manifest)]
    [('customers', 'unique_customers_customer_id', 'blocking', 'fail', 2, 'i1')]
    """
    metadata = run_results.get("metadata", {})
    run_id = str(metadata.get("invocation_id") or "")
    checked_at = timestamp(str(metadata["generated_at"]))
    nodes = manifest.get("nodes", {})
    unit_tests = manifest.get("unit_tests", {})
    found = []
    for result in run_results.get("results", []):
        uid = str(result.get("unique_id", ""))
        status = RECORDED_STATUSES.get(str(result.get("status", "")).lower())
        if status is None or not uid.startswith(("test.", "unit_test.")):
            continue
        if uid.startswith("test."):
            node = nodes.get(uid, {})
            model = tested_model(node, manifest)
            severity = str(node.get("config", {}).get("severity", "error")).lower()
        else:
            node = unit_tests.get(uid, {})
            model = node.get("model")
            severity = "error"
        failures = result.get("failures")
        message = result.get("message")
        found.append(CheckOutcome(
            str(model or "?"), str(node.get("name") or uid.split(".")[-1]), "dbt",
            "warn" if severity == "warn" else "blocking", status,
            int(failures) if failures is not None else None, checked_at, run_id,
            str(message)[:1000] if message else None))
    return found


def record_dbt_results(settings: Settings, target_dir: Path = DEFAULT_TARGET) -> int:
    """Append the test results of the dbt build in ``target_dir`` to ``quality.check_results``.

    Returns the rows written: 0 when dbt wrote no results there, or when this invocation's
    results are recorded already.
    """
    run_results = read_json(Path(target_dir) / "run_results.json")
    manifest = read_json(Path(target_dir) / "manifest.json")
    if run_results is None or manifest is None:
        return 0
    found = dbt_outcomes(run_results, manifest)
    if not found:
        return 0
    with connect(settings) as con:
        if run_recorded(con, settings.target, "dbt", found[0].run_id):
            return 0
        return insert(con, settings.target, found)
