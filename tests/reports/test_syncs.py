"""Sync health, and the sync parts of the overview and data-quality pages, on reverse-ETL
bookkeeping written through reverse ETL's own state API into a copy of the world's warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from starlette.testclient import TestClient

from goldloop.settings import Settings
from reports.formats import NONE
from tests.reports.conftest import ReportWorld
from tests.reports.pages import number, table_rows, table_total


def _client(synced: Path, world: ReportWorld) -> TestClient:
    from reports.app import create_app

    return TestClient(create_app(Settings(warehouse=synced), dbt_target=world.dbt_target))


def test_sync_health_equals_the_run_log(synced: Path, world: ReportWorld) -> None:
    html = _client(synced, world).get("/syncs").text
    con = duckdb.connect(str(synced), read_only=True)
    try:
        backlog = dict(con.execute("select sync_name, count(*) from reverse_etl.dead_letters "
                                   "where replayed_at is null group by 1").fetchall())
        waiting = dict(con.execute("select sync_name, count(distinct sync_key) from "
                                   "reverse_etl.conflicts where resolved_at is null "
                                   "group by 1").fetchall())
        reasons = con.execute("select reason, count(distinct sync_key) from reverse_etl.audit "
                              "where status in ('rejected', 'dead') group by 1").fetchall()
    finally:
        con.close()
    cards = dict(re.findall(r'data-sync-card="(\w+)".*?<div class="value">(.*?)</div>', html,
                            re.S))
    assert cards == {"crm_contacts": "7", "erp_contacts": NONE, "shop_customers": "5"}
    for sync in ("crm_contacts", "erp_contacts", "shop_customers"):
        card = html[html.index(f'data-sync-card="{sync}"'):]
        assert f'data-backlog="{backlog.get(sync, 0)}"' in card[:2000]
        assert f'data-waiting="{waiting.get(sync, 0)}"' in card[:2000]
    shown = {(r["reason"], int(r["records"])) for r in table_rows(html, "sync_reject_reasons")}
    assert shown == {(reason, int(n)) for reason, n in reasons}
    assert table_total(html, "sync_conflicts") == 1 and table_total(html, "sync_runs") == 3
    assert number(re.findall(r'data-count="(\d+)"', html[:html.index('id="t-sync_dead_letters"')]
                             )[-1]) == 1
    only = _client(synced, world).get("/syncs?sync=crm_contacts").text
    assert table_total(only, "sync_runs") == 1 and 'data-sync-card="erp_contacts"' not in only


def test_overview_and_quality_show_the_syncs(synced: Path, world: ReportWorld) -> None:
    client = _client(synced, world)
    overview = client.get("/").text
    crm = re.search(r'data-sync="crm_contacts">(.*?)</div>', overview, re.S)
    erp = re.search(r'data-sync="erp_contacts">(.*?)</div>', overview, re.S)
    assert crm and 'class="badge ok">ok<' in crm.group(1)
    assert erp and 'class="badge bad">blocked<' in erp.group(1)
    quality = client.get("/quality").text
    assert 'data-blocked="erp_contacts"' in quality and "check unique_email failed" in quality
    assert ">Sync health</a>" in quality
    export = client.get("/csv/sync_dead_letters?sync=shop_customers")
    assert export.status_code == 200 and "k2" in export.text and "email is invalid" in export.text
