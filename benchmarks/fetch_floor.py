"""Raw page-fetch throughput per system: the floor later pipelines are measured against.

Walks every page of one main object per system with keep-alive HTTP and JSON decoding, nothing
stored, limits lifted. Baseline: the same number of requests to the emulator's health endpoint
(pure HTTP round trips), measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from benchmarks.harness import Figure, Timer
from sandbox.config import SandboxConfig


def _crm(client: httpx.Client, config: SandboxConfig) -> Iterator[int]:
    url = f"{config.base_url('crm')}/crm/v3/objects/contacts"
    headers = {"Authorization": f"Bearer {config.credentials.crm_token}"}
    params: dict[str, Any] = {"limit": 100, "properties": "email,firstname,lastname,phone"}
    while True:
        body = client.get(url, params=params, headers=headers).raise_for_status().json()
        yield len(body["results"])
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            return
        params["after"] = after


def _erp(client: httpx.Client, config: SandboxConfig) -> Iterator[int]:
    url = f"{config.base_url('erp')}/Contacts"
    headers = {"Authorization": f"Bearer {config.credentials.erp_token}",
               "xero-tenant-id": config.credentials.erp_tenant_id, "Accept": "application/json"}
    page = 1
    while True:
        body = client.get(url, params={"page": page, "pageSize": 1000, "includeArchived": "true"},
                          headers=headers).raise_for_status().json()
        yield len(body["Contacts"])
        if page >= body["pagination"]["pageCount"] or not body["Contacts"]:
            return
        page += 1


def _shop(client: httpx.Client, config: SandboxConfig) -> Iterator[int]:
    for shop, token in config.credentials.shop_tokens.items():
        url: str | None = f"{config.base_url('shop', shop)}/customers.json?limit=250"
        while url:
            resp = client.get(url, headers={"X-Shopify-Access-Token": token}).raise_for_status()
            yield len(resp.json()["customers"])
            url = resp.links.get("next", {}).get("url")


def _hr(client: httpx.Client, config: SandboxConfig) -> Iterator[int]:
    url = f"{config.base_url('hr')}/employees/directory"
    auth = (config.credentials.hr_api_key, "x")
    body = client.get(url, auth=auth, headers={"Accept": "application/json"}).raise_for_status()
    yield len(body.json()["employees"])


WALKS: dict[str, Callable[[httpx.Client, SandboxConfig], Iterator[int]]] = {
    "crm": _crm, "erp": _erp, "shop": _shop, "hr": _hr,
}


def run(config: SandboxConfig) -> list[Figure]:
    """Walk each system once against a running sandbox (limits must be off)."""
    figures: list[Figure] = []
    with httpx.Client(timeout=60.0) as client:
        for system, walk in WALKS.items():
            with Timer() as t:
                pages = records = 0
                for n in walk(client, config):
                    pages += 1
                    records += n
            health = f"http://{config.host}:{config.ports[system]}/_sandbox/health"
            start = time.perf_counter()
            for _ in range(pages):
                client.get(health)
            per_request = (time.perf_counter() - start) / max(pages, 1)
            name = f"fetch {system}"
            figures += [
                Figure(name, "records/s", records / t.seconds, "1/s", note=f"{records:,} records"),
                Figure(name, "pages", pages, "requests"),
                Figure(name, "s/page", t.seconds / pages, "s", (t.seconds / pages) / per_request,
                       "health round trip"),
            ]
    return figures
