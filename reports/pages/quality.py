"""Data quality: every check per model and layer, and how the checks went over time.

The last dbt build's checks (data tests and unit tests) come from dbt's ``run_results.json`` and
``manifest.json``; the latest result of every other recorded check (the Great Expectations
suites, ``goldloop quality run``) comes from ``quality.check_results``, which also gives the
history and the blocking checks that stop syncs now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from reports import charts, formats
from reports.db import Reader
from reports.dbt_artifacts import OUTCOMES, BuildResults, Check, build_results
from reports.pages.common import href_for
from reports.params import Choice, Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Table, view

OUTCOME_COLORS = ("#3a9a5b", "#d99a00", "#c8434d", "#8a1c1c", "#9aa5b1")
ORDER = {outcome: i for i, outcome in enumerate(("error", "fail", "warn", "skipped", "pass"))}


RESULTS = ("quality", "check_results")
RECORDED_KINDS = {"gx": "expectation"}  # source in quality.check_results → kind on the page


def _latest_sql(columns: set[str], where: str = "") -> str:
    """The latest recorded result of each check of each model; absent columns read as null."""
    def pick(name: str) -> str:
        return name if name in columns else f"null as {name}"

    return (f"select model_name, check_name, severity, status, {pick('failing_rows')}, "
            f"{pick('message')}, {pick('source')}, checked_at from (select *, row_number() "
            "over (partition by model_name, check_name order by checked_at desc) as recency "
            f"from quality.check_results {where}) latest where recency = 1 "
            "order by model_name, check_name")


def recorded_checks(reader: Reader, build: BuildResults) -> list[Check]:
    """The latest result of each recorded check that is not dbt's (dbt's own are the build's),
    as checks of the page, in the layer of the model they check."""
    if not reader.has_table(*RESULTS):
        return []
    columns = {name for name, _ in reader.columns(*RESULTS)}
    where = "where coalesce(source, '') <> 'dbt'" if "source" in columns else ""
    layers = {m.name: m.layer for m in build.models}
    return [Check(f"{source or 'recorded'}.{model}.{name}", str(name),
                  RECORDED_KINDS.get(str(source), "recorded check"), str(model),
                  layers.get(str(model), "?"), str(status).lower(),
                  None if failing is None else int(failing), message,
                  "error" if str(severity).lower() == "blocking" else "warn")
            for model, name, severity, status, failing, message, source, _at
            in reader.rows(_latest_sql(columns, where))]


def blocking_failures(reader: Reader) -> list[tuple[str, str, str]]:
    """``(model, check, source)`` of every recorded blocking check whose latest result fails
    or errors: what reverse ETL's guards stop syncs on."""
    if not reader.has_table(*RESULTS):
        return []
    columns = {name for name, _ in reader.columns(*RESULTS)}
    return [(str(model), str(name), str(source or "recorded"))
            for model, name, severity, status, _failing, _message, source, _at
            in reader.rows(_latest_sql(columns))
            if str(severity).lower() == "blocking"
            and str(status).lower() in ("fail", "failed", "error")]


def blocking_notices(failures: list[tuple[str, str, str]]) -> list[str]:
    """One notice per model whose recorded blocking checks fail.

    >>> blocking_notices([("orders", "gx_unique_id", "gx")])[0]
    'Blocking check fails on orders (gx_unique_id): syncs reading orders stop until it passes.'
    >>> blocking_notices([("m", "a", "gx"), ("m", "b", "dbt")])[0]
    'Blocking checks fail on m (a, b): syncs reading m stop until they pass.'
    """
    per_model: dict[str, list[str]] = {}
    for model, check, _source in failures:
        per_model.setdefault(model, []).append(check)
    return [f"Blocking check{'s' if len(checks) > 1 else ''} fail{'' if len(checks) > 1 else 's'}"
            f" on {model} ({', '.join(checks)}): syncs reading {model} stop until "
            f"{'they pass' if len(checks) > 1 else 'it passes'}."
            for model, checks in per_model.items()]


def with_recorded(reader: Reader, build: BuildResults) -> BuildResults:
    """The build's checks and the latest recorded expectation results together (memoised
    for one page)."""
    key = "quality.with_recorded"
    if key not in reader.memo:
        reader.memo[key] = replace(build, checks=[*build.checks,
                                                  *recorded_checks(reader, build)])
    return reader.memo[key]  # type: ignore[no-any-return]


def _check_rows(reader: Reader, site: Any, _values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    build = build_results(site.dbt_target)
    if build is not None:
        build = with_recorded(reader, build)
    if build is None:
        return []
    checks = sorted(build.checks, key=lambda c: (ORDER.get(c.status, 9), c.layer,
                                                 c.model or "", c.name))
    return [(c.status, c.kind, c.layer, c.model, c.name, c.severity, c.failures, c.message)
            for c in checks]


CHECKS_TABLE = Table(
    name="checks",
    title="Checks of the last build",
    columns=(
        Column("status", "Result"),
        Column("kind", "Kind"),
        Column("layer", "Layer"),
        Column("model", "Model"),
        Column("name", "Check", "code"),
        Column("severity", "Severity"),
        Column("failures", "Failing rows", "int"),
        Column("message", "Message", "prose"),
    ),
    filters=(Choice("status", OUTCOMES, "result"), Text("layer", 60, "layer"),
             Text("model", 120, "model")),
    artifact=_check_rows,
)


def per_layer(build: BuildResults) -> list[tuple[str, list[int]]]:
    """Checks per layer and outcome (pass, warn, fail, error, skipped), layers in order."""
    counts: dict[str, list[int]] = {}
    for check in build.checks:
        row = counts.setdefault(check.layer, [0] * len(OUTCOMES))
        if check.status in OUTCOMES:
            row[OUTCOMES.index(check.status)] += 1
    return sorted(counts.items())


def per_model(build: BuildResults) -> list[dict[str, Any]]:
    """Per model: its layer, how it built, and its checks by outcome."""
    models: dict[str, dict[str, Any]] = {
        m.name: {"model": m.name, "layer": m.layer, "status": m.status, "seconds": m.seconds,
                 **dict.fromkeys(OUTCOMES, 0)} for m in build.models}
    for check in build.checks:
        entry = models.setdefault(check.model or "?", {
            "model": check.model or "?", "layer": check.layer, "status": formats.NONE,
            "seconds": 0.0, **dict.fromkeys(OUTCOMES, 0)})
        if check.status in OUTCOMES:
            entry[check.status] += 1
    return sorted(models.values(), key=lambda m: (-(m["fail"] + m["error"]), -m["warn"],
                                                  m["layer"], m["model"]))


HISTORY_DAYS = 30
HISTORY_STATUSES = ("pass", "warn", "fail", "error")


def history_chart(reader: Reader, now: datetime) -> str | None:
    """Checks per day and result over the last days, from ``quality.check_results`` (the
    table the quality step records results in, and reverse ETL reads its blocking checks
    from); ``None`` while no such table exists."""
    if not reader.has_table("quality", "check_results"):
        return None
    since = now - timedelta(days=HISTORY_DAYS - 1)
    counts: dict[tuple[date, str], int] = {}
    for day, status, number in reader.rows(
            "select cast(checked_at as date), lower(status), count(*) "
            "from quality.check_results where checked_at >= ? group by 1, 2",
            (since.replace(hour=0, minute=0, second=0, microsecond=0),)):
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        counts[(day, str(status))] = int(number)
    days = [since.date() + timedelta(days=i) for i in range(HISTORY_DAYS)]
    series = [charts.Series(status, [counts.get((d, status), 0) for d in days], (),
                            OUTCOME_COLORS[OUTCOMES.index(status)])
              for status in HISTORY_STATUSES]
    return charts.column_chart([f"{d:%m-%d}" for d in days], series,
                               title=f"Check results per day, last {HISTORY_DAYS} days",
                               empty="no check results recorded in these days")


def blocked_syncs(reader: Reader) -> list[tuple[Any, ...]]:
    """Reverse-ETL runs a guard stopped (a failing blocking check), newest first."""
    if not reader.has_table("reverse_etl", "runs"):
        return []
    return reader.rows("select sync_name, started_at, message from reverse_etl.runs "
                       "where status = 'blocked' order by started_at desc limit 20")


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The data-quality page."""
    values, notices = parse(raw, CHECKS_TABLE.fields)
    build = build_results(site.dbt_target)
    lead = ("Every dbt check of the last build (keys unique and present, relationships, "
            "accepted values, normalised e-mails and phones, unit tests of matching and "
            "survivorship) and the latest result of each Great Expectations expectation on the "
            "golden marts and sync feeds. A failing error-severity check stops the build; a "
            "failing blocking check stops the syncs that read its model.")
    notices.extend(blocking_notices(blocking_failures(reader)))
    if build is None:
        notices.append(f"No dbt build results in {site.dbt_target}: run `goldloop build` (or "
                       "point `--dbt-target` at dbt's target folder).")
        # the recorded history and the stopped syncs do not need a build (shown by a template
        # that renders them outside its `build` block)
        return Page(title="Data quality", lead=lead, template="quality.html", notices=notices,
                    context={"build": None, "blocked": blocked_syncs(reader),
                             "history": history_chart(reader, site.now)})
    build = with_recorded(reader, build)
    layers = per_layer(build)
    filters = CHECKS_TABLE.filter_values(values)
    chart = charts.stacked_hbar_chart(
        layers, OUTCOMES, title="Checks per layer by result", colors=OUTCOME_COLORS,
        hrefs=[site.links.page("quality", layer=layer) for layer, _ in layers])
    return Page(
        title="Data quality", lead=lead, template="quality.html", notices=notices,
        context={
            "build": build, "counts": build.outcome_counts(), "chart": chart,
            "models": per_model(build),
            "model_counts": {s: sum(1 for m in build.models if m.status == s)
                             for s in ("success", "error", "skipped")},
            "table": view(reader, CHECKS_TABLE, values, site.links, "quality", site=site),
            "filters": filters, "href": href_for(site.links, "quality", filters),
            "blocked": blocked_syncs(reader),
            "history": history_chart(reader, site.now),
            "outcomes": [(o, o) for o in OUTCOMES],
        },
    )


SPEC = PageSpec("quality", "Data quality", render, tables=(CHECKS_TABLE,))
