"""The numbers on every page equal a direct query of the warehouse, written here independently.

Each test renders a page through the app (in-process) and reads its figures back from the HTML
or the CSV export; the expected figure is computed by the test's own SQL against the same
DuckDB file, or by reading dbt's run_results.json.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from html import escape
from pathlib import Path

from starlette.testclient import TestClient

from goldloop.settings import Settings
from tests.reports.conftest import ReportWorld
from tests.reports.pages import money, notices, number, table_rows, table_total, tile

ALL_BREAKS = ("select break_kind, record_id from marts.orders_vs_invoices union all "
              "select break_kind, record_id from marts.deals_vs_invoices")


def _csv(client: TestClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_overview_tiles_and_loads_equal_the_warehouse(client: TestClient,
                                                     world: ReportWorld) -> None:
    html = client.get("/").text
    assert number(tile(html, "Golden customers")) == world.scalar(
        "select count(*) from marts.customers where not is_deleted")
    assert number(tile(html, "Orders & deals not matching invoices")) == world.scalar(
        f"select count(*) from ({ALL_BREAKS})")
    assert number(tile(html, "Customers with conflicting fields")) == world.scalar(
        "select count(distinct customer_id) from marts.customer_field_conflicts")
    assert number(tile(html, "Leavers past the access policy")) == world.scalar(
        "select count(*) from marts.leavers_with_access where is_policy_breached")
    for system in ("crm", "erp", "shop", "hr"):
        loads = world.scalar(f"select count(*) from raw_{system}._dlt_loads where status = 0")
        shown = re.search(rf'data-system="{system}".*?data-value="(\d+)"', html, re.S)
        assert shown and int(shown.group(1)) == loads > 0
    assert 'class="chart"' in html and "<rect class=\"bar\"" in html


def test_reconciliation_counts_and_amounts_per_kind(client: TestClient,
                                                   world: ReportWorld) -> None:
    html = client.get("/reconciliation").text
    expected = dict(world.query(f"select break_kind, count(*) from ({ALL_BREAKS}) group by 1"))
    shown = {kind: int(value) for kind, value in re.findall(
        r'<tr data-kind="(\w+)">.*?data-value="(\d+)"', html, re.S)}
    assert {k: v for k, v in shown.items() if v} == expected
    assert table_total(html, "breaks") == sum(expected.values()) > 0
    missing_stake = world.scalar(
        "select coalesce(sum(order_amount), 0) from marts.orders_vs_invoices "
        "where break_kind = 'order_missing_invoice'")
    row = re.search(r'<tr data-kind="order_missing_invoice">.*?</tr>', html, re.S)
    assert row and money(re.findall(r'<td class="k-money">(.*?)</td>', row.group(0))[0]) \
        == f"{Decimal(missing_stake):.2f}"


def test_reconciliation_filter_shows_exactly_that_kinds_records(client: TestClient,
                                                               world: ReportWorld) -> None:
    kind = world.scalar("select break_kind from marts.orders_vs_invoices "
                        "group by 1 order by count(*) desc limit 1")
    html = client.get(f"/reconciliation?kind={kind}").text
    expected = {r for (r,) in world.query(
        "select record_id from marts.orders_vs_invoices where break_kind = ?", [kind])}
    assert table_total(html, "breaks") == len(expected)
    assert {row["record_id"] for row in table_rows(html, "breaks")} == expected


def test_breaks_csv_holds_each_systems_ids_and_values(client: TestClient,
                                                      world: ReportWorld) -> None:
    rows = _csv(client, "/csv/breaks?kind=invoice_amount_mismatch")
    expected = {(o, i, f"{Decimal(a):.2f}", f"{Decimal(b):.2f}") for o, i, a, b in world.query(
        "select order_record_id, invoice_id, order_amount, invoice_amount "
        "from marts.orders_vs_invoices where break_kind = 'invoice_amount_mismatch'")}
    assert {(r["source_id"], r["invoice_id"], r["source_amount"], r["invoice_amount"])
            for r in rows} == expected
    assert expected


def test_customers_list_counts_every_golden_customer(client: TestClient,
                                                     world: ReportWorld) -> None:
    html = client.get("/customers").text
    assert table_total(html, "customers") == world.scalar("select count(*) from marts.customers")
    assert len(table_rows(html, "customers")) == 50


def test_search_finds_a_customer_by_email_name_and_record_id(client: TestClient,
                                                            world: ReportWorld) -> None:
    customer_id, email, last_name = world.query(
        "select customer_id, email, last_name from marts.customers where email is not null "
        "and last_name is not null order by customer_id limit 1")[0]
    by_email = client.get("/customers", params={"q": email.upper()}).text
    assert customer_id in {r["customer_id"] for r in table_rows(by_email, "customers")}
    by_name = client.get("/customers", params={"q": last_name}).text
    expected = world.scalar(
        "select count(*) from marts.customers where lower(coalesce(first_name, '') || ' ' || "
        "coalesce(last_name, '')) like ?", [f"%{last_name.lower()}%"])
    assert table_total(by_name, "customers") >= expected >= 1
    shop_record, owner = world.query(
        "select record_id, customer_id from marts.customer_xref where system = 'shop' "
        "order by record_id limit 1")[0]
    by_record = client.get("/customers", params={"q": shop_record}).text
    assert [r["customer_id"] for r in table_rows(by_record, "customers")] == [owner]


def test_customer_360_shows_golden_values_and_every_record(client: TestClient,
                                                           world: ReportWorld) -> None:
    customer_id = world.scalar(
        "select customer_id from marts.customer_field_conflicts group by 1 "
        "order by count(*) desc, customer_id limit 1")
    html = client.get("/customer", params={"id": customer_id}).text
    email, source, first_name = world.query(
        "select email, email__source, first_name from marts.customers where customer_id = ?",
        [customer_id])[0]
    email_row = re.search(r'<tr data-field="email">(.*?)</tr>', html, re.S)
    assert email_row and f"<td data-golden>{email}</td><td>{source}</td>" in email_row.group(1)
    assert f"<td data-golden>{escape(first_name)}</td>" in html
    records = world.query("select record_id from marts.customer_xref where customer_id = ?",
                          [customer_id])
    assert table_total(html, "customer_records") == len(records)
    assert {r["record_id"] for r in table_rows(html, "customer_records")} == {
        r for (r,) in records}
    assert table_total(html, "conflicts") == world.scalar(
        "select count(*) from marts.customer_field_conflicts where customer_id = ?",
        [customer_id])
    grid = _csv(client, f"/csv/customer_fields?id={customer_id}")
    assert {r["record_id"] for r in grid} == {r for (r,) in records}


def test_conflicts_per_field_equal_the_mart(client: TestClient, world: ReportWorld) -> None:
    html = client.get("/conflicts").text
    expected = dict(world.query("select field_name, count(distinct customer_id) "
                                "from marts.customer_field_conflicts group by 1"))
    for field in ("email", "phone", "address"):
        assert number(tile(html, f"{field} conflicts")) == expected.get(field, 0)
    assert table_total(html, "conflicts") == world.scalar(
        "select count(*) from marts.customer_field_conflicts")


def test_quality_counts_equal_dbt_run_results(client: TestClient, world: ReportWorld) -> None:
    results = [r for r in world.run_results()["results"]
               if r["unique_id"].startswith(("test.", "unit_test."))]
    html = client.get("/quality").text
    assert number(tile(html, "Checks passed")) == sum(r["status"] == "pass" for r in results)
    assert number(tile(html, "Warnings")) == sum(r["status"] == "warn" for r in results)
    assert number(tile(html, "Failed")) == sum(r["status"] in ("fail", "error") for r in results)
    assert table_total(html, "checks") == len(results)
    warned = client.get("/quality?status=warn").text
    assert table_total(warned, "checks") == sum(r["status"] == "warn" for r in results)


def test_compliance_lists_the_leavers_past_policy(client: TestClient, world: ReportWorld) -> None:
    html = client.get("/compliance").text
    breached = world.query("select owner_id from marts.leavers_with_access "
                           "where is_policy_breached")
    assert number(tile(html, "Past the 4-hour policy")) == len(breached)
    assert number(tile(html, "People who left")) == world.scalar(
        "select count(*) from marts.employees where is_terminated")
    shown = client.get("/compliance?status=breached").text
    assert {r["owner_id"] for r in table_rows(shown, "leavers")} == {o for (o,) in breached}


def test_dictionary_lists_every_golden_column_with_its_system_fields(
        client: TestClient, world: ReportWorld) -> None:
    columns = [c for (c,) in world.query(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'customers' order by ordinal_position")]
    rows = _csv(client, "/csv/dictionary?model=customers")
    assert [r["column_name"] for r in rows] == columns
    email = next(r for r in rows if r["column_name"] == "email")
    assert "email" in email["crm_source"] and "email" in email["shop_source"]
    html = client.get("/dictionary").text
    assert 'id="m-customers"' in html and 'id="m-sync_crm__contacts"' in html
    assert notices(html) == []


def test_metrics_are_metricflows_numbers(client: TestClient, world: ReportWorld) -> None:
    html = client.get("/metrics").text
    revenue = world.scalar("select sum(case when is_cancelled then 0 else total_amount end) "
                           "from marts.orders")
    assert tile(html, "Revenue") == f"{Decimal(revenue):,.2f}"
    assert number(tile(html, "Open reconciliation breaks")) == world.scalar(
        "select count(*) from marts.reconciliation_breaks")
    assert number(tile(html, "Customers")) == world.scalar(
        "select count(*) from marts.customers where not is_deleted and not is_business_account")
    months = {r["month"][:7]: Decimal(r["value"]) for r in _csv(
        client, "/csv/metric_months?metric=revenue") if Decimal(r["value"])}
    expected = {f"{m:%Y-%m}": Decimal(v) for m, v in world.query(
        "select date_trunc('month', ordered_at), sum(case when is_cancelled then 0 "
        "else total_amount end) from marts.orders group by 1 having sum(case when "
        "is_cancelled then 0 else total_amount end) <> 0")}
    assert months == expected
    detail = client.get("/metrics?metric=revenue").text
    assert "sum(case when is_cancelled then 0 else total_amount end)" in detail
    assert table_total(detail, "metric_months") >= len(expected)


def test_quality_history_comes_from_recorded_check_results(world: ReportWorld,
                                                           tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime, timedelta

    import duckdb

    from reports.app import create_app

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    today = datetime.now(UTC).replace(tzinfo=None)
    con = duckdb.connect(str(copy))
    con.execute("create schema quality")
    con.execute("create table quality.check_results (model_name varchar, check_name varchar, "
                "severity varchar, status varchar, checked_at timestamp)")
    con.executemany("insert into quality.check_results values (?, ?, ?, ?, ?)", [
        ("customers", "unique_customer_id", "blocking", "pass", today),
        ("customers", "email_valid", "blocking", "fail", today),
        ("orders", "unique_order_id", "warn", "pass", today - timedelta(days=1))])
    con.close()
    html = TestClient(create_app(Settings(warehouse=copy), dbt_target=world.dbt_target)).get(
        "/quality").text
    history = html[html.index('id="history"'):html.index('id="checks"')]
    bars = re.findall(r"<title>(\d\d-\d\d) · (\w+): (\d+)</title>", history)
    assert sorted(bars) == sorted([(f"{today:%m-%d}", "pass", "1"),
                                   (f"{today:%m-%d}", "fail", "1"),
                                   (f"{today - timedelta(days=1):%m-%d}", "pass", "1")])
