"""The erp connector against the Xero emulator: counts, values, incremental runs, soft deletes.

Each test serves a freshly seeded emulator on a loopback port and loads it with the real runner
(``pipelines.run.extract_system``) into a DuckDB file in ``tmp_path``; the Postgres variant loads
into a throw-away database.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
import yaml
from openapi_core import OpenAPI

import pipelines.erp
from goldloop.settings import Settings
from pipelines.common.summary import SystemSummary
from pipelines.erp.client import connections_url_for, discover_tenant
from pipelines.run import extract_system
from sandbox.erp.dates import parse_ms_json
from sandbox.store import Doc
from sandbox.webhooks import now_ms
from sandbox.world.model import World
from tests.contract.openapi_check import SPECS, check
from tests.pipelines.sandbox_server import RunningSystem, serve_system, small_world
from tests.pipelines.warehouses import rows

# raw table (= the emulator's store object) → its key column
KEYS: dict[str, str] = {"contacts": "contact_id", "invoices": "invoice_id",
                        "payments": "payment_id", "items": "item_id",
                        "credit_notes": "credit_note_id"}


@functools.lru_cache(maxsize=1)
def world() -> World:
    return small_world("erp")


@dataclass
class ErpRun:
    """A seeded Xero emulator, the warehouse it loads into, and the runner's working dir."""

    sandbox: RunningSystem
    settings: Settings
    dlt_dir: Path

    def extract(self, **kwargs: Any) -> SystemSummary:
        return extract_system("erp", settings=self.settings, pipelines_dir=self.dlt_dir,
                              **kwargs)

    def sql(self, text: str) -> list[tuple[Any, ...]]:
        return rows(self.settings, text)

    def docs(self, obj: str, where: str = "1=1", params: tuple[Any, ...] = ()) -> list[Doc]:
        return self.sandbox.ctx.store.query(obj, where, params)



def erp_config_env(sandbox: RunningSystem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the connector at the emulator through dlt's env-var config and secrets."""
    monkeypatch.setenv("SOURCES__ERP__BASE_URL", sandbox.base_url)
    monkeypatch.setenv("SOURCES__ERP__CONNECTIONS_URL", f"{sandbox.root}/connections")
    monkeypatch.setenv("SOURCES__ERP__ACCESS_TOKEN", sandbox.credentials.erp_token)
    monkeypatch.setenv("SOURCES__ERP__TENANT_ID", sandbox.credentials.erp_tenant_id)
    monkeypatch.setenv("SOURCES__ERP__REQUESTS_PER_SECOND", "0")
    monkeypatch.setenv("SOURCES__ERP__BACKOFF_FACTOR", "0.005")
    monkeypatch.setenv("SOURCES__ERP__PAGE_SIZE", "100")  # several pages per object


@contextmanager
def running_erp(tmp_path: Path, settings: Settings,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[ErpRun]:
    with serve_system("erp", world(), tmp_path / "sandbox") as sandbox:
        erp_config_env(sandbox, monkeypatch)
        yield ErpRun(sandbox, settings, tmp_path / "dlt")


@pytest.fixture
def erp(tmp_path: Path, duckdb_warehouse: Settings,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[ErpRun]:
    with running_erp(tmp_path, duckdb_warehouse, monkeypatch) as run:
        yield run


def ids_in_load(run: ErpRun, table: str, load_id: str) -> set[str]:
    rows = run.sql(f"SELECT {KEYS[table]} FROM raw_erp.{table} WHERE _dlt_load_id = '{load_id}'")
    return {r[0] for r in rows}


def rows_in_load(run: ErpRun, table: str, load_id: str) -> int:
    """Rows one load wrote (counted in the warehouse: dlt's csv writer for Postgres counts
    cells, not rows, in the normalize metrics)."""
    rows = run.sql(f"SELECT count(*) FROM raw_erp.{table} WHERE _dlt_load_id = '{load_id}'")
    return int(rows[0][0])


def flagged(run: ErpRun, table: str) -> set[str]:
    rows = run.sql(f"SELECT {KEYS[table]} FROM raw_erp.{table} WHERE _goldloop_deleted")
    return {r[0] for r in rows}


# -- the whole incremental life cycle, on both warehouses ---------------------------------------
def test_full_then_nothing_then_exactly_the_changes(tmp_path: Path, warehouse: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with running_erp(tmp_path, warehouse, monkeypatch) as run:
        sent = record_requests(monkeypatch, pipelines.erp)
        counts = run.sandbox.counts()
        first = run.extract()

        # full load = the emulator's own counts, archived / voided / deleted ones flagged
        for table in KEYS:
            rows = run.sql("SELECT count(*), count(DISTINCT "
                           f"{KEYS[table]}), sum(CASE WHEN _goldloop_deleted THEN 1 ELSE 0 END) "
                           f"FROM raw_erp.{table}")
            total, archived = counts[table]["total"], counts[table]["archived"]
            assert rows[0] == (total, total, archived), table
        assert first.retries == 0

        # nothing changed: nothing loads, though the lag window is read again
        second = run.extract()
        assert second.rows_loaded == 0
        assert second.requests >= len(KEYS)

        # 1 % changes: the next run loads exactly the changed records, no more, no less;
        # then 10 % (enough to archive contacts), the same again
        for fraction, seed in ((0.01, 1), (0.1, 2)):
            before = now_ms()
            changes = run.sandbox.mutate(fraction, seed=seed)
            assert changes["contacts_updated"] > 0
            loaded = run.extract()
            for table in KEYS:
                changed = {d.id for d in run.docs(table, "updated_ms >= ?", (before,))}
                assert ids_in_load(run, table, loaded.load_ids[-1]) == changed, table
                assert rows_in_load(run, table, loaded.load_ids[-1]) == len(changed), table
        assert changes["contacts_archived"] > 0 and changes["items_deleted"] > 0

        # archived contacts, voided / deleted invoices and credit notes: flagged, never dropped
        for table, status_field, statuses in (
                ("contacts", "ContactStatus", ("ARCHIVED", "GDPRREQUEST")),
                ("invoices", "Status", ("DELETED", "VOIDED")),
                ("credit_notes", "Status", ("DELETED", "VOIDED")),
                ("payments", "Status", ("DELETED",))):
            served = run.docs(table)
            expected = {d.id for d in served if d.body.get(status_field) in statuses}
            assert flagged(run, table) == expected, table
            rows = run.sql(f"SELECT count(*) FROM raw_erp.{table}")
            assert rows[0][0] == len(served), table
        # items Xero deleted (gone from GET /Items) are found by the sweep and flagged
        assert flagged(run, "items") == {d.id for d in run.docs("items", "archived = 1")}
        assert run.extract().rows_loaded == 0

    # one client, two servers: every request, full and If-Modified-Since, is valid per Xero's spec
    assert any("If-Modified-Since" in r.headers for r in sent)
    assert_requests_match(sent, "xero/xero_accounting.yaml", "/api.xro/2.0",
                          ["/Contacts", "/Invoices", "/Payments", "/Items", "/CreditNotes"])


# -- values ------------------------------------------------------------------------------------
def served(run: ErpRun, path: str, envelope: str, key: str,
           **params: Any) -> dict[str, dict[str, Any]]:
    """Every record the emulator serves at ``path`` (numbers as exact decimals), by id."""
    headers = {"Authorization": f"Bearer {run.sandbox.credentials.erp_token}",
               "xero-tenant-id": run.sandbox.credentials.erp_tenant_id}
    found: dict[str, dict[str, Any]] = {}
    for page in range(1, 1000):
        response = httpx.get(f"{run.sandbox.base_url}/{path}", headers=headers,
                             params={**params, "page": page, "pageSize": 1000})
        response.raise_for_status()
        records = response.json(parse_float=Decimal)[envelope]
        found.update({r[key]: r for r in records})
        if not records or path == "Items":
            break
    return found


def test_values_round_trip(erp: ErpRun) -> None:
    edited = erp.docs("contacts", "archived = 0")[0]
    edited.body.update(Name="Zoë Ångström-Øre 山田 GmbH", FirstName="Zoë")
    erp.sandbox.ctx.store.put("contacts", edited)
    erp.extract()

    contacts = served(erp, "Contacts", "Contacts", "ContactID", includeArchived="true")
    rows = erp.sql("SELECT contact_id, name, first_name, email_address, updated_date_utc "
                   "FROM raw_erp.contacts")
    assert {r[0] for r in rows} == set(contacts)
    for contact_id, name, first, email, updated in rows:
        body = contacts[contact_id]
        assert (name, first, email) == (body["Name"], body.get("FirstName"),
                                        body.get("EmailAddress"))
        # MS-JSON "/Date(ms+0000)/" becomes the same instant as a UTC timestamp
        assert updated == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=parse_ms_json(body["UpdatedDateUTC"]))
    assert erp.sql("SELECT name FROM raw_erp.contacts "
                   f"WHERE contact_id = '{edited.id}'") == [("Zoë Ångström-Øre 山田 GmbH",)]

    invoices = served(erp, "Invoices", "Invoices", "InvoiceID")
    rows = erp.sql("SELECT invoice_id, invoice_number, total, amount_due, date, type, "
                   "contact__contact_id FROM raw_erp.invoices")
    assert {r[0] for r in rows} == set(invoices)
    for invoice_id, number, total, due, date, kind, contact_id in rows:
        body = invoices[invoice_id]
        assert (number, kind, contact_id) == (body["InvoiceNumber"], body["Type"],
                                              body["Contact"]["ContactID"])
        assert (total, due) == (body["Total"], body["AmountDue"])  # exact, not floats
        assert int(date.timestamp() * 1000) == parse_ms_json(body["Date"])

    # line items land as a child table with exact amounts
    lines = erp.sql("SELECT i.invoice_id, l.line_item_id, l.unit_amount, l.quantity "
                    "FROM raw_erp.invoices__line_items l "
                    "JOIN raw_erp.invoices i ON l._dlt_parent_id = i._dlt_id")
    served_lines = {(i, li["LineItemID"]): (li["UnitAmount"], li["Quantity"])
                    for i, body in invoices.items() for li in body["LineItems"]}
    assert {(r[0], r[1]): (r[2], r[3]) for r in lines} == served_lines

    items = served(erp, "Items", "Items", "ItemID")
    rows = erp.sql("SELECT item_id, code, sales_details__unit_price FROM raw_erp.items")
    assert {r[0]: (r[1], r[2]) for r in rows} == {
        i: (b["Code"], b["SalesDetails"]["UnitPrice"]) for i, b in items.items()}


def test_the_tenant_is_found_through_connections(erp: ErpRun) -> None:
    credentials = erp.sandbox.credentials
    url = connections_url_for(erp.sandbox.base_url)
    assert url == f"{erp.sandbox.root}/connections"
    assert discover_tenant(requests.Session(), url, credentials.erp_token) == (
        credentials.erp_tenant_id)
    with pytest.raises(requests.HTTPError):
        discover_tenant(requests.Session(), url, "not-a-token")


# -- backfill window ---------------------------------------------------------------------------
def test_start_end_window_loads_only_that_window(erp: ErpRun,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # no tenant configured: the connector finds it through Xero identity's GET /connections
    monkeypatch.setenv("SOURCES__ERP__TENANT_ID", "")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 6, 1, tzinfo=UTC)
    erp.extract(start=start, end=end)
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    loaded = {r[0] for r in erp.sql("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'raw_erp'")}
    for table in KEYS:
        expected = {d.id for d in erp.docs(table, "updated_ms >= ? AND updated_ms < ?",
                                           (lo, hi))}
        rows = erp.sql(f"SELECT {KEYS[table]} FROM raw_erp.{table}") if table in loaded else []
        assert {r[0] for r in rows} == expected, table
    assert erp.sql("SELECT count(*) FROM raw_erp.invoices")[0][0] > 0


# -- one client, two servers -------------------------------------------------------------------
SPEC_HOST = "https://api.example.com"


def request_only_spec(spec_file: str, server_path: str, paths: list[str]) -> OpenAPI:
    """The vendor spec cut down to the GET operations a connector calls, for request checks.

    Responses and schemas are dropped (the emulators' contract tests check those); parameters,
    security and the operations stay unchanged.
    """
    text = (SPECS / spec_file).read_text()
    spec = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    kept: dict[str, Any] = {}
    for path in paths:
        item = {k: v for k, v in spec["paths"][path].items() if k in ("get", "parameters")}
        item["get"] = {**item["get"], "responses": {"200": {"description": "OK"}}}
        kept[path] = item
    components = spec.get("components", {})
    return OpenAPI.from_dict({
        "openapi": spec["openapi"], "info": spec["info"],
        "servers": [{"url": SPEC_HOST + server_path}], "paths": kept,
        "components": {k: components[k] for k in ("parameters", "securitySchemes")
                       if k in components},
    })


def record_requests(monkeypatch: pytest.MonkeyPatch,
                    source_module: ModuleType) -> list[requests.PreparedRequest]:
    """Record every request the connector sends, retries included (the list fills as it runs)."""
    sent: list[requests.PreparedRequest] = []
    make_session = source_module.paced_session

    def recording_session(*args: Any, **kwargs: Any) -> requests.Session:
        session = make_session(*args, **kwargs)
        send = session.send

        def recording_send(request: requests.PreparedRequest, **options: Any) -> Any:
            sent.append(request)
            return send(request, **options)

        session.send = recording_send  # type: ignore[method-assign]
        return session

    monkeypatch.setattr(source_module, "paced_session", recording_session)
    return sent


def assert_requests_match(sent: list[requests.PreparedRequest], spec_file: str,
                          server_path: str, paths: list[str], strip: str = "") -> None:
    """Every sent request (host swapped, regex ``strip`` cut from the path) is valid per spec."""
    api = request_only_spec(spec_file, server_path, paths)
    assert sent
    for request in sent:
        parts = urlsplit(request.url or "")
        path = re.sub(strip, "", parts.path, count=1) if strip else parts.path
        as_sent = httpx.Request(request.method or "GET", f"{SPEC_HOST}{path}?{parts.query}",
                                headers=dict(request.headers))
        problems = check(api, httpx.Response(200, request=as_sent), host_url=SPEC_HOST,
                         request_only=True)
        assert problems == [], (request.url, problems)


# -- deleted items -----------------------------------------------------------------------------
def test_items_xero_deletes_are_flagged_with_their_last_values(
        erp: ErpRun, monkeypatch: pytest.MonkeyPatch) -> None:
    erp.extract()
    gone = erp.docs("items", "archived = 0")[:2]
    ids = "', '".join(d.id for d in gone)
    last_known = erp.sql("SELECT item_id, code, name, sales_details__unit_price "
                         f"FROM raw_erp.items WHERE item_id IN ('{ids}') ORDER BY item_id")
    for doc in gone:  # Xero deletes an Item for real: the emulator stops listing it
        erp.sandbox.ctx.store.put("items", Doc(doc.id, now_ms(), doc.body, archived=True,
                                               key=doc.key))
    served = httpx.get(f"{erp.sandbox.base_url}/Items", headers={
        "Authorization": f"Bearer {erp.sandbox.credentials.erp_token}",
        "xero-tenant-id": erp.sandbox.credentials.erp_tenant_id}).json()["Items"]
    assert not {d.id for d in gone} & {i["ItemID"] for i in served}

    summary = erp.extract()
    items = next(t for t in summary.tables if t.table == "items")
    assert (items.rows_loaded, items.rows_flagged_deleted) == (2, 2)
    rows = erp.sql("SELECT item_id, code, name, sales_details__unit_price "
                   "FROM raw_erp.items WHERE _goldloop_deleted ORDER BY item_id")
    assert rows == last_known and len(rows) == 2  # flagged, with their last known values
    live = erp.sql("SELECT count(*) FROM raw_erp.items WHERE NOT _goldloop_deleted")
    assert live[0][0] == len(served)
    assert erp.extract().rows_loaded == 0  # found once, not again

    # a full refresh replaces the tables: the deleted items survive it, flagged
    erp.extract(full_refresh=True)
    rows = erp.sql("SELECT item_id FROM raw_erp.items WHERE _goldloop_deleted")
    assert sorted(r[0] for r in rows) == sorted(d.id for d in gone)

    # the sweep can be turned off (sources.erp.item_delete_sweep)
    monkeypatch.setenv("SOURCES__ERP__ITEM_DELETE_SWEEP", "false")
    requests_before = erp.extract().requests
    monkeypatch.delenv("SOURCES__ERP__ITEM_DELETE_SWEEP")
    assert erp.extract().requests == requests_before + 1  # the sweep costs one request
