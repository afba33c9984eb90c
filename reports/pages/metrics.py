"""Metrics: the semantic layer's metrics by month and by segment, each with its definition.

Every number is MetricFlow's: the page asks MetricFlow for the SQL of "metric by month" or
"metric by <dimension>" and runs it on the warehouse (see :mod:`reports.semantic`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from goldloop.errors import GoldloopError
from reports import charts, semantic
from reports.db import Reader
from reports.pages.common import month_label, month_range
from reports.params import Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Table, view

MAX_SEGMENTS = 15


def available(_reader: Reader, site: Site) -> bool:
    """Shown once the dbt project defines metrics (MetricFlow's semantic manifest)."""
    return bool(semantic.metrics(site.dbt_target))


def by_month(reader: Reader, site: Any, metric: semantic.Metric) -> list[tuple[date, Any]]:
    """The metric per month, every month from the first to the last (empty months as 0)."""
    found: dict[date, Any] = {}
    for month, value in semantic.query(reader, site.dbt_target, (metric.name,),
                                       (semantic.MONTH,)):
        day = semantic.month_of(month)
        if day is not None:
            found[day] = value
    if not found:
        return []
    return [(m, found.get(m) or 0) for m in month_range(min(found), max(found))]


def by_segment(reader: Reader, site: Any, metric: semantic.Metric,
               segment: str) -> list[tuple[str, Any]]:
    """The metric per value of one dimension, largest first."""
    rows = semantic.query(reader, site.dbt_target, (metric.name,), (segment,))
    return sorted(((str(v) if v is not None else "(none)", m or 0) for v, m in rows),
                  key=lambda item: -float(item[1]))


def total(reader: Reader, site: Any, metric: semantic.Metric) -> Any:
    """The metric over all time."""
    rows = semantic.query(reader, site.dbt_target, (metric.name,))
    return rows[0][0] if rows else None


def _find(site: Any, values: Mapping[str, Value]) -> semantic.Metric | None:
    return next((m for m in semantic.metrics(site.dbt_target)
                 if m.name == values.get("metric")), None)


def _month_rows(reader: Reader, site: Any,
                values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    chosen = [m for m in semantic.metrics(site.dbt_target)
              if "metric" not in values or m.name == values["metric"]]
    return [(m.name, month, value) for m in chosen for month, value in by_month(reader, site, m)]


def _segment_rows(reader: Reader, site: Any,
                  values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    metric = _find(site, values)
    if metric is None:
        return []
    return [(metric.name, label, value, amount) for segment, label in metric.segments
            for value, amount in by_segment(reader, site, metric, segment)]


MONTHS_TABLE = Table(
    name="metric_months",
    title="By month",
    columns=(Column("metric", "Metric", hidden=True), Column("month", "Month", "month"),
             Column("value", "Value", "number")),
    filters=(Text("metric", 120, "metric"),),
    artifact=_month_rows,
)

SEGMENTS_TABLE = Table(
    name="metric_segments",
    title="By segment",
    columns=(Column("metric", "Metric"), Column("segment", "Segment"),
             Column("segment_value", "Value of the segment"), Column("value", "Metric", "number")),
    filters=(Text("metric", 120, "metric"),),
    artifact=_segment_rows,
)


def _number(value: Any) -> float:
    return float(value or 0)


def _overview(reader: Reader, site: Site, notices: list[str]) -> Page:
    cards = []
    for metric in semantic.metrics(site.dbt_target):
        try:
            months = by_month(reader, site, metric)
            overall = total(reader, site, metric)
        except GoldloopError as exc:
            notices.append(str(exc))
            continue
        cards.append({"metric": metric, "total": overall,
                      "spark": charts.sparkline([_number(v) for _, v in months][-24:],
                                                title=f"{metric.label} by month",
                                                width=220, height=40),
                      "href": site.links.page("metrics", metric=metric.name)})
    return Page(
        title="Metrics",
        lead="The semantic layer's metrics (MetricFlow, defined next to the marts): one "
             "definition, the same number everywhere. Open a metric for its months and segments.",
        template="metrics.html", notices=notices,
        context={"cards": cards, "metric": None,
                 "months_csv": site.links.csv(MONTHS_TABLE.name)})


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The metrics page: every metric, or one metric in detail."""
    values, notices = parse(raw, (Text("metric", 120, "metric"),))
    if "metric" not in values:
        return _overview(reader, site, notices)
    metric = _find(site, values)
    if metric is None:
        notices.append(f"Ignored metric '{values['metric']}': the semantic layer has no metric "
                       "of that name. Pick one below.")
        return _overview(reader, site, notices)
    months = by_month(reader, site, metric)
    month_chart = charts.column_chart(
        [month_label(m) for m, _ in months],
        [charts.Series(metric.label, [_number(v) for _, v in months])],
        title=f"{metric.label} by month", whole=metric.kind != "ratio",
        empty="no data by month")
    segments = []
    for segment, label in metric.segments:
        try:
            rows = by_segment(reader, site, metric, segment)
        except GoldloopError as exc:
            notices.append(str(exc))
            continue
        segments.append({"label": label, "chart": charts.hbar_chart(
            [charts.Bar(v, _number(m)) for v, m in rows[:MAX_SEGMENTS]],
            title=f"{metric.label} by {label}", width=520)})
    scope: dict[str, Value] = {"metric": metric.name, "page": 1, "size": 200}
    return Page(
        title=metric.label,
        lead=metric.description or f"The semantic layer's metric {metric.name}.",
        template="metrics.html", notices=notices,
        context={"metric": metric, "total": total(reader, site, metric),
                 "month_chart": month_chart, "segments": segments,
                 "months": view(reader, MONTHS_TABLE, scope, site.links, "metrics", site=site,
                                paged=False),
                 "segment_csv": site.links.csv(SEGMENTS_TABLE.name, metric=metric.name),
                 "all": semantic.metrics(site.dbt_target)},
    )


SPEC = PageSpec("metrics", "Metrics", render, tables=(MONTHS_TABLE, SEGMENTS_TABLE),
                available=available)
