"""What tests of every layer share: free ports, a sandbox (limits off) and the dlt settings that
point the sources at it, a scratch Postgres database."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SYSTEMS = ("crm", "erp", "shop", "hr")
SHOPS = ("northwind", "southwind")


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports nobody listens on right now."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def source_env(config: Any) -> dict[str, str]:
    """dlt env vars pointing every source at this sandbox, with the client pace unlimited."""
    creds = config.credentials
    env = {
        "SOURCES__CRM__BASE_URL": config.base_url("crm"),
        "SOURCES__CRM__ACCESS_TOKEN": creds.crm_token,
        "SOURCES__ERP__BASE_URL": config.base_url("erp"),
        "SOURCES__ERP__CONNECTIONS_URL": config.base_url("erp").replace("/api.xro/2.0",
                                                                          "/connections"),
        "SOURCES__ERP__ACCESS_TOKEN": creds.erp_token,
        "SOURCES__ERP__TENANT_ID": creds.erp_tenant_id,
        "SOURCES__SHOP__SHOPS": json.dumps(
            [{"name": shop, "base_url": config.base_url("shop", shop)} for shop in SHOPS]),
        "SOURCES__SHOP__ACCESS_TOKENS": json.dumps(creds.shop_tokens),
        "SOURCES__HR__BASE_URL": config.base_url("hr"),
        "SOURCES__HR__API_KEY": creds.hr_api_key,
    }
    for system in SYSTEMS:
        env[f"SOURCES__{system.upper()}__REQUESTS_PER_SECOND"] = "0"
    return env




@contextmanager
def running_sandbox(data_dir: Path, customers: int = 300, seed: int = 42) -> Iterator[Any]:
    """Seed and serve a sandbox in ``data_dir`` until the block ends; yields its config."""
    from sandbox import control

    ports = dict(zip(SYSTEMS, free_ports(len(SYSTEMS)), strict=True))
    config = control.up(data_dir, customers=customers, seed=seed, ports=ports,
                        limits_enabled=False)
    try:
        yield config
    finally:
        control.down(data_dir)


# dlt's Postgres destination wants a password in the DSN; a trust-auth server ignores it.
POSTGRES_SERVER = "postgresql://postgres:postgres@127.0.0.1:5432"


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh database's DSN, dropped afterwards.

    Skips the test when Postgres is unreachable, unless ``GOLDLOOP_REQUIRE_POSTGRES`` is set.
    """
    import uuid

    import psycopg2
    import pytest

    try:
        admin = psycopg2.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if os.environ.get("GOLDLOOP_REQUIRE_POSTGRES", "") not in ("", "0", "false", "no"):
            raise
        pytest.skip(f"Postgres at 127.0.0.1:5432 is unreachable: {exc}".strip())
    admin.autocommit = True
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
