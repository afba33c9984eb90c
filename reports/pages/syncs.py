"""Sync health: per reverse-ETL sync, its last run and what it did, the dead-letter backlog, the
top reasons destinations rejected records for, and the conflicts waiting for a person.

Read from the reverse-ETL bookkeeping in the warehouse (schema ``reverse_etl``: ``runs``,
``audit``, ``dead_letters``, ``conflicts``); the page shows once a sync has run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from reports import charts
from reports.db import Reader
from reports.pages.common import href_for
from reports.params import Choice, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Condition, Table, view

SYNCS = ("crm_contacts", "erp_contacts", "shop_customers", "deal_invoices")  # INTERFACES.md
COUNTS = ("processed", "inserted", "updated", "deleted", "unchanged", "rejected",
          "dead_lettered", "conflicts")
HISTORY_DAYS = 14
STATUS_COLORS = {"ok": "#3a9a5b", "partial": "#d99a00", "failed": "#c8434d",
                 "blocked": "#8a1c1c", "running": "#9aa5b1"}
REJECTED = ("rejected", "dead")


def available(reader: Reader, _site: Site) -> bool:
    """Shown once the reverse-ETL run log exists (a sync has run against this warehouse)."""
    return reader.has_table("reverse_etl", "runs")


def _by_sync(values: Mapping[str, Value]) -> list[Condition]:
    return [Condition("sync_name = ?", (values["sync"],))] if "sync" in values else []


SYNC_FILTER = (Choice("sync", SYNCS, "sync"),)

RUNS_TABLE = Table(
    name="sync_runs",
    title="Runs",
    columns=(
        Column("sync_name", "Sync"), Column("status", "Status"), Column("kind", "Kind"),
        Column("started_at", "Started", "ts"), Column("finished_at", "Finished", "ts"),
        Column("message", "Message", "prose"), Column("run_id", "Run", "id"),
        Column("summary", "Summary (JSON)", hidden=True)),
    source_sql=("select sync_name, status, kind, started_at, finished_at, message, run_id, "
                "summary from reverse_etl.runs"),
    order_by="started_at desc, run_id",
    filters=SYNC_FILTER, conditions=_by_sync,
)

DEAD_LETTERS_TABLE = Table(
    name="sync_dead_letters",
    title="Dead letters waiting for a replay",
    columns=(
        Column("sync_name", "Sync"), Column("sync_key", "Record", "id"),
        Column("destination_id", "Destination id", "id"), Column("reason", "Reason", "prose"),
        Column("attempts", "Attempts", "int"), Column("dead_at", "Since", "ts"),
        Column("run_id", "Run", "id", hidden=True)),
    source_sql=("select sync_name, sync_key, destination_id, reason, attempts, dead_at, run_id "
                "from reverse_etl.dead_letters where replayed_at is null"),
    order_by="dead_at, sync_name, sync_key",
    filters=SYNC_FILTER, conditions=_by_sync,
)

CONFLICTS_TABLE = Table(
    name="sync_conflicts",
    title="Conflicts waiting for a person",
    columns=(
        Column("sync_name", "Sync"), Column("sync_key", "Record", "id"),
        Column("destination_id", "Destination id", "id"), Column("kind", "Conflict"),
        Column("detail", "Detail", "prose"), Column("detected_at", "Detected", "ts"),
        Column("run_id", "Run", "id", hidden=True)),
    source_sql=("select sync_name, sync_key, destination_id, kind, detail, detected_at, run_id "
                "from reverse_etl.conflicts where resolved_at is null"),
    order_by="detected_at, sync_name, sync_key",
    filters=SYNC_FILTER, conditions=_by_sync,
)

REASONS_TABLE = Table(
    name="sync_reject_reasons",
    title="Top reject reasons",
    columns=(
        Column("sync_name", "Sync"), Column("reason", "Reason", "prose"),
        Column("records", "Records", "int"), Column("last_seen_at", "Last seen", "ts")),
    source_sql=("select sync_name, coalesce(reason, '(no reason given)') as reason, "
                "count(distinct sync_key) as records, max(finished_at) as last_seen_at "
                "from reverse_etl.audit where status in ('rejected', 'dead') "
                "group by sync_name, coalesce(reason, '(no reason given)')"),
    order_by="records desc, sync_name, reason",
    filters=SYNC_FILTER, conditions=_by_sync,
)


def sync_cards(reader: Reader, wanted: str | None) -> list[dict[str, Any]]:
    """Per sync: its last finished run with that run's own counts, backlog and conflicts."""
    backlog = dict(reader.rows("select sync_name, count(*) from reverse_etl.dead_letters "
                               "where replayed_at is null group by sync_name")) \
        if reader.has_table("reverse_etl", "dead_letters") else {}
    waiting = dict(reader.rows("select sync_name, count(distinct sync_key) "
                               "from reverse_etl.conflicts where resolved_at is null "
                               "group by sync_name")) \
        if reader.has_table("reverse_etl", "conflicts") else {}
    cards = []
    for sync, status, kind, finished, summary, message, runs in reader.rows(
            "select sync_name, status, kind, finished_at, summary, message, run_count from ("
            "  select sync_name, status, kind, finished_at, summary, message, "
            "  count(*) over (partition by sync_name) as run_count, row_number() over ("
            "    partition by sync_name order by finished_at desc nulls last, started_at desc"
            "  ) as recency from reverse_etl.runs) as ranked "
            "where recency = 1 order by sync_name"):
        if wanted is not None and sync != wanted:
            continue
        try:
            counts = json.loads(summary) if summary else {}
        except ValueError:
            counts = {}
        cards.append({
            "sync": sync, "status": status, "kind": kind, "finished_at": finished,
            "message": message, "runs": int(runs),
            "counts": {k: counts.get(k) for k in COUNTS if isinstance(counts, dict)},
            "backlog": int(backlog.get(sync, 0)), "waiting": int(waiting.get(sync, 0))})
    return cards


def runs_chart(reader: Reader, now: datetime, wanted: str | None) -> str:
    """Runs per day by status over the last days."""
    since = (now - timedelta(days=HISTORY_DAYS - 1)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)
    sql = ("select cast(started_at as date), status, count(*) from reverse_etl.runs "
           "where started_at >= ?" + (" and sync_name = ?" if wanted else "") +
           " group by 1, 2")
    counts: dict[tuple[str, str], int] = {}
    for day, status, number in reader.rows(sql, (since, wanted) if wanted else (since,)):
        counts[(str(day)[:10], str(status))] = int(number)
    days = [(since + timedelta(days=i)).date().isoformat() for i in range(HISTORY_DAYS)]
    statuses = sorted({s for _, s in counts}, key=lambda s: list(STATUS_COLORS).index(s)
                      if s in STATUS_COLORS else 99)
    series = [charts.Series(s, [counts.get((d, s), 0) for d in days], (),
                            STATUS_COLORS.get(s)) for s in statuses]
    return charts.column_chart([d[5:] for d in days], series,
                               title=f"Sync runs per day by result, last {HISTORY_DAYS} days",
                               empty=f"no sync ran in the last {HISTORY_DAYS} days")


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The sync-health page."""
    values, notices = parse(raw, SYNC_FILTER)
    wanted = str(values["sync"]) if "sync" in values else None
    scope: dict[str, Value] = {**({"sync": wanted} if wanted else {}), "page": 1, "size": 25}
    tables = {}
    for table, needs in ((RUNS_TABLE, "runs"), (DEAD_LETTERS_TABLE, "dead_letters"),
                         (CONFLICTS_TABLE, "conflicts"), (REASONS_TABLE, "audit")):
        if reader.has_table("reverse_etl", needs):
            tables[table.name] = view(reader, table, scope, site.links, "syncs", site=site,
                                      paged=False)
    cards = sync_cards(reader, wanted)
    backlog_chart = charts.hbar_chart(
        [charts.Bar(c["sync"], c["backlog"], site.links.page("syncs", sync=c["sync"]))
         for c in cards], title="Dead letters waiting, by sync",
        empty="no dead letters: every rejected record was replayed or fixed")
    filters = {"sync": wanted} if wanted else {}
    return Page(
        title="Sync health",
        lead="What reverse ETL wrote back to each system: the last run and its counts, records "
             "the destination refused (dead letters, until goldloop sync replay), and "
             "conflicts a person has to decide.",
        template="syncs.html", notices=notices,
        context={"cards": cards, "tables": tables, "backlog_chart": backlog_chart,
                 "runs_chart": runs_chart(reader, site.now, wanted),
                 "filters": filters, "href": href_for(site.links, "syncs", filters),
                 "syncs": [(s, s) for s in SYNCS], "counts": COUNTS},
    )


SPEC = PageSpec("syncs", "Sync health", render, available=available,
                tables=(RUNS_TABLE, DEAD_LETTERS_TABLE, CONFLICTS_TABLE, REASONS_TABLE))
