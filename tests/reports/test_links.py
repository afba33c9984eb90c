"""Links between the report site and Dagster's UI, both ways.

Served pages link the assets they read in the Dagster UI (``GOLDLOOP_DAGSTER_URL``); the static
copy does not (it is read where no Dagster runs). Orchestration calls :func:`report_url` and
:func:`report_url_for_asset` for the report link in an asset's metadata.
"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from goldloop.errors import ConfigError
from reports.links import report_url, report_url_for_asset
from tests.reports.conftest import ReportWorld, StaticSite


def dagster_links(html: str) -> dict[str, str]:
    """``asset key -> href`` of every Dagster link on a page."""
    return {key: href for href, key in re.findall(
        r'<a [^>]*href="([^"]+)"[^>]*data-dagster="([^"]+)"', html)}


@pytest.fixture(scope="module")
def dagster_client(world: ReportWorld) -> TestClient:
    """The app with Dagster's UI somewhere else than the default."""
    from reports.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOLDLOOP_DAGSTER_URL", "http://dagster.example:3333/")
        return TestClient(create_app(world.settings, dbt_target=world.dbt_target))


def test_pages_link_their_assets_in_dagster(client: TestClient, world: ReportWorld,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLDLOOP_DAGSTER_URL", raising=False)
    links = dagster_links(client.get("/customers").text)
    assert links["dbt/customers"] == "http://127.0.0.1:3000/assets/dbt/customers"
    assert links["dbt/customer_xref"] == "http://127.0.0.1:3000/assets/dbt/customer_xref"
    reconciliation = dagster_links(client.get("/reconciliation").text)
    assert {"dbt/orders_vs_invoices", "dbt/deals_vs_invoices",
            "dbt/reconciliation_breaks_snapshot"} <= set(reconciliation)
    overview = dagster_links(client.get("/").text)
    assert overview["crm"] == "http://127.0.0.1:3000/assets/crm"  # every crm/... asset
    marts = {m for (m,) in world.query("select table_name from information_schema.tables "
                                       "where table_schema = 'marts'")}
    dictionary = dagster_links(client.get("/dictionary").text)
    assert {"dbt/customers", "dbt/orders_vs_invoices", "dbt/sync_crm__contacts"} <= set(
        dictionary) and {k.split("/")[1] for k in dictionary} <= marts
    metric = dagster_links(client.get("/metrics?metric=revenue").text)
    assert metric["dbt/orders"].endswith("/assets/dbt/orders")


def test_the_dagster_address_comes_from_the_environment(dagster_client: TestClient) -> None:
    links = dagster_links(dagster_client.get("/conflicts").text)
    assert links == {"dbt/customer_field_conflicts":
                     "http://dagster.example:3333/assets/dbt/customer_field_conflicts"}


def test_dagster_links_can_be_switched_off_and_a_bad_address_is_refused(
        world: ReportWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from reports.app import create_app

    monkeypatch.setenv("GOLDLOOP_DAGSTER_URL", "off")
    html = TestClient(create_app(world.settings, dbt_target=world.dbt_target)).get("/").text
    assert dagster_links(html) == {}
    monkeypatch.setenv("GOLDLOOP_DAGSTER_URL", "dagster:3000")
    with pytest.raises(ConfigError, match="GOLDLOOP_DAGSTER_URL='dagster:3000' is not an"):
        create_app(world.settings, dbt_target=world.dbt_target)


def test_the_static_copy_has_no_dagster_links(static_site: StaticSite) -> None:
    for page in ("index.html", "reconciliation.html", "customers.html", "dictionary.html"):
        assert "data-dagster" not in (static_site.out / page).read_text()


def test_report_urls_for_dagster_metadata(client: TestClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLDLOOP_REPORT_URL", raising=False)
    assert report_url("index") == "http://127.0.0.1:8780/"
    assert report_url("customer", id="cus_1 2") == "http://127.0.0.1:8780/customer?id=cus_1+2"
    assert report_url_for_asset("dbt/customers") == "http://127.0.0.1:8780/customers"
    assert report_url_for_asset("sync/crm_contacts") == \
        "http://127.0.0.1:8780/syncs?sync=crm_contacts"
    assert report_url_for_asset("dbt/reconciliation_breaks_snapshot") == \
        "http://127.0.0.1:8780/reconciliation"
    assert report_url_for_asset("shop/orders") == "http://127.0.0.1:8780/"
    assert report_url_for_asset("dbt/invoices") == \
        "http://127.0.0.1:8780/dictionary?model=invoices"
    monkeypatch.setenv("GOLDLOOP_REPORT_URL", "https://reports.example/goldloop/")
    assert report_url("reconciliation", kind="duplicate_invoice") == \
        "https://reports.example/goldloop/reconciliation?kind=duplicate_invoice"
    with pytest.raises(ConfigError, match="no report page called 'recon'"):
        report_url("recon")
    # every URL handed out opens a page on the server (the path, against the test client)
    for key in ("dbt/customers", "dbt/orders_vs_invoices", "dbt/leavers_with_access",
                "dbt/customer_field_conflicts", "dbt/invoices", "crm/contacts"):
        url = report_url_for_asset(key)
        assert url is not None
        path = url.removeprefix("https://reports.example/goldloop")
        assert client.get(path).status_code == 200, path
