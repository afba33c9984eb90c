"""Sync health, and the sync parts of the overview and data-quality pages, on reverse-ETL
bookkeeping written through reverse ETL's own state API into a copy of the world's warehouse."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings, Target
from reports.formats import NONE
from tests.reports.conftest import ReportWorld
from tests.reports.pages import number, table_rows, table_total


@pytest.fixture(scope="module")
def synced(world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's warehouse plus the run log, audit, dead letters and conflicts of 3 runs."""
    from reverse_etl import state

    copy = tmp_path_factory.mktemp("synced") / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    con = duckdb.connect(str(copy))
    duck: Target = "duckdb"
    state.ensure_tables(con, duck)
    state.start_run(con, duck, "run-1", "crm_contacts", "run")
    state.finish_run(con, duck, "run-1", "ok", {"processed": 7, "inserted": 5, "updated": 2,
                                                "rejected": 0})
    state.start_run(con, duck, "run-2", "erp_contacts", "run")
    state.finish_run(con, duck, "run-2", "blocked", {}, "check unique_email failed")
    state.start_run(con, duck, "run-3", "shop_customers", "run")
    now = datetime(2026, 1, 2, 3, 4, 5)
    state.write_audit(con, duck, "shop_customers", [
        state.AuditRow("run-3", key, None, "insert", status, reason, None, 422, 3, None, now,
                       now)
        for key, status, reason in [("k1", "rejected", "email is invalid"),
                                    ("k2", "dead", "email is invalid"),
                                    ("k3", "rejected", "phone is invalid"),
                                    ("k4", "ok", None)]])
    state.write_dead_letters(con, duck, "shop_customers", "run-3", [
        state.DeadLetter("k2", None, "h", "{}", "email is invalid", 3)])
    state.write_conflicts(con, duck, "shop_customers", "run-3", [
        ("k5", "northwind/1", "changed_in_destination", "email changed in the shop")])
    state.finish_run(con, duck, "run-3", "partial", {"processed": 5, "inserted": 1,
                                                     "updated": 0, "rejected": 3})
    con.close()
    return copy


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
