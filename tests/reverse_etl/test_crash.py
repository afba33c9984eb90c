"""``kill -9`` mid-run, then rerun: every change lands exactly once (counted in the sandbox) and
nothing is marked synced that the destination does not hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from goldloop.settings import Settings
from reverse_etl.runner import run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    ERP_COLUMNS,
    SHOP_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    sandbox_env,
    state_of,
    unique,
)

REPO = Path(__file__).resolve().parents[2]
RUN = "from goldloop.commands.sync import app; app()"


def start_run(sync: str, config: SandboxConfig, warehouse: Settings,
              pace: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **sandbox_env(config), **pace, "GOLDLOOP_TARGET": "duckdb",
           "GOLDLOOP_WAREHOUSE": str(warehouse.warehouse)}
    return subprocess.Popen([sys.executable, "-c", RUN, "run", sync, "--json"], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def all_contacts(reader: SandboxReader) -> list[dict[str, Any]]:
    """Every active Xero contact, in one page."""
    found = reader.erp("Contacts", page="1", pageSize="1000")["Contacts"]
    return [c for c in found if c.get("ContactStatus") == "ACTIVE"]


def all_customers(config: SandboxConfig, shop: str) -> list[dict[str, Any]]:
    """Every customer of one shop (the test sandbox's shops hold well under 250)."""
    response = httpx.get(f"{config.base_url('shop', shop)}/customers.json",
                         params={"limit": 250, "fields": "id,email"},
                         headers={"X-Shopify-Access-Token": config.credentials.shop_tokens[shop]})
    response.raise_for_status()
    customers: list[dict[str, Any]] = response.json()["customers"]
    assert len(customers) < 250
    return customers


def kill_when(proc: subprocess.Popen[bytes], landed: Any, timeout: float = 60.0) -> None:
    """SIGKILL the run as soon as ``landed()`` is true (some writes done, more to come)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended before the kill: {proc.stderr.read()!r}" \
            if proc.stderr else "the run ended before the kill"
        if landed():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            return
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the run never got far enough to be killed")


def test_erp_kill_9_mid_run_then_rerun_creates_each_contact_once(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    tag = unique("k")
    rows = [{"sync_key": f"{tag}-{i:03d}", "name": f"Crash {tag} {i}", "first_name": "Crash",
             "last_name": str(i), "email_address": f"{tag}.{i}@example.com",
             "contact_number": f"{tag}-{i:03d}"} for i in range(400)]
    create_model(warehouse, "sync_erp__contacts", ERP_COLUMNS, rows)
    before = reader.counts("erp")["contacts"]["total"]
    proc = start_run("erp_contacts", sandbox, warehouse,
                     {"SOURCES__ERP__REQUESTS_PER_SECOND": "2", "SOURCES__ERP__BURST": "1"})
    kill_when(proc, lambda: reader.counts("erp")["contacts"]["total"] >= before + 150)
    assert proc.returncode == -signal.SIGKILL

    landed = reader.counts("erp")["contacts"]["total"] - before
    assert 150 <= landed < 400
    synced = {k for k, v in state_of(warehouse, "erp_contacts").items() if v[0] == "synced"}
    held = Counter(c.get("ContactNumber") for c in all_contacts(reader))
    assert len(synced) <= landed  # answers are committed in groups: some may be pending
    assert all(held[key] == 1 for key in synced)  # nothing marked synced that Xero lacks

    summary = run_sync(find_spec("erp_contacts"), warehouse,
                       connection=connection(sandbox, "erp"))
    assert summary.rejected == 0 and summary.failed == 0
    assert reader.counts("erp")["contacts"]["total"] == before + 400
    assert {v[0] for v in state_of(warehouse, "erp_contacts").values()} == {"synced"}
    held = Counter(c.get("ContactNumber") for c in all_contacts(reader))
    assert all(held[f"{tag}-{i:03d}"] == 1 for i in range(400))


def test_shop_kill_9_mid_run_then_rerun_creates_each_customer_once(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    tag = unique("k")
    rows = [{"sync_key": f"northwind/{tag}{i}", "shop": "northwind",
             "email": f"{tag}.{i}@example.com", "first_name": "Crash", "last_name": str(i),
             "accepts_marketing": False} for i in range(30)]
    create_model(warehouse, "sync_shop__customers", SHOP_COLUMNS, rows)
    before = reader.counts("shop")["northwind__customers"]["total"]
    proc = start_run("shop_customers", sandbox, warehouse,
                     {"SOURCES__SHOP__REQUESTS_PER_SECOND": "8", "SOURCES__SHOP__BURST": "1"})
    kill_when(proc, lambda: reader.counts("shop")["northwind__customers"]["total"]
              >= before + 8)

    summary = run_sync(find_spec("shop_customers"), warehouse,
                       connection=connection(sandbox, "shop"))
    assert summary.rejected == 0 and summary.failed == 0
    assert reader.counts("shop")["northwind__customers"]["total"] == before + 30
    emails = Counter(c["email"] for c in all_customers(sandbox, "northwind"))
    assert all(emails[f"{tag}.{i}@example.com"] == 1 for i in range(30))

