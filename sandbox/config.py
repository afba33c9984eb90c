"""The sandbox's fixed facts: ports, credentials, published limits. Saved per data dir.

These credentials are the sandbox's own (they open nothing real); the connectors receive them
through dlt secrets / env vars exactly like real ones.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

SYSTEMS: tuple[str, ...] = ("crm", "erp", "shop", "hr")
DEFAULT_PORTS: dict[str, int] = {"crm": 18101, "erp": 18102, "shop": 18103, "hr": 18104}
DEFAULT_WEBHOOK_PORT = 18110
SHOPIFY_API_VERSION = "2021-10"
HR_COMPANY_DOMAIN = "goldloop"
XERO_TENANT_ID = "8f1f0f48-2b1a-4a5e-9c55-5a1b2b3c4d5e"

HUBSPOT_READ_SCOPES = (
    "crm.objects.contacts.read", "crm.objects.companies.read", "crm.objects.deals.read",
    "crm.objects.line_items.read", "e-commerce", "crm.objects.owners.read",
)
HUBSPOT_WRITE_SCOPES = (
    "crm.objects.contacts.write", "crm.objects.companies.write", "crm.objects.deals.write",
    "crm.objects.line_items.write",
)


class Credentials(BaseModel):
    """Tokens and webhook secrets the sandbox accepts and signs with."""

    crm_token: str = "pat-sandbox-crm-full"
    crm_token_scopes: list[str] = Field(
        default_factory=lambda: [*HUBSPOT_READ_SCOPES, *HUBSPOT_WRITE_SCOPES]
    )
    crm_readonly_token: str = "pat-sandbox-crm-readonly"
    crm_readonly_scopes: list[str] = Field(default_factory=lambda: list(HUBSPOT_READ_SCOPES))
    crm_client_secret: str = "sandbox-hubspot-client-secret"
    erp_token: str = "xero-sandbox-access-token"
    erp_tenant_id: str = XERO_TENANT_ID
    erp_webhook_key: str = "sandbox-xero-webhook-key"
    shop_tokens: dict[str, str] = Field(
        default_factory=lambda: {
            "northwind": "shpat_sandbox_northwind", "southwind": "shpat_sandbox_southwind"
        }
    )
    shop_webhook_secret: str = "sandbox-shopify-webhook-secret"
    hr_api_key: str = "sandbox-bamboohr-api-key"


class Limits(BaseModel):
    """Published limits (``../shared/specs/README.md``); ``enabled=False`` lifts them all."""

    enabled: bool = True
    crm_burst: int = 190  # requests per crm_interval_ms (Pro / Enterprise)
    crm_interval_ms: int = 10_000
    crm_search_per_second: int = 4
    crm_daily: int = 1_000_000
    crm_batch_max: int = 100
    erp_per_minute: int = 60
    erp_daily: int = 5_000
    erp_batch_max: int = 50
    erp_page_size_max: int = 1000
    shop_bucket: int = 40
    shop_leak_per_second: float = 2.0
    shop_page_size_max: int = 250
    hr_per_second: int = 10  # BambooHR publishes no quota: a configurable bound


class SandboxConfig(BaseModel):
    """Everything a sandbox data dir was created with."""

    seed: int = 42
    customers: int = 1000
    order_lines: int | None = None  # about this many shop order lines; None: the default mix
    host: str = "127.0.0.1"
    ports: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PORTS))
    credentials: Credentials = Field(default_factory=Credentials)
    limits: Limits = Field(default_factory=Limits)
    webhook_url: str | None = None

    def base_url(self, system: str, shop: str | None = None) -> str:
        """The base URL a connector uses for ``system`` (and one shop).

        >>> SandboxConfig().base_url("erp")
        'http://127.0.0.1:18102/api.xro/2.0'
        >>> SandboxConfig().base_url("shop", "northwind")
        'http://127.0.0.1:18103/shops/northwind/admin/api/2021-10'
        """
        root = f"http://{self.host}:{self.ports[system]}"
        if system == "erp":
            return f"{root}/api.xro/2.0"
        if system == "shop":
            return f"{root}/shops/{shop or 'northwind'}/admin/api/{SHOPIFY_API_VERSION}"
        if system == "hr":
            return f"{root}/api/v1"
        return root

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "config.json").write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, data_dir: Path) -> SandboxConfig:
        return cls.model_validate(json.loads((data_dir / "config.json").read_text()))
