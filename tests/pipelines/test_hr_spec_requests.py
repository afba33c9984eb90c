"""One client, two servers: every request the BambooHR connector sends (datasets, change feed,
filtered bulk reads) is valid against BambooHR's published OpenAPI file."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
import pytest
from openapi_core import OpenAPI

from pipelines.run import extract
from tests.contract.openapi_check import check, load_spec
from tests.contract.test_hr_contract import patch_bamboohr
from tests.pipelines.sandbox_server import serve_system
from tests.pipelines.test_hr_extract import hr_world
from tests.pipelines.warehouses import duckdb_settings

HOST = "http://127.0.0.1:18104"


@functools.cache
def spec() -> OpenAPI:
    return load_spec("bamboohr/public.yaml", patch_bamboohr, server=HOST)


def problems_of(request: httpx.Request) -> list[str]:
    api = spec()
    as_sent = httpx.Request(request.method, HOST + request.url.path + (
        f"?{request.url.query.decode()}" if request.url.query else ""),
        headers=request.headers, content=request.content)
    return check(api, httpx.Response(200, request=as_sent), host_url=HOST, request_only=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_request_of_a_full_and_an_incremental_run_matches_the_spec(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = duckdb_settings(tmp_path)
    with serve_system("hr", hr_world(), tmp_path / "sandbox") as hr:
        monkeypatch.setenv("SOURCES__HR__BASE_URL", hr.base_url)
        monkeypatch.setenv("SOURCES__HR__API_KEY", hr.credentials.hr_api_key)
        monkeypatch.setenv("SOURCES__HR__REQUESTS_PER_SECOND", "0")
        extract(["hr"], settings=settings)
        hr.mutate(0.2)
        extract(["hr"], settings=settings)
        sent = list(hr.requests)
    assert {r.url.path for r in sent} == {"/api/v1/employees/changed",
                                          "/api/v2/datasets/employee/data"}
    assert all(r.headers.get("accept") == "application/json" for r in sent)
    problems = {f"{r.method} {r.url.path}: {p}" for r in sent for p in problems_of(r)}
    assert problems == set()
