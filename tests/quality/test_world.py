"""The suites and the recording on real marts (a 100-customer sandbox world built by dbt), the
sync they stop, and what the data-quality page shows of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from goldloop.quality.dbt_results import record_dbt_results
from goldloop.quality.run import run_suites
from goldloop.quality.suites import SUITES
from goldloop.settings import Settings
from tests.quality.conftest import execute
from tests.reports.pages import notices, table_rows, table_total


def model_counts(html: str, model: str) -> dict[str, str]:
    """The per-model table's result counts of ``model`` (empty cells: none)."""
    row = re.search(rf'<tr data-model="{model}">(.*?)</tr>', html, re.S)
    assert row, f"no per-model row for {model}"
    cells = re.findall(r'<td class="k-int">(.*?)</td>', row.group(1))
    return dict(zip(("seconds", "pass", "warn", "fail", "error", "skipped"), cells, strict=True))


def page(settings: Settings, dbt_target: Path, url: str = "/quality") -> str:
    from reports.app import create_app

    response = TestClient(create_app(settings, dbt_target=dbt_target)).get(url)
    assert response.status_code == 200, response.text
    return response.text


def test_every_suite_passes_on_the_built_marts(world_copy: Settings) -> None:
    run = run_suites(world_copy)
    assert [s.name for s in run.suites] == [s.name for s in SUITES]
    not_passing = [(o.model_name, o.check_name, o.status, o.message) for o in run.outcomes()
                   if o.status != "pass"]
    assert not_passing == []
    customers = {o.check_name: o.message for o in run.suites[0].outcomes}
    rows = execute(world_copy, "select count(*) from marts.customers")[0][0]
    assert customers["gx_unique_customer_id"] == f"customer_id is unique: {rows:,} rows checked"


def test_the_builds_dbt_tests_are_recorded_beside_the_suites(world_copy: Settings,
                                                              world: Any) -> None:
    results = world.run_results()
    tests = [r for r in results["results"] if r["unique_id"].startswith(("test.", "unit_test."))
             and r["status"] in ("pass", "fail", "warn", "error")]
    assert record_dbt_results(world_copy, world.dbt_target) == len(tests) > 100
    run_suites(world_copy, ["customers"])
    counted = dict(execute(world_copy, "select source, count(*) from quality.check_results "
                                       "group by 1"))
    assert counted == {"dbt": len(tests), "gx": 5}
    (model, runs), = execute(world_copy, "select model_name, count(distinct run_id) from "
                             "quality.check_results where check_name = "
                             "'unique_customers_customer_id' group by 1")
    assert (model, runs) == ("customers", 1)

    html = page(world_copy, world.dbt_target, "/quality?model=customers")
    shown = {r["name"]: r for r in table_rows(html, "checks")}
    assert shown["gx_unique_customer_id"]["kind"] == "expectation"
    assert shown["gx_unique_customer_id"]["status"] == "pass"
    assert "unique_customers_customer_id" in shown  # dbt's, from the build, once
    assert notices(html) == []


def test_a_bad_value_in_a_sync_feed_fails_its_suite_blocks_the_sync_and_shows_on_the_page(
        world_copy: Settings, world: Any) -> None:
    from reverse_etl.guards import GuardStop
    from reverse_etl.runner import run_sync
    from reverse_etl.spec import find_spec

    # a consent value HubSpot does not know: the planner lets it through, the suite does not
    execute(world_copy, "update marts.sync_crm__contacts set hs_email_optout = 'maybe' "
            "where sync_key = (select min(sync_key) from marts.sync_crm__contacts)")
    run = run_suites(world_copy, ["sync_crm__contacts"])
    assert run.blocked
    with pytest.raises(GuardStop, match="gx_in_set_hs_email_optout"):
        run_sync(find_spec("crm_contacts"), world_copy)  # stopped before any request

    html = page(world_copy, world.dbt_target)
    assert 'data-blocked="crm_contacts"' in html
    assert any("sync_crm__contacts (gx_in_set_hs_email_optout)" in n for n in notices(html))
    assert model_counts(html, "sync_crm__contacts")["fail"] == "1"
    failed = page(world_copy, world.dbt_target, "/quality?status=fail")
    assert table_total(failed, "checks") == 1
    assert [r["name"] for r in table_rows(failed, "checks")] == ["gx_in_set_hs_email_optout"]
    history = html[html.index('id="history"'):html.index('id="checks"')]
    assert "· fail: 1</title>" in history
