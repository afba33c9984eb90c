"""The semantic layer's metrics, queried the way MetricFlow defines them.

The definitions come from dbt's ``semantic_manifest.json``; MetricFlow compiles each question
("revenue by month", "customers by country") to SQL for the warehouse's dialect, and the report
runs that SQL read-only through its own connection. So a metric on a page is MetricFlow's
number, never a second definition. MetricFlow is imported only when a metric is asked for.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from goldloop.errors import GoldloopError
from reports.db import Reader
from reports.dbt_artifacts import read_artifact

MONTH = "metric_time__month"


@dataclass(frozen=True)
class Metric:
    """A metric as the semantic layer defines it, with what it can be broken down by."""

    name: str
    label: str
    description: str
    kind: str  # simple | ratio | derived | cumulative | conversion
    definition: str  # how it is computed, in words and SQL expressions
    model: str  # the semantic model of its (first) measure
    time_dimension: str = ""  # what "by month" counts by (the model's agg time dimension)
    segments: tuple[tuple[str, str], ...] = field(default=())  # (group-by name, label)


def _measures(manifest: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    return {m["name"]: (m, model) for model in manifest.get("semantic_models", [])
            for m in model.get("measures", [])}


def _describe(metric: dict[str, Any], measures: dict[str, Any]) -> str:
    params = metric.get("type_params") or {}
    if metric["type"] == "simple" and params.get("measure"):
        measure, model = measures.get(params["measure"]["name"], ({}, {}))
        return (f"{measure.get('agg', '?')}({measure.get('expr') or measure.get('name')}) "
                f"over {model.get('node_relation', {}).get('alias', model.get('name', '?'))}")
    if metric["type"] == "ratio":
        return f"{params['numerator']['name']} / {params['denominator']['name']}"
    if params.get("expr"):
        return str(params["expr"])
    return metric["type"]


def _segments(model: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    entity = model.get("primary_entity") or next(
        (e["name"] for e in model.get("entities", []) if e.get("type") == "primary"), None)
    if entity is None:
        return ()
    return tuple((f"{entity}__{d['name']}", (d.get("label") or d["name"]).replace("_", " "))
                 for d in model.get("dimensions", []) if d.get("type") == "categorical")


def metrics(target_dir: Path) -> list[Metric]:
    """Every metric of the semantic manifest (none without one)."""
    manifest = read_artifact(target_dir, "semantic_manifest.json")
    if not manifest:
        return []
    measures = _measures(manifest)
    found = []
    for metric in manifest.get("metrics", []):
        inputs = (metric.get("type_params") or {}).get("input_measures") or []
        model = measures.get(inputs[0]["name"], ({}, {}))[1] if inputs else {}
        found.append(Metric(
            name=metric["name"], label=metric.get("label") or metric["name"],
            description=metric.get("description") or "", kind=metric["type"],
            definition=_describe(metric, measures), model=model.get("name", ""),
            time_dimension=(model.get("defaults") or {}).get("agg_time_dimension") or "",
            segments=_segments(model)))
    return found


def without_database(value: Any) -> Any:
    """The semantic manifest with every relation named ``schema.table`` only, so the SQL runs
    on whichever database the report opens (a DuckDB file's catalogue is named after the file
    dbt built, which a copied or renamed warehouse no longer is).

    >>> without_database({"m": [{"node_relation": {"alias": "orders", "schema_name": "marts",
    ...     "database": "warehouse", "relation_name": '"warehouse"."marts"."orders"'}}]})
    {'m': [{'node_relation': {'alias': 'orders', 'schema_name': 'marts', 'database': None, \
'relation_name': '"marts"."orders"'}}]}
    """
    if isinstance(value, list):
        return [without_database(item) for item in value]
    if not isinstance(value, dict):
        return value
    if {"alias", "schema_name", "database"} <= value.keys():
        return {**value, "database": None,
                "relation_name": f'"{value["schema_name"]}"."{value["alias"]}"'}
    return {key: without_database(item) for key, item in value.items()}


class _Compiler:
    """MetricFlow's engine for one semantic manifest and dialect, with compiled SQL cached."""

    def __init__(self, target_dir: Path, dialect: str) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
        from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        class Dialect:
            """All MetricFlow needs of a SQL client to write SQL (it never runs any)."""

            sql_engine_type = SqlEngine.POSTGRES if dialect == "postgres" else SqlEngine.DUCKDB
            sql_plan_renderer = (PostgresSQLSqlPlanRenderer() if dialect == "postgres"
                                 else DuckDbSqlPlanRenderer())

        text = json.dumps(without_database(json.loads(
            (target_dir / "semantic_manifest.json").read_text())))
        manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=text)
        self.engine = MetricFlowEngine(SemanticManifestLookup(manifest), Dialect())  # type: ignore[arg-type]
        self.sql: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}

    def compile(self, names: tuple[str, ...], group_by: tuple[str, ...]) -> str:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        key = (names, group_by)
        if key not in self.sql:
            request = MetricFlowQueryRequest.create(metric_names=list(names),
                                                    group_by_names=list(group_by))
            statement = self.engine.explain(request).sql_statement
            if statement.bind_parameter_set.param_items:
                raise GoldloopError(f"MetricFlow asked for bind parameters for {names}")
            self.sql[key] = statement.sql
        return self.sql[key]


_COMPILERS: dict[tuple[str, float, str], _Compiler] = {}
_LOCK = threading.Lock()


def query(reader: Reader, target_dir: Path, names: tuple[str, ...],
          group_by: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``names`` (in that order) grouped by ``group_by``, as MetricFlow computes them.

    Each row is the group-by values followed by one value per metric.
    """
    path = target_dir / "semantic_manifest.json"
    key = (str(path.resolve()), path.stat().st_mtime, reader.target)
    with _LOCK:
        if key not in _COMPILERS:
            _COMPILERS.clear()
            _COMPILERS[key] = _Compiler(target_dir, reader.target)
        try:
            sql = _COMPILERS[key].compile(names, group_by)
        except GoldloopError:
            raise
        except Exception as exc:
            raise GoldloopError(f"MetricFlow cannot answer {', '.join(names)} by "
                                f"{', '.join(group_by) or 'nothing'}: {str(exc)[:200]}",
                                hint="check the metric's semantic model") from exc
    columns = ", ".join([*group_by, *names])
    return reader.rows(f"select {columns} from ({sql}) as metric_rows")


def month_of(value: Any) -> date | None:
    """The month a ``metric_time__month`` value stands for.

    >>> month_of(datetime(2026, 3, 1)), month_of(None)
    (datetime.date(2026, 3, 1), None)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    return date.fromisoformat(str(value)[:10]).replace(day=1)
