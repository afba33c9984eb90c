"""The Xero emulator's reads as a connector sees them: paging, incremental reads, filters, auth,
tenants and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sandbox.config import Limits
from sandbox.context import SystemContext
from sandbox.erp import ratelimit
from sandbox.erp.dates import parse_ms_json
from tests.sandbox.test_erp_seed import API, HEADERS, TENANT, open_erp, seeded_world, walk


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, SystemContext]:
    """One seeded emulator shared by the read-only tests of this module."""
    return open_erp(Path(tmp_path_factory.mktemp("erp_api")))


def updated(record: dict[str, object]) -> int:
    return parse_ms_json(str(record["UpdatedDateUTC"]))


# -- paging ------------------------------------------------------------------------------------
def test_paging_walks_every_contact_once(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    records = walk(client, "Contacts", page_size=37, includeArchived="true")
    ids = [r["ContactID"] for r in records]
    assert len(ids) == len(set(ids)) == len(seeded_world().erp.contacts)
    first = client.get(f"{API}/Contacts", params={"page": 1, "pageSize": 37,
                                                  "includeArchived": "true"}).json()
    assert first["Status"] == "OK" and first["Id"]
    assert first["pagination"] == {"page": 1, "pageSize": 37, "pageCount": -(-len(ids) // 37),
                                   "itemCount": len(ids)}
    past = client.get(f"{API}/Contacts", params={"page": 99, "pageSize": 37}).json()
    assert past["Contacts"] == []


def test_default_page_is_the_first_hundred_and_hides_archived_contacts(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    body = client.get(f"{API}/Contacts").json()
    active = [c for c in seeded_world().erp.contacts if not c.archived]
    assert body["pagination"]["itemCount"] == len(active)
    assert len(body["Contacts"]) == min(100, len(active))
    assert all(c["ContactStatus"] == "ACTIVE" for c in body["Contacts"])
    archived = walk(client, "Contacts", where='ContactStatus=="ARCHIVED"',
                    includeArchived="true")
    assert len(archived) == len(seeded_world().erp.contacts) - len(active) > 0


def test_invoice_lists_carry_line_items_only_when_paged(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    unpaged = client.get(f"{API}/Invoices").json()["Invoices"]
    paged = client.get(f"{API}/Invoices", params={"page": 1}).json()["Invoices"]
    assert unpaged and all("LineItems" not in i for i in unpaged)
    assert paged and all(i["LineItems"] for i in paged)
    one = client.get(f"{API}/Invoices/{paged[0]['InvoiceID']}").json()["Invoices"]
    assert one[0]["LineItems"] == paged[0]["LineItems"]
    by_number = client.get(f"{API}/Invoices/{paged[0]['InvoiceNumber']}").json()["Invoices"]
    assert by_number[0]["InvoiceID"] == paged[0]["InvoiceID"]


def test_items_are_not_paged_and_other_lists_are(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    items = client.get(f"{API}/Items").json()
    assert "pagination" not in items and len(items["Items"]) == len(seeded_world().erp.items)
    item = items["Items"][0]
    assert item["SalesDetails"]["UnitPrice"] > 0
    assert client.get(f"{API}/Items/{item['Code']}").json()["Items"][0]["ItemID"] == \
        item["ItemID"]
    payments = walk(client, "Payments", page_size=50)
    assert len(payments) == len(seeded_world().erp.payments)
    assert payments[0]["Invoice"]["InvoiceNumber"]
    notes = walk(client, "CreditNotes")
    assert len(notes) == len(seeded_world().erp.credit_notes)
    one = client.get(f"{API}/Payments/{payments[0]['PaymentID']}").json()["Payments"][0]
    assert one == payments[0]


def test_unknown_records_and_paths_are_404(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    missing = client.get(f"{API}/Contacts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["Status"] == 404
    assert client.get(f"{API}/Quotes").status_code == 404
    assert client.get(f"{API}/Invoices/INV-9999999").status_code == 404


# -- incremental -------------------------------------------------------------------------------
def test_if_modified_since_returns_later_changes_in_order(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    stamps = sorted(c.updated_ms for c in seeded_world().erp.contacts)
    cut = stamps[len(stamps) // 2]
    cut_second = cut - cut % 1000  # an HTTP date has whole seconds
    http_date = format_datetime(datetime.fromtimestamp(cut_second / 1000, tz=UTC), usegmt=True)
    iso = datetime.fromtimestamp(cut / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    asc = walk(client, "Contacts", page_size=20, includeArchived="true",
               order="UpdatedDateUTC ASC")
    assert [updated(c) for c in asc] == sorted(updated(c) for c in asc)
    for header, threshold in ((http_date, cut_second), (iso, cut)):
        resp = client.get(f"{API}/Contacts", headers={"If-Modified-Since": header},
                          params={"includeArchived": "true", "order": "UpdatedDateUTC ASC",
                                  "page": 1, "pageSize": 1000})
        got = [updated(c) for c in resp.json()["Contacts"]]
        assert got == sorted(s for s in stamps if s > threshold), header
    desc = client.get(f"{API}/Contacts", headers={"If-Modified-Since": iso},
                      params={"order": "UpdatedDateUTC DESC", "includeArchived": "true",
                              "pageSize": 1000}).json()["Contacts"]
    assert [updated(c) for c in desc] == sorted((s for s in stamps if s > cut), reverse=True)


def test_order_by_name_and_bad_header(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    names = [c["Name"] for c in walk(client, "Contacts", order="Name")]
    assert names == sorted(names, key=str.lower)
    numbers = [i["InvoiceNumber"] for i in walk(client, "Invoices", order="InvoiceNumber DESC")]
    assert numbers == sorted(numbers, reverse=True)
    bad = client.get(f"{API}/Contacts", headers={"If-Modified-Since": "yesterday"})
    assert bad.status_code == 400 and "If-Modified-Since" in bad.json()["Message"]


# -- filters -----------------------------------------------------------------------------------
def test_where_filters_on_contacts(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    person = next(c for c in seeded_world().erp.contacts if c.email and not c.archived
                  and c.contact_number)

    def ids(where: str) -> list[str]:
        return [c["ContactID"] for c in walk(client, "Contacts", where=where)]

    assert ids(f'EmailAddress=="{person.email.upper()}"') == [  # type: ignore[union-attr]
        c.record_id for c in seeded_world().erp.contacts
        if (c.email or "").lower() == person.email.lower() and not c.archived]  # type: ignore[union-attr]
    assert ids(f'ContactNumber=="{person.contact_number}"')[0] == person.record_id
    assert ids(f'Name=="{person.name}"') == [person.record_id]
    both = f'ContactStatus=="ACTIVE" AND Name=="{person.name}"'
    assert ids(both) == ids(both.replace(" AND ", " && ")) == [person.record_id]
    assert ids(f'ContactStatus=="ARCHIVED" && Name=="{person.name}"') == []
    assert len(ids('ContactStatus=="ACTIVE"')) == sum(not c.archived
                                                      for c in seeded_world().erp.contacts)


def test_where_and_list_parameters_on_invoices(erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    invoices = seeded_world().erp.invoices
    approved = walk(client, "Invoices", where='Status=="AUTHORISED" AND Type=="ACCREC"')
    assert len(approved) == sum(i.status == "AUTHORISED" for i in invoices) > 0
    voided = walk(client, "Invoices", Statuses="VOIDED,DELETED")
    assert {i["Status"] for i in voided} == {"VOIDED"}
    assert len(voided) == sum(i.status == "VOIDED" for i in invoices)
    picked = [invoices[3].record_id, invoices[7].record_id]
    assert {i["InvoiceID"] for i in walk(client, "Invoices", IDs=",".join(picked))} == set(picked)
    contact = invoices[3].contact_record_id
    mine = walk(client, "Invoices", ContactIDs=contact)
    assert len(mine) == sum(i.contact_record_id == contact for i in invoices)


def test_unsupported_where_is_a_400_naming_the_clause(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    resp = client.get(f"{API}/Contacts", params={"where": 'Colour=="red"'})
    assert resp.status_code == 400
    body = resp.json()
    assert body["Type"] == "QueryParseException" and body["ErrorNumber"] == 16
    assert "Colour" in body["Message"]
    broken = client.get(f"{API}/Invoices", params={"where": 'Status=="PAID" AND'})
    assert broken.status_code == 400 and 'Status=="PAID" AND' in broken.json()["Message"]
    assert client.get(f"{API}/Contacts", params={"order": "Shoe ASC"}).status_code == 400


def test_page_size_limits(erp: tuple[TestClient, SystemContext]) -> None:
    client, ctx = erp
    too_big = client.get(f"{API}/Contacts", params={"pageSize": ctx.limits.erp_page_size_max + 1})
    assert too_big.status_code == 400 and too_big.json()["Type"] == "ValidationException"
    assert client.get(f"{API}/Contacts", params={"page": "two"}).status_code == 400


# -- auth and tenants --------------------------------------------------------------------------
def test_bad_token_is_401_and_missing_or_foreign_tenant_is_403(
        erp: tuple[TestClient, SystemContext]) -> None:
    client, _ = erp
    bad = client.get(f"{API}/Contacts", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json() | {"Instance": ""} == {"Type": None, "Title": "Unauthorized", "Status": 401,
                                             "Detail": "AuthenticationUnsuccessful",
                                             "Instance": "", "Extensions": {}}
    no_tenant = TestClient(client.app, headers={"Authorization": HEADERS["Authorization"]})
    missing = no_tenant.get(f"{API}/Contacts")
    assert missing.status_code == 403 and missing.json()["Title"] == "Forbidden"
    foreign = client.get(f"{API}/Contacts",
                         headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000001"})
    assert foreign.status_code == 403 and foreign.headers["X-MinLimit-Remaining"]
    connections = no_tenant.get("/connections")
    assert connections.status_code == 200
    assert connections.json()[0]["tenantId"] == TENANT
    assert connections.json()[0]["tenantType"] == "ORGANISATION"


# -- rate limits -------------------------------------------------------------------------------
def test_minute_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    client, ctx = open_erp(tmp_path, limits=Limits(erp_per_minute=3))
    remaining = []
    for _ in range(3):
        resp = client.get(f"{API}/Items")
        assert resp.status_code == 200
        remaining.append(resp.headers["X-MinLimit-Remaining"])
        assert resp.headers["X-DayLimit-Remaining"] and resp.headers["X-AppMinLimit-Remaining"]
    assert remaining == ["2", "1", "0"]
    limited = client.get(f"{API}/Items")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-MinLimit-Remaining"] == "0"
    ctx.set_limits(Limits(enabled=False))
    assert all(client.get(f"{API}/Items").status_code == 200 for _ in range(70))


def test_daily_limit_answers_429_day(tmp_path: Path) -> None:
    client, ctx = open_erp(tmp_path, limits=Limits(enabled=False))
    ctx.set_limits(Limits(erp_daily=2))
    assert [client.get(f"{API}/Items").status_code for _ in range(3)] == [200, 200, 429]
    limited = client.get(f"{API}/Items")
    assert limited.headers["X-Rate-Limit-Problem"] == "day"
    assert int(limited.headers["Retry-After"]) > 60
    assert limited.headers["X-DayLimit-Remaining"] == "0"


def test_more_than_five_calls_in_flight_are_refused(tmp_path: Path) -> None:
    _, ctx = open_erp(tmp_path, limits=Limits())
    admitted = [ratelimit.admit(ctx) for _ in range(ratelimit.CONCURRENT)]
    assert all(v.problem is None for v in admitted)
    refused = ratelimit.admit(ctx)
    assert refused.problem == "concurrent" and refused.retry_after >= 1
    ratelimit.release(ctx)
    assert ratelimit.admit(ctx).problem is None
