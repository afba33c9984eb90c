"""The BambooHR emulator as a connector sees it: reads, paging, writes, auth, throttling, errors."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.config import Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.hr.fields import iso_ms, parse_iso_ms, utc_date
from sandbox.hr.sample import sample_world
from sandbox.hr.seed import seed
from sandbox.serve import build_app
from sandbox.store import Store
from sandbox.webhooks import now_ms
from sandbox.world.model import HrEmployee, World

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

API_KEY = SandboxConfig().credentials.hr_api_key
JSON = {"Accept": "application/json"}


def hr_world() -> World:
    """The generated world when its generator is importable, else the fixed sample world."""
    try:
        from sandbox.world.generate import generate
    except ImportError:
        return sample_world(40)
    return generate(300, seed=1)


@pytest.fixture
def world() -> World:
    return hr_world()


@pytest.fixture
def ctx(tmp_path: Path, world: World) -> Iterator[SystemContext]:
    store = Store(tmp_path / "hr.sqlite")
    seed(world, store)
    config = SandboxConfig(limits=Limits(enabled=False))
    yield SystemContext("hr", tmp_path, config, store)
    store.close()


@pytest.fixture
def client(ctx: SystemContext) -> TestClient:
    c = TestClient(build_app(ctx), base_url="http://127.0.0.1:18104")
    c.auth = (API_KEY, "x")
    c.headers.update(JSON)
    return c


def live_records(world: World) -> list[HrEmployee]:
    return [e for e in world.hr.employees if not e.archived]


def latest(client: TestClient) -> str:
    """The current change watermark (what a connector keeps between runs)."""
    resp = client.get("/api/v1/employees/changed", params={"since": "2000-01-01T00:00:00Z"})
    assert resp.status_code == 200
    return str(resp.json()["latest"])


def walk(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every employee of the cursor list, following nextCursor."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"page[after]": cursor} if cursor else {})}
        body = client.get("/api/v1/employees", params=query).json()
        rows.extend(body["data"])
        cursor = body["meta"]["page"]["nextCursor"]
        if cursor is None:
            assert "next" not in body["_links"]
            return rows


# -- directory --------------------------------------------------------------------------------
def test_directory_lists_active_current_employees_only(client: TestClient, world: World) -> None:
    today = utc_date(now_ms())
    expected = {e.record_id for e in live_records(world)
                if e.status == "Active" and e.hire_date <= today}
    body = client.get("/api/v1/employees/directory").json()
    assert {e["id"] for e in body["employees"]} == expected
    assert {"displayName", "workEmail", "department", "supervisor"} <= {f["id"] for f in
                                                                         body["fields"]}
    by_id = {e.record_id: e for e in world.hr.employees}
    row = next(e for e in body["employees"] if by_id[e["id"]].supervisor_record_id)
    record, boss = by_id[row["id"]], by_id[str(by_id[row["id"]].supervisor_record_id)]
    assert row["firstName"] == record.first_name and row["workEmail"] == record.work_email
    assert row["jobTitle"] == record.job_title and row["department"] == record.department
    assert row["displayName"] == f"{record.first_name} {record.last_name}"
    assert row["supervisor"] == f"{boss.first_name} {boss.last_name}"


# -- cursor list ------------------------------------------------------------------------------
def test_cursor_paging_walks_everyone_exactly_once(client: TestClient, world: World) -> None:
    rows = walk(client, **{"page[limit]": 7, "fields": "workEmail,hireDate,departmentName"})
    ids = [r["employeeId"] for r in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) == {e.record_id for e in live_records(world)}
    by_id = {e.record_id: e for e in world.hr.employees}
    for row in rows:
        record = by_id[row["employeeId"]]
        assert (row["firstName"], row["workEmail"], row["status"]) == (
            record.first_name, record.work_email, record.status)
        assert row["departmentName"] == record.department and row["hireDate"] == record.hire_date
        assert row["_restrictedFields"] == []
        assert "mobilePhone" not in row  # only the requested optional fields


def test_list_pages_back_with_prev_cursor(client: TestClient) -> None:
    first = client.get("/api/v1/employees", params={"page[limit]": 5}).json()
    assert first["meta"]["page"]["prevCursor"] is None
    second = client.get("/api/v1/employees", params={
        "page[limit]": 5, "page[after]": first["meta"]["page"]["nextCursor"]}).json()
    back = client.get("/api/v1/employees", params={
        "page[limit]": 5, "page[before]": second["meta"]["page"]["prevCursor"]}).json()
    assert [r["employeeId"] for r in back["data"]] == [r["employeeId"] for r in first["data"]]
    assert second["meta"]["total"] == first["meta"]["total"]
    assert "page%5Bafter%5D=" in second["_links"]["next"]["href"]


def test_list_filters_and_sorts(client: TestClient, world: World) -> None:
    inactive = walk(client, **{"filter[status]": "inactive"})
    assert {r["employeeId"] for r in inactive} == {
        e.record_id for e in live_records(world) if e.status == "Inactive"}
    some = [e.record_id for e in live_records(world)][:3]
    picked = client.get("/api/v1/employees", params={"filter[ids]": ",".join(some)}).json()
    assert sorted(r["employeeId"] for r in picked["data"]) == sorted(some)
    by_name = walk(client, sort="-lastName", **{"page[limit]": 9})
    names = [r["lastName"].lower() for r in by_name]
    assert names == sorted(names, reverse=True)


@pytest.mark.parametrize(("params", "code"), [
    ({"page[limit]": "0"}, "BadRequest"),
    ({"page[limit]": "2501"}, "BadRequest"),
    ({"page[after]": "not-a-cursor"}, "BadPage"),
    ({"filter[status]": "retired"}, "BadRequest"),
    ({"sort": "workEmail"}, "BadRequest"),
])
def test_list_rejects_bad_parameters(client: TestClient, params: dict[str, str],
                                     code: str) -> None:
    resp = client.get("/api/v1/employees", params=params)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == code


# -- one employee -----------------------------------------------------------------------------
GOLDEN_FIELDS = ("firstName,lastName,workEmail,status,hireDate,terminationDate,department,"
                 "jobTitle,supervisorId,supervisorEId,lastChanged")


def test_get_employee_returns_requested_fields(client: TestClient, world: World) -> None:
    by_id = {e.record_id: e for e in world.hr.employees}
    record = next(e for e in live_records(world) if e.supervisor_record_id)
    body = client.get(f"/api/v1/employees/{record.record_id}",
                      params={"fields": GOLDEN_FIELDS + ",noSuchField"}).json()
    boss = by_id[str(record.supervisor_record_id)]
    assert body == {
        "id": record.record_id, "firstName": record.first_name, "lastName": record.last_name,
        "workEmail": record.work_email, "status": record.status, "hireDate": record.hire_date,
        "terminationDate": record.termination_date, "department": record.department,
        "jobTitle": record.job_title, "supervisorId": boss.record_id.zfill(5),
        "supervisorEId": boss.record_id, "lastChanged": body["lastChanged"],
    }
    assert parse_iso_ms(body["lastChanged"]) == record.updated_ms


def test_get_employee_defaults_to_names(client: TestClient, world: World) -> None:
    record = live_records(world)[0]
    assert client.get(f"/api/v1/employees/{record.record_id}").json() == {
        "id": record.record_id, "firstName": record.first_name, "lastName": record.last_name}


def test_terminated_employee_is_inactive_with_termination_date(client: TestClient,
                                                               world: World) -> None:
    leaver = next(e for e in live_records(world) if e.termination_date)
    body = client.get(f"/api/v1/employees/{leaver.record_id}",
                      params={"fields": "status,terminationDate"}).json()
    assert body["status"] == "Inactive"
    assert body["terminationDate"] == leaver.termination_date


def test_unknown_employee_is_404(client: TestClient) -> None:
    resp = client.get("/api/v1/employees/999999")
    assert resp.status_code == 404
    assert resp.headers["X-BambooHR-Error-Message"] == "Employee 999999 does not exist."
    assert resp.json()["error"]["code"] == "NotFound"


# -- changed ----------------------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"since": "last tuesday"},
                                    {"since": "2026-01-01T00:00:00Z", "type": "moved"}])
def test_changed_rejects_missing_or_bad_parameters(client: TestClient,
                                                   params: dict[str, str]) -> None:
    resp = client.get("/api/v1/employees/changed", params=params)
    assert resp.status_code == 400
    assert resp.headers["X-BambooHR-Error-Message"]


def test_changed_since_returns_exactly_the_later_changes(client: TestClient,
                                                         world: World) -> None:
    records = sorted(world.hr.employees, key=lambda e: e.updated_ms)
    pivot = records[len(records) // 2]
    since = iso_ms(pivot.updated_ms)
    body = client.get("/api/v1/employees/changed", params={"since": since}).json()
    assert set(body["employees"]) == {e.record_id for e in records
                                      if e.updated_ms > pivot.updated_ms}
    assert body["latest"] == iso_ms(records[-1].updated_ms)
    again = client.get("/api/v1/employees/changed", params={"since": body["latest"]}).json()
    assert again == {"latest": body["latest"], "employees": {}}


# -- writes -----------------------------------------------------------------------------------
def test_update_changes_fields_and_shows_in_changed(client: TestClient, world: World) -> None:
    record = next(e for e in live_records(world) if e.status == "Active")
    mark = latest(client)
    resp = client.post(f"/api/v1/employees/{record.record_id}",
                       json={"jobTitle": "Head of Data", "department": "Data"})
    assert resp.status_code == 200 and resp.content == b""
    body = client.get(f"/api/v1/employees/{record.record_id}",
                      params={"fields": "jobTitle,department,division,firstName"}).json()
    assert body["jobTitle"] == "Head of Data" and body["department"] == "Data"
    assert body["firstName"] == record.first_name
    changes = client.get("/api/v1/employees/changed", params={"since": mark}).json()
    assert list(changes["employees"]) == [record.record_id]
    assert changes["employees"][record.record_id]["action"] == "Updated"


def test_update_with_same_values_is_not_a_change(client: TestClient, world: World) -> None:
    record = live_records(world)[0]
    mark = latest(client)
    resp = client.post(f"/api/v1/employees/{record.record_id}",
                       json={"firstName": record.first_name})
    assert resp.status_code == 200
    assert client.get("/api/v1/employees/changed", params={"since": mark}).json()[
        "employees"] == {}


def test_bad_writes_are_refused_and_change_nothing(client: TestClient, world: World) -> None:
    record, other = live_records(world)[0], live_records(world)[1]
    url = f"/api/v1/employees/{record.record_id}"
    before = client.get(url, params={"fields": GOLDEN_FIELDS}).json()
    mark = latest(client)
    bad = [
        (b'{"jobTitle": "CTO"', 400),                       # malformed JSON
        (b'["jobTitle", "CTO"]', 400),                      # not an object
        (b'{"jobTitle": "CTO", "firstName": 5}', 400),      # wrong type (and nothing applied)
        (b'{"jobTitle": "CTO", "hireDate": "31/12/2020"}', 409),
        (b'{"jobTitle": "CTO", "status": "Gone"}', 409),
        (b'{"jobTitle": "CTO", "supervisorEId": "999999"}', 409),
        (b'{"workEmail": "' + other.work_email.encode() + b'"}', 409),
        (b'{"lastChanged": "2020-01-01T00:00:00+00:00"}', 400),
    ]
    for raw, status in bad:
        resp = client.post(url, content=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code == status, raw
        assert resp.json()["error"]["message"]
    assert client.post("/api/v1/employees/999999", json={"jobTitle": "x"}).status_code == 404
    assert client.get(url, params={"fields": GOLDEN_FIELDS}).json() == before
    assert client.get("/api/v1/employees/changed", params={"since": mark}).json()[
        "employees"] == {}


def test_create_employee(client: TestClient, world: World) -> None:
    mark = latest(client)
    boss = next(e for e in live_records(world) if e.status == "Active")
    resp = client.post("/api/v1/employees", json={
        "firstName": "Nia", "lastName": "Okoro", "workEmail": "nia.okoro@goldloop.example",
        "jobTitle": "Data Engineer", "department": "Engineering", "hireDate": "2026-12-01",
        "supervisorEId": boss.record_id, "tShirtSize": "M"})
    assert resp.status_code == 201 and resp.content == b""
    location = resp.headers["Location"]
    assert location.startswith("http://127.0.0.1:18104/api/v1/employees/")
    new_id = location.rsplit("/", 1)[1]
    assert new_id not in {e.record_id for e in world.hr.employees}
    body = client.get(f"/api/v1/employees/{new_id}",
                      params={"fields": "firstName,status,hireDate,supervisorEId,tShirtSize"})
    assert body.json() == {"id": new_id, "firstName": "Nia", "status": "Active",
                           "hireDate": "2026-12-01", "supervisorEId": boss.record_id,
                           "tShirtSize": "M"}
    changes = client.get("/api/v1/employees/changed", params={"since": mark}).json()
    assert changes["employees"] == {new_id: {"id": new_id, "action": "Inserted",
                                             "lastChanged": changes["latest"]}}
    # a future hire is not yet in the directory (onlyCurrent=true by default)
    directory = client.get("/api/v1/employees/directory").json()["employees"]
    assert new_id not in {e["id"] for e in directory}
    everyone = client.get("/api/v1/employees/directory", params={"onlyCurrent": "false"})
    assert new_id in {e["id"] for e in everyone.json()["employees"]}


def test_create_needs_first_and_last_name(client: TestClient) -> None:
    resp = client.post("/api/v1/employees", json={"firstName": "Solo"})
    assert resp.status_code == 400
    assert "lastName" in resp.json()["error"]["message"]


# -- datasets ---------------------------------------------------------------------------------
def test_dataset_pages_filters_and_orders(client: TestClient, world: World) -> None:
    fields = ["employeeId", "lastName", "status", "terminationDate", "supervisorEId"]
    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        resp = client.post("/api/v2/datasets/employee/data", json={
            "fields": fields, "filter": "status eq 'Active'", "orderBy": "lastName asc",
            "page": page, "pageSize": 6})
        body = resp.json()
        assert resp.status_code == 200 and resp.headers["X-Request-ID"]
        seen.extend(row["fields"] for row in body["data"])
        if page >= body["meta"]["totalPages"]:
            assert body["links"]["next"] is None
            break
        page += 1
    active = {e.record_id for e in live_records(world) if e.status == "Active"}
    assert [r["employeeId"] for r in seen if r["employeeId"] in active] == [
        r["employeeId"] for r in seen]
    assert {r["employeeId"] for r in seen} == active
    assert body["meta"]["totalItems"] == len(active)
    names = [r["lastName"].lower() for r in seen]
    assert names == sorted(names)
    assert all(set(r) == set(fields) and r["terminationDate"] is None for r in seen)


@pytest.mark.parametrize(("payload", "status"), [
    ({"fields": ["firstName", "salary"]}, 400),
    ({}, 400),
    ({"fields": ["firstName"], "filter": "status eq"}, 422),
    ({"fields": ["firstName"], "pageSize": 1001}, 422),
    ({"fields": ["firstName"], "orderBy": "lastName asc"}, 422),
])
def test_dataset_rejects_bad_requests_as_problems(client: TestClient, payload: dict[str, Any],
                                                  status: int) -> None:
    resp = client.post("/api/v2/datasets/employee/data", json=payload)
    assert resp.status_code == status
    problem = resp.json()
    assert problem["status"] == status and problem["detail"]


def test_unknown_dataset_is_404(client: TestClient) -> None:
    resp = client.post("/api/v2/datasets/payroll/data", json={"fields": ["firstName"]})
    assert resp.status_code == 404 and resp.json()["code"] == "DATASET_NOT_FOUND"


# -- auth, content, paths ---------------------------------------------------------------------
@pytest.mark.parametrize("auth", [None, ("wrong-key", "x"), ("", API_KEY)])
def test_requests_without_the_api_key_get_401(client: TestClient,
                                              auth: tuple[str, str] | None) -> None:
    client.auth = auth  # type: ignore[assignment]
    for path in ("/api/v1/employees/directory", "/api/v1/employees/1"):
        resp = client.get(path)
        assert resp.status_code == 401
        assert "API key" in resp.headers["X-BambooHR-Error-Message"]
        assert resp.json()["error"]["code"] == "Unauthorized"
    problem = client.post("/api/v2/datasets/employee/data", json={"fields": ["firstName"]})
    assert problem.status_code == 401 and problem.json()["status"] == 401


def test_any_password_is_accepted(client: TestClient) -> None:
    token = base64.b64encode(f"{API_KEY}:anything at all".encode()).decode()
    client.auth = None  # type: ignore[assignment]
    resp = client.get("/api/v1/employees/directory", headers={"Authorization": f"Basic {token}"})
    assert resp.status_code == 200


def test_unknown_paths_and_xml_only_clients(client: TestClient) -> None:
    resp = client.get("/api/v1/timesheets")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NotFound"
    xml = client.get("/api/v1/employees/directory", headers={"Accept": "application/xml"})
    assert xml.status_code == 406 and "application/json" in xml.json()["error"]["message"]


def test_classic_gateway_base_is_served(client: TestClient) -> None:
    resp = client.get("/api/gateway.php/goldloop/v1/employees/directory")
    assert resp.status_code == 200 and resp.json()["employees"]
    assert client.get("/api/gateway.php/othercompany/v1/employees/directory").status_code == 404


# -- throttling -------------------------------------------------------------------------------
def test_throttling_answers_429_with_retry_after(client: TestClient,
                                                 ctx: SystemContext) -> None:
    ctx.set_limits(Limits(hr_per_second=3))
    statuses = [client.get("/api/v1/employees/directory").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = client.get("/api/v1/employees/directory")
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.json()["error"]["code"] == "TooManyRequests"


def test_throttling_can_answer_503_or_alternate(client: TestClient, ctx: SystemContext) -> None:
    ctx.set_limits(Limits(hr_per_second=1))
    assert client.post("/_sandbox/hr/throttle", json={"status": 503}).status_code == 200
    client.get("/api/v1/employees/directory")
    resp = client.get("/api/v1/employees/directory")
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    client.post("/_sandbox/hr/throttle", json={"status": "alternate"})
    statuses = {client.get("/api/v1/employees/directory").status_code for _ in range(4)}
    assert {429, 503} <= statuses
    assert client.post("/_sandbox/hr/throttle", json={"status": 500}).status_code == 400


def test_no_throttling_when_limits_are_off(client: TestClient, ctx: SystemContext) -> None:
    ctx.set_limits(Limits(enabled=False, hr_per_second=1))
    assert {client.get("/api/v1/employees/directory").status_code for _ in range(20)} == {200}
