"""Bad input gets a clear message on a normal page: unknown ids, malformed filters, injection
attempts, unknown pages and tables, a server bound beyond loopback without a token."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from goldloop.errors import ConfigError
from reports.db import Reader
from tests.reports.conftest import ReportWorld
from tests.reports.pages import notices, table_rows, table_total

INJECTIONS = [
    "' OR 1=1 --",
    "x'); DROP TABLE marts.customers; --",
    "%",
    "_",
    "\\",
    '" or ""="',
    "cus_%' union select * from information_schema.tables --",
    "\x00\x1b[31m\u202e",
    "a" * 5000,
]


def _no_error_page(html: str) -> None:
    assert "Traceback" not in html and "Internal Server Error" not in html
    assert "<nav class=\"menu\"" in html  # the site's own layout, not a bare error


def test_unknown_customer_id_says_so_and_offers_search(client: TestClient) -> None:
    response = client.get("/customer", params={"id": "cus_does_not_exist"})
    assert response.status_code == 404
    _no_error_page(response.text)
    assert "No golden customer has the id &#39;cus_does_not_exist&#39;." in response.text
    assert 'name="q"' in response.text


def test_a_record_id_instead_of_a_customer_id_points_to_its_customer(
        client: TestClient, world: ReportWorld) -> None:
    record_id, customer_id = world.query(
        "select record_id, customer_id from marts.customer_xref where system = 'crm' "
        "order by record_id limit 1")[0]
    html = client.get("/customer", params={"id": record_id}).text
    assert f"/customer?id={customer_id}" in html


def test_customer_page_without_an_id_asks_for_one(client: TestClient) -> None:
    response = client.get("/customer")
    assert response.status_code == 200
    assert "Which customer?" in response.text


@pytest.mark.parametrize(("query", "message"), [
    ("kind=not_a_kind", "Ignored kind 'not_a_kind': choose one of"),
    ("page=-3", "Ignored page '-3': expected a whole number"),
    ("page=1%20or%201%3D1", "Ignored page '1 or 1=1'"),
    ("size=7", "Ignored size '7': expected one of 25, 50, 100, 200"),
    ("month=2026-13", "Ignored month '2026-13': expected a month as YYYY-MM"),
    ("system=erp%27--", "Ignored system 'erp'--'"),
    ("colour=red", "Ignored unknown parameter(s): colour"),
])
def test_malformed_filters_are_ignored_with_a_notice(client: TestClient, world: ReportWorld,
                                                     query: str, message: str) -> None:
    response = client.get(f"/reconciliation?{query}")
    assert response.status_code == 200
    _no_error_page(response.text)
    assert any(message in n for n in notices(response.text)), notices(response.text)
    assert table_total(response.text, "breaks") == world.scalar(
        "select (select count(*) from marts.orders_vs_invoices) + "
        "(select count(*) from marts.deals_vs_invoices)")


def test_a_page_past_the_end_shows_the_last_page(client: TestClient) -> None:
    html = client.get("/customers?page=9999999").text
    assert table_rows(html, "customers")
    assert notices(html) == []


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_attempts_in_search_find_nothing_and_break_nothing(
        client: TestClient, world: ReportWorld, monkeypatch: pytest.MonkeyPatch,
        text: str) -> None:
    executed: list[str] = []
    original = Reader.rows

    def spy(self: Reader, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        executed.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(Reader, "rows", spy)
    for page in ("/customers", "/conflicts", "/reconciliation"):
        response = client.get(page, params={"q": text})
        assert response.status_code == 200
        _no_error_page(response.text)
    assert executed
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if len(cleaned) > 3:
        assert not any(cleaned[:40] in sql for sql in executed)
    # wildcards match themselves, literally (an unescaped % would match every customer)
    literal = world.scalar(
        "select count(*) from marts.customers where strpos(lower(coalesce(email, '')), ?) > 0 "
        "or strpos(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), ?) > 0",
        [text, text]) if text in ("%", "_", "\\") else 0
    found = table_total(client.get("/customers", params={"q": text}).text, "customers")
    assert found == literal < world.scalar("select count(*) from marts.customers")


def test_long_search_text_is_cut_with_a_notice(client: TestClient) -> None:
    html = client.get("/customers", params={"q": "a" * 500}).text
    assert "The search was cut to 100 characters." in notices(html)


def test_unknown_page_and_table_get_a_clear_message(client: TestClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "There is no page called &#39;no-such-page&#39;" in page.text
    export = client.get("/csv/no_such_table")
    assert export.status_code == 404
    assert "There is no table called 'no_such_table' to export" in export.text


def test_csv_export_refuses_a_malformed_filter(client: TestClient) -> None:
    response = client.get("/csv/breaks?kind=nope")
    assert response.status_code == 400
    assert response.text.startswith("Nothing exported: Ignored kind 'nope'")


def test_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    from reports.tables import _defused

    assert _defused("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert _defused("+14155550123") == "+14155550123"


def test_missing_warehouse_gives_a_message_not_a_traceback(tmp_path: Any) -> None:
    from goldloop.settings import Settings
    from reports.app import create_app

    app = create_app(Settings(warehouse=tmp_path / "absent.duckdb"), dbt_target=tmp_path)
    response = TestClient(app).get("/reconciliation")
    assert response.status_code == 503
    _no_error_page(response.text)
    assert "no warehouse at" in response.text and "goldloop extract all" in response.text


def test_binding_beyond_loopback_needs_a_token() -> None:
    from reports.server import check_bind

    with pytest.raises(ConfigError, match=r"refusing to serve the reports on 0\.0\.0\.0"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ConfigError, match="too short"):
        check_bind("0.0.0.0", "short")
    assert check_bind("0.0.0.0", "a-long-enough-secret") == "a-long-enough-secret"
    assert check_bind("127.0.0.1", None) is None


def test_a_token_protects_every_page_and_export(world: ReportWorld) -> None:
    from reports.app import COOKIE, create_app

    token = "correct-horse-battery-staple"
    client = TestClient(create_app(world.settings, dbt_target=world.dbt_target, token=token))
    for url in ("/", "/customers?q=a", "/csv/customers"):
        response = client.get(url)
        assert response.status_code == 401
        assert 'type="password"' in response.text
        assert "cus_" not in response.text
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    wrong = client.post("/login", data={"token": "nope", "next": "/customers"})
    assert wrong.status_code == 401 and "That token is not right." in wrong.text
    right = client.post("/login", data={"token": token, "next": "//evil.example/"},
                        follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert token not in right.headers["set-cookie"]
    assert client.cookies.get(COOKIE)
    assert client.get("/csv/customers").status_code == 200


def test_a_warehouse_not_built_yet_says_what_to_run(tmp_path: Any) -> None:
    import duckdb

    from goldloop.settings import Settings
    from reports.app import create_app

    warehouse = tmp_path / "extracted.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw_crm")
    con.execute("create table raw_crm.contacts (id varchar)")
    con.close()
    client = TestClient(create_app(Settings(warehouse=warehouse), dbt_target=tmp_path))
    for page in ("/", "/reconciliation", "/customers", "/customer?id=x", "/conflicts",
                 "/compliance"):
        response = client.get(page)
        assert response.status_code == 503
        _no_error_page(response.text)
        assert "which this warehouse does not have yet: run `goldloop build`" in response.text
    quality = client.get("/quality")
    assert quality.status_code == 200 and "No dbt build results in" in quality.text
    assert ">Metrics</a>" not in quality.text  # no semantic layer, no Metrics page
    assert client.get("/metrics").status_code == 404
