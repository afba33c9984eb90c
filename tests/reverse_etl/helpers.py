"""Test helpers for reverse ETL: fake sync-model tables in a warehouse, sandbox readers.

The sync feeds are dbt models (``marts.sync_<system>__<object>s``); a test creates a table of
the same name and columns directly, so a shipped spec reads it unchanged: a fake model in, a
plan (and writes) out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from goldloop.settings import Settings
from goldloop.warehouse import connect
from reverse_etl.connections import Connection
from reverse_etl.sql import execute, fetch, insert_rows, quote
from sandbox.config import SandboxConfig

CRM_COLUMNS = {
    "sync_key": "varchar", "email": "varchar", "firstname": "varchar", "lastname": "varchar",
    "phone": "varchar", "address": "varchar", "city": "varchar", "zip": "varchar",
    "country": "varchar", "hs_email_optout": "varchar", "crm_record_id": "varchar",
    "destination_updated_at": "timestamp",
}
ERP_COLUMNS = {
    "sync_key": "varchar", "contact_id": "varchar", "name": "varchar", "first_name": "varchar",
    "last_name": "varchar", "email_address": "varchar", "phone": "varchar",
    "address_line1": "varchar", "city": "varchar", "postal_code": "varchar",
    "country": "varchar", "contact_number": "varchar", "destination_updated_at": "timestamp",
}
SHOP_COLUMNS = {
    "sync_key": "varchar", "shop": "varchar", "shop_customer_id": "varchar",
    "email": "varchar", "first_name": "varchar", "last_name": "varchar", "phone": "varchar",
    "accepts_marketing": "boolean", "address1": "varchar", "city": "varchar",
    "province": "varchar", "zip": "varchar", "country_code": "varchar",
    "destination_updated_at": "timestamp",
}
INVOICE_COLUMNS = {
    "sync_key": "varchar", "contact_id": "varchar", "contact_name": "varchar",
    "reference": "varchar", "currency_code": "varchar", "line_items": "varchar",
    "line_count": "integer", "total": "decimal(18, 2)", "deal_amount": "decimal(18, 2)",
    "date": "date", "due_date": "date",
}


def unique(prefix: str = "t") -> str:
    """A short unique token, so tests sharing one sandbox never touch each other's records."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def create_model(settings: Settings, table: str, columns: dict[str, str],
                 rows: Sequence[dict[str, Any]], schema: str = "marts") -> None:
    """(Re)create ``schema.table`` with ``columns`` and ``rows`` (dicts, missing keys null)."""
    target = settings.target
    with connect(settings) as con:
        execute(con, target, f"CREATE SCHEMA IF NOT EXISTS {schema}")
        execute(con, target, f"DROP TABLE IF EXISTS {schema}.{table}")
        execute(con, target, f"CREATE TABLE {schema}.{table} (" + ", ".join(
            f"{quote(name)} {kind}" for name, kind in columns.items()) + ")")
        insert_rows(con, target, f"{schema}.{table}", list(columns),
                    ([row.get(c) for c in columns] for row in rows))


def query(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connect(settings) as con:
        return fetch(con, settings.target, sql, params)


def state_of(settings: Settings, sync: str) -> dict[str, tuple[Any, ...]]:
    """``sync_key -> (status, destination_id, attempts, last_error)`` ({} before any run)."""
    from reverse_etl.state import has_state

    with connect(settings) as con:
        if not has_state(con, settings.target):
            return {}
    rows = query(settings, "SELECT sync_key, status, destination_id, attempts, last_error "
                 "FROM reverse_etl.sync_state WHERE sync_name = ?", (sync,))
    return {str(r[0]): tuple(r[1:]) for r in rows}


def connection(config: SandboxConfig, system: str, *, rps: float = 0,
               burst: int | None = None) -> Connection:
    """The sandbox's connection for ``system`` (pace lifted unless ``rps`` is given)."""
    creds = config.credentials
    if system == "crm":
        return Connection("crm", config.base_url("crm"), creds.crm_token,
                          requests_per_second=rps, burst=burst)
    if system == "erp":
        return Connection("erp", config.base_url("erp"), creds.erp_token, creds.erp_tenant_id,
                          requests_per_second=rps, burst=burst)
    return Connection("shop", shops={name: (config.base_url("shop", name), token)
                                     for name, token in creds.shop_tokens.items()},
                      requests_per_second=rps, burst=burst)


def sandbox_env(config: SandboxConfig) -> dict[str, str]:
    """dlt env vars pointing every connector (and sync) at this sandbox."""
    creds = config.credentials
    return {
        "SOURCES__CRM__BASE_URL": config.base_url("crm"),
        "SOURCES__CRM__ACCESS_TOKEN": creds.crm_token,
        "SOURCES__ERP__BASE_URL": config.base_url("erp"),
        "SOURCES__ERP__ACCESS_TOKEN": creds.erp_token,
        "SOURCES__ERP__TENANT_ID": creds.erp_tenant_id,
        "SOURCES__SHOP__SHOPS": json.dumps(
            [{"name": s, "base_url": config.base_url("shop", s)} for s in creds.shop_tokens]),
        "SOURCES__SHOP__ACCESS_TOKENS": json.dumps(creds.shop_tokens),
    }


class SandboxReader:
    """Reads what the sandbox holds, the way a user would check the systems."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        creds = config.credentials
        self.client = httpx.Client(timeout=30)
        self.crm_headers = {"Authorization": f"Bearer {creds.crm_token}"}
        self.erp_headers = {"Authorization": f"Bearer {creds.erp_token}",
                            "xero-tenant-id": creds.erp_tenant_id, "Accept": "application/json"}

    def admin(self, system: str, method: str, path: str, body: Any = None) -> Any:
        url = f"http://{self.config.host}:{self.config.ports[system]}/_sandbox/{path}"
        response = self.client.request(method, url, json=body)
        response.raise_for_status()
        return response.json()

    def counts(self, system: str) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = self.admin(system, "GET", "counts")
        return result

    def faults(self, system: str, **knobs: Any) -> None:
        self.admin(system, "POST", "faults", knobs)

    def crm_contacts(self, email: str) -> list[dict[str, Any]]:
        """Live contacts holding ``email`` (search)."""
        response = self.client.post(
            f"{self.config.base_url('crm')}/crm/v3/objects/contacts/search",
            headers=self.crm_headers,
            json={"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ",
                                                 "value": email}]}],
                  "properties": ["email", "firstname", "lastname", "phone", "city",
                                 "hs_email_optout"],
                  "limit": 10, "after": "0", "sorts": []})
        response.raise_for_status()
        return list(response.json()["results"])

    def crm_contact(self, contact_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"{self.config.base_url('crm')}/crm/v3/objects/contacts/{contact_id}",
            params={"properties": "email,firstname,lastname,phone,city,hs_email_optout"},
            headers=self.crm_headers)
        response.raise_for_status()
        return dict(response.json())

    def erp(self, path: str, **params: str) -> dict[str, Any]:
        response = self.client.get(f"{self.config.base_url('erp')}/{path}", params=params,
                                   headers=self.erp_headers)
        response.raise_for_status()
        return dict(response.json())

    def erp_contacts(self, number: str) -> list[dict[str, Any]]:
        """Active contacts whose ContactNumber is ``number``."""
        found = self.erp("Contacts", where=f'ContactNumber=="{number}"')["Contacts"]
        return [c for c in found if c.get("ContactStatus") == "ACTIVE"]

    def erp_invoices(self, reference: str) -> list[dict[str, Any]]:
        return list(self.erp("Invoices", where=f'Reference=="{reference}"')["Invoices"])

    def shop_customers(self, shop: str, email: str) -> list[dict[str, Any]]:
        creds = self.config.credentials
        response = self.client.get(
            f"{self.config.base_url('shop', shop)}/customers/search.json",
            params={"query": f'email:"{email}"'},
            headers={"X-Shopify-Access-Token": creds.shop_tokens[shop]})
        response.raise_for_status()
        return list(response.json()["customers"])

    def close(self) -> None:
        self.client.close()


class FakeWriter:
    """A destination that records every batch and answers as told (default: all confirmed).

    ``reject`` maps key → reason; ``fail`` holds keys that fail transiently.
    """

    needs_intent = False

    def __init__(self, reject: dict[str, str] | None = None,
                 fail: set[str] | None = None) -> None:
        from reverse_etl.pacing import PaceStats

        self.reject = dict(reject or {})
        self.fail = set(fail or ())
        self.batches: list[tuple[str, list[Any]]] = []
        self.stats = PaceStats()

    def route(self, change: Any) -> str:
        return "update" if change.destination_id else "upsert"

    def _answer(self, changes: Sequence[Any], deleting: bool) -> list[Any]:
        from reverse_etl.destinations.base import Outcome

        self.batches.append(("delete" if deleting else "write", list(changes)))
        self.stats.requests += 1
        out = []
        for change in changes:
            if change.key in self.reject:
                out.append(Outcome(change.key, "rejected", change.destination_id,
                                   reason=self.reject[change.key], http_status=207))
            elif change.key in self.fail:
                out.append(Outcome(change.key, "failed", change.destination_id,
                                   reason="HTTP 503"))
            else:
                out.append(Outcome(change.key, "ok", change.destination_id or f"id-{change.key}"))
        return out

    def write(self, route: str, changes: Sequence[Any]) -> list[Any]:
        return self._answer(changes, False)

    def delete(self, route: str, changes: Sequence[Any]) -> list[Any]:
        return self._answer(changes, True)

    def written_keys(self) -> list[str]:
        return [c.key for _, batch in self.batches for c in batch]

    def pace_stats(self) -> list[Any]:
        return [self.stats]

    def close(self) -> None:
        pass
