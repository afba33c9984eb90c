"""The breaks trend: dbt's snapshot of the breaks (run by ``dbt build``) and the charts drawn
from it on the overview and reconciliation pages.

The world's build recorded one day of history; a copy of its warehouse gets an older history
written into the snapshot table (breaks opened days ago, one fixed yesterday, one whose amount
changed), and the charts must show, day by day and kind by kind, what the test computes itself
from the snapshot's rows.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import duckdb
import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings
from reports.breaks import ALL_LABELS
from tests.reports.conftest import ReportWorld
from tests.reports.pages import money

SNAPSHOT = "snapshots.reconciliation_breaks_snapshot"
# what the snapshot copies from marts.reconciliation_breaks
BREAK_COLUMNS = ("break_id, report, break_kind, system, record_id, currency_code, "
                 "amount_difference, amount_at_stake, occurred_on")


def chart_marks(html: str, title_start: str) -> dict[tuple[str, str], str]:
    """``(day label, series) -> value`` of every mark of the chart whose title starts so."""
    start = html.index(f'aria-label="{title_start}')
    svg = html[start:html.index("</svg>", start)]
    marks = {}
    for text in re.findall(r'<rect class="bar"[^>]*><title>(.*?)</title>', svg):
        category, rest = unescape(text).split(" · ", 1)
        series, value = rest.rsplit(": ", 1)
        marks[(category, series)] = value
    return marks


def test_the_build_snapshots_every_open_break(world: ReportWorld) -> None:
    """The snapshot's open rows are marts.reconciliation_breaks, column for column."""
    open_rows = world.query(f"select {BREAK_COLUMNS} from {SNAPSHOT} where dbt_valid_to is null")
    marts = world.query(f"select {BREAK_COLUMNS} from marts.reconciliation_breaks")
    assert {row[0]: row for row in open_rows} == {row[0]: row for row in marts}
    assert len(open_rows) == len(marts)
    assert {row[2] for row in marts} >= {"leaver_active_owner", "order_missing_invoice"}
    # amounts of several kinds are at stake, in a currency; a leaver's seat has neither
    assert any(row[7] for row in marts if row[2] == "order_missing_invoice")
    assert all(row[5] and row[7] is not None for row in marts if row[2] == "order_missing_invoice")
    assert all(row[5] is None and row[7] is None for row in marts
               if row[2] == "leaver_active_owner")


def test_the_reconciliation_page_shows_the_marts_amount_at_stake(
        client: TestClient, world: ReportWorld) -> None:
    """Break by break, the page's amount at stake and currency are the mart's (no rule of its
    own): the breaks CSV and the per-kind totals."""
    mart = {b: (a, c) for b, a, c in world.query(
        "select break_id, amount_at_stake, currency_code from marts.reconciliation_breaks "
        "where report in ('orders_vs_invoices', 'deals_vs_invoices')")}
    response = client.get("/csv/breaks")
    assert response.status_code == 200, response.text
    shown = {r["break_id"]: (Decimal(r["amount_at_stake"]) if r["amount_at_stake"] else None,
                             r["currency_code"] or None)
             for r in csv.DictReader(io.StringIO(response.text))}
    assert mart and shown == mart
    # each kind's row adds up the mart's amounts, per currency ("USD 1,234.50; EUR 9.00")
    html = client.get("/reconciliation").text
    expected: dict[str, dict[str | None, str]] = {}
    for kind, currency, total in world.query(
            "select break_kind, currency_code, sum(amount_at_stake) "
            "from marts.reconciliation_breaks where report <> 'leavers_with_access' "
            "group by 1, 2"):
        expected.setdefault(kind, {})[currency] = f"{Decimal(total or 0):.2f}"
    assert len(expected) >= 3
    for kind, amounts in expected.items():
        row = re.search(rf'<tr data-kind="{kind}">.*?</tr>', html, re.S)
        assert row, kind
        cell = unescape(re.findall(r'<td class="k-money">(.*?)</td>', row.group(0))[0])
        shown_amounts = {(part.split()[0] if len(part.split()) == 2 else None): money(part)
                         for part in cell.split("; ")}
        assert shown_amounts == amounts, kind


@pytest.fixture(scope="module")
def history(world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the warehouse whose snapshot holds eleven days of history."""
    from reports.app import create_app

    copy = tmp_path_factory.mktemp("history") / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    now = datetime.now(UTC).replace(tzinfo=None)
    con = duckdb.connect(str(copy))
    try:
        ids = [b for (b,) in con.execute(
            f"select break_id from {SNAPSHOT} where break_kind <> 'leaver_active_owner' "
            "order by break_id").fetchall()]
        old, fixed, changed = ids[0], ids[1], ids[2]
        con.execute(f"update {SNAPSHOT} set dbt_valid_from = ? where break_id = ?",
                    [now - timedelta(days=5), old])
        con.execute(f"update {SNAPSHOT} set dbt_valid_from = ?, dbt_valid_to = ? "
                    "where break_id = ?", [now - timedelta(days=3), now - timedelta(days=1),
                                           fixed])
        # an earlier version of `changed`, ten days ago, with another amount, closed 4 days ago
        con.execute(f"insert into {SNAPSHOT} by name select * replace (amount_at_stake + 100 "
                    "as amount_at_stake, dbt_scd_id || 'v0' as dbt_scd_id, ? as dbt_valid_from, "
                    f"? as dbt_valid_to) from {SNAPSHOT} where break_id = ?",
                    [now - timedelta(days=10), now - timedelta(days=4), changed])
        con.execute(f"update {SNAPSHOT} set dbt_valid_from = ? where break_id = ? "
                    "and dbt_valid_to is null", [now - timedelta(days=4), changed])
        rows = con.execute(f"select break_kind, amount_at_stake, dbt_valid_from, dbt_valid_to "
                           f"from {SNAPSHOT}").fetchall()
    finally:
        con.close()
    client = TestClient(create_app(Settings(warehouse=copy), dbt_target=world.dbt_target))
    return {"client": client, "rows": rows, "today": now.date(), "warehouse": copy}


def expected_per_day(rows: list[tuple[Any, ...]], today: date,
                     amounts: bool = False) -> dict[tuple[str, str], Decimal]:
    """Per (day, kind label): breaks open at the day's end (or their amount), from raw rows."""
    first = min(r[2] for r in rows).date()
    found: Counter[tuple[str, str]] = Counter()
    day = first
    while day <= today:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time())
        for kind, amount, valid_from, valid_to in rows:
            if valid_from < end and (valid_to is None or valid_to >= end):
                found[(f"{day:%m-%d}", ALL_LABELS[kind])] += (amount or 0) if amounts else 1
        day += timedelta(days=1)
    return {key: Decimal(value) for key, value in found.items() if value}


def test_overview_charts_breaks_open_each_day_by_kind(history: dict[str, Any]) -> None:
    html = history["client"].get("/").text
    assert 'data-history="11"' in html  # ten days back to today
    shown = chart_marks(html, "Breaks open at the end of each day")
    expected = expected_per_day(history["rows"], history["today"])
    assert {k: Decimal(v.replace(",", "")) for k, v in shown.items()} == expected
    # the day the fixed break was still open shows one more of its kind than today
    assert len({day for day, _ in expected}) == 11
    for tile in ("Orders &amp; deals not matching invoices", "Leavers past the access policy"):
        start = html.index(f'data-tile="{tile}"')
        block = html[start:html.index("data-tile=", start + 10)]
        assert "<polyline" in block, f"{tile}: no sparkline"


def test_reconciliation_charts_counts_and_amount_at_stake_per_day(
        history: dict[str, Any]) -> None:
    html = history["client"].get("/reconciliation").text
    rows = [r for r in history["rows"] if r[0] != "leaver_active_owner"]
    counts = chart_marks(html, "Open breaks at the end of each day")
    assert {k: Decimal(v) for k, v in counts.items()} == expected_per_day(rows, history["today"])
    amounts = chart_marks(html, "Amount at stake at the end of each day")
    assert {k: Decimal(v.replace(",", "")) for k, v in amounts.items()} == expected_per_day(
        rows, history["today"], amounts=True)


def test_without_the_snapshot_the_pages_say_the_history_starts_next_build(
        world: ReportWorld, tmp_path: Path) -> None:
    from reports.app import create_app

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute(f"drop table {SNAPSHOT}")
    con.close()
    client = TestClient(create_app(Settings(warehouse=copy), dbt_target=world.dbt_target))
    for url in ("/", "/reconciliation"):
        response = client.get(url)
        assert response.status_code == 200
        assert 'data-history="none"' in response.text
        assert "the next one" in response.text
