"""The BambooHR emulator against BambooHR's own OpenAPI 3.1 file: one client, two servers.

Each exchange below is a request shaped the way a connector sends it (HTTP Basic, ``Accept:
application/json``, the spec's parameter forms); both the request and the emulator's answer must
validate against ``specs/bamboohr/public.yaml``. The spec's known defects are fixed in a copy by
:func:`patch_bamboohr` (the file itself stays unchanged):

- ``page`` on ``GET /api/v1/employees`` is an ``allOf`` of two objects whose ``after``/``before``
  types (string vs integer) and ``limit`` maxima (100 vs 2500) contradict each other; the
  endpoint's description and example use opaque string cursors and a 2500 maximum.
- ``fields`` on that endpoint is typed as an exploded array while its description and example
  are one comma-separated value (``workEmail,mobilePhone``).
- the Datasets v2 ``data[].fields`` values are typed ``string`` only; empty values are null
  (the custom-reports endpoint documents "strings or null").
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI

from sandbox.config import Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.hr.mutate import mutate
from sandbox.hr.sample import sample_world
from sandbox.hr.seed import seed
from sandbox.serve import build_app
from sandbox.store import Store
from tests.contract.openapi_check import SPECS, check, load_spec

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

# openapi-core cannot check the spec's oauth2 alternatives and says so once per request.
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

HOST = "http://127.0.0.1:18104"
SPEC = "bamboohr/public.yaml"


def patch_bamboohr(spec: dict[str, Any]) -> None:
    """Fix the spec's known defects (see the module docstring) in a parsed copy."""
    schemas = spec["components"]["schemas"]
    schemas["EmployeeCursorPaginationQueryObject"] = {
        "type": "object",
        "properties": {
            "before": {"type": "string"},
            "after": {"type": "string"},
            "limit": {"type": "integer", "default": 250, "minimum": 1, "maximum": 2500},
        },
    }
    for param in spec["paths"]["/api/v1/employees"]["get"]["parameters"]:
        if param["name"] == "fields":
            param.update(style="form", explode=False)
    data = spec["paths"]["/api/v2/datasets/{datasetName}/data"]["post"]["responses"]["200"]
    row = data["content"]["application/json"]["schema"]["properties"]["data"]["items"]
    row["properties"]["fields"]["additionalProperties"] = {"type": ["string", "null"]}


@pytest.fixture(scope="module")
def api() -> OpenAPI:
    return load_spec(SPEC, patch_bamboohr, server=HOST)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("hr")
    store = Store(data_dir / "hr.sqlite")
    seed(sample_world(40), store)
    ctx = SystemContext("hr", data_dir, SandboxConfig(limits=Limits(enabled=False)), store)
    mutate(ctx, 0.1, random.Random(5))
    c = TestClient(build_app(ctx), base_url=HOST)
    c.auth = (ctx.config.credentials.hr_api_key, "x")
    c.headers["Accept"] = "application/json"
    yield c
    store.close()


def valid(api: OpenAPI, resp: httpx.Response, *, response_only: bool = False) -> list[str]:
    """Spec problems of one exchange (request problems dropped for deliberately bad requests)."""
    problems = check(api, resp, host_url=HOST)
    return [p for p in problems if not (response_only and p.startswith("request:"))]


def test_the_spec_still_has_the_defects_we_patch() -> None:
    """When BambooHR fixes its file, this fails: drop the matching patch."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster on 690 kB
    spec = yaml.load((SPECS / SPEC).read_text(), Loader=loader)
    assert "allOf" in spec["components"]["schemas"]["EmployeeCursorPaginationQueryObject"]
    fields = next(p for p in spec["paths"]["/api/v1/employees"]["get"]["parameters"]
                  if p["name"] == "fields")
    assert "explode" not in fields
    data = spec["paths"]["/api/v2/datasets/{datasetName}/data"]["post"]["responses"]["200"]
    row = data["content"]["application/json"]["schema"]["properties"]["data"]["items"]
    assert row["properties"]["fields"]["additionalProperties"] == {"type": "string"}


def test_the_check_catches_a_wrong_answer(api: OpenAPI, client: TestClient) -> None:
    resp = client.get("/api/v1/employees/changed", params={"since": "2000-01-01T00:00:00Z"})
    body = resp.json()
    first = next(iter(body["employees"]))
    body["employees"][first]["action"] = "Changed"
    assert valid(api, httpx.Response(200, json=body, request=resp.request))


def test_directory(api: OpenAPI, client: TestClient) -> None:
    resp = client.get("/api/v1/employees/directory")
    assert resp.status_code == 200
    assert valid(api, resp) == []


def test_employee_list_pages(api: OpenAPI, client: TestClient) -> None:
    params = {"page[limit]": "10", "fields": "workEmail,hireDate,departmentName,reportsToId"}
    first = client.get("/api/v1/employees", params=params)
    assert first.status_code == 200 and valid(api, first) == []
    cursor = first.json()["meta"]["page"]["nextCursor"]
    second = client.get("/api/v1/employees", params={**params, "page[after]": cursor})
    assert second.status_code == 200 and valid(api, second) == []
    filtered = client.get("/api/v1/employees", params={
        "filter[status]": "inactive", "filter[lastName]": "a", "sort": "-lastName,firstName"})
    assert filtered.status_code == 200 and valid(api, filtered) == []


def test_employee_list_errors(api: OpenAPI, client: TestClient) -> None:
    resp = client.get("/api/v1/employees", params={"page[after]": "garbage"})
    assert resp.status_code == 400
    assert valid(api, resp) == []
    bad_status = client.get("/api/v1/employees", params={"filter[status]": "retired"})
    assert bad_status.status_code == 400
    assert valid(api, bad_status, response_only=True) == []


def test_get_employee(api: OpenAPI, client: TestClient) -> None:
    fields = ("firstName,lastName,workEmail,status,hireDate,terminationDate,department,"
              "jobTitle,supervisorId,supervisorEId,lastChanged,displayName,location")
    resp = client.get("/api/v1/employees/110", params={"fields": fields})
    assert resp.status_code == 200 and valid(api, resp) == []
    missing = client.get("/api/v1/employees/999999")
    assert missing.status_code == 404 and valid(api, missing) == []


def test_changed_employees(api: OpenAPI, client: TestClient) -> None:
    actions: set[str] = set()
    for since in ("2000-01-01T00:00:00Z", "2026-06-01T00:00:00Z"):
        resp = client.get("/api/v1/employees/changed", params={"since": since})
        assert resp.status_code == 200 and valid(api, resp) == []
        actions |= {c["action"] for c in resp.json()["employees"].values()}
    assert actions == {"Inserted", "Updated", "Deleted"}
    typed = client.get("/api/v1/employees/changed",
                       params={"since": "2026-01-01T00:00:00+00:00", "type": "inserted"})
    assert typed.status_code == 200 and valid(api, typed) == []
    bad = client.get("/api/v1/employees/changed", params={"since": "soon"})
    assert bad.status_code == 400 and valid(api, bad, response_only=True) == []


def test_update_and_create(api: OpenAPI, client: TestClient) -> None:
    update = client.post("/api/v1/employees/110", json={"jobTitle": "Staff Engineer",
                                                       "department": "Engineering"})
    assert update.status_code == 200 and valid(api, update) == []
    create = client.post("/api/v1/employees", json={
        "firstName": "Panda", "lastName": "Bear", "workEmail": "panda.bear@goldloop.example",
        "jobTitle": "Software Engineer", "department": "Engineering", "hireDate": "2026-12-01"})
    assert create.status_code == 201 and valid(api, create) == []
    conflict = client.post("/api/v1/employees/110", json={"hireDate": "someday"})
    assert conflict.status_code == 409 and valid(api, conflict, response_only=True) == []
    missing = client.post("/api/v1/employees/999999", json={"jobTitle": "x"})
    assert missing.status_code == 404 and valid(api, missing) == []


def test_datasets(api: OpenAPI, client: TestClient) -> None:
    listing = client.get("/api/v1_2/datasets")
    assert listing.status_code == 200 and valid(api, listing) == []
    fields = client.get("/api/v1_2/datasets/employee/fields")
    assert fields.status_code == 200 and valid(api, fields) == []
    data = client.post("/api/v2/datasets/employee/data", json={
        "fields": ["employeeId", "firstName", "lastName", "workEmail", "status", "hireDate",
                   "terminationDate", "department", "jobTitle", "supervisorEId", "lastChanged"],
        "filter": "status eq 'Active' or terminationDate ge '2026-01-01'",
        "orderBy": "lastName asc", "page": 1, "pageSize": 25})
    assert data.status_code == 200 and valid(api, data) == []
    bad_filter = client.post("/api/v2/datasets/employee/data",
                             json={"fields": ["firstName"], "filter": "status eq"})
    assert bad_filter.status_code == 422 and valid(api, bad_filter) == []
    unknown = client.post("/api/v2/datasets/employee/data", json={"fields": ["salary"]})
    assert unknown.status_code == 400 and valid(api, unknown) == []
    missing = client.post("/api/v2/datasets/payroll/data", json={"fields": ["firstName"]})
    assert missing.status_code == 404 and valid(api, missing) == []
