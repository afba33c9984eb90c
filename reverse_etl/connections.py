"""Where each destination lives and how to sign in: dlt's config/secrets conventions.

The same settings the extract pipelines read (``sources.<system>.*`` in ``.dlt/*.toml`` or env
vars such as ``SOURCES__CRM__ACCESS_TOKEN``), read when a sync runs, never at import. Unset
values default to the local sandbox's (its tokens open nothing real).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from goldloop.errors import ConfigError

SHOPIFY_API_VERSION = "2021-10"
SANDBOX_DEFAULTS: dict[str, dict[str, Any]] = {
    "crm": {"base_url": "http://127.0.0.1:18101", "access_token": "pat-sandbox-crm-full"},
    "erp": {"base_url": "http://127.0.0.1:18102/api.xro/2.0",
            "access_token": "xero-sandbox-access-token",
            "tenant_id": "8f1f0f48-2b1a-4a5e-9c55-5a1b2b3c4d5e"},
    "shop": {
        "shops": [{"name": n, "base_url": f"http://127.0.0.1:18103/shops/{n}/admin/api/"
                                          f"{SHOPIFY_API_VERSION}"}
                  for n in ("northwind", "southwind")],
        "access_tokens": {"northwind": "shpat_sandbox_northwind",
                          "southwind": "shpat_sandbox_southwind"},
    },
}


@dataclass(frozen=True)
class Connection:
    """Base URL and credentials of one system (shops: one entry per shop)."""

    system: str
    base_url: str = ""
    token: str = field(default="", repr=False)
    tenant_id: str | None = None
    connections_url: str | None = None
    shops: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    requests_per_second: float | None = None  # pace override (0 = unlimited), e.g. benchmarks
    burst: int | None = None

    def shop(self, name: str) -> tuple[str, str]:
        """(base URL, token) of one shop; an unknown shop is a configuration error."""
        if name not in self.shops:
            raise ConfigError(f"the sync model names shop {name!r}, which is not configured "
                              f"(configured: {', '.join(sorted(self.shops)) or 'none'})",
                              hint="add it to sources.shop.shops and sources.shop.access_tokens")
        return self.shops[name]


def _get(kind: str, key: str, default: Any) -> Any:
    import dlt

    accessor = dlt.secrets if kind == "secret" else dlt.config
    value: Any = accessor.get(key)
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return default if value in (None, "") else value


def _pace(system: str) -> dict[str, Any]:
    """``sources.<system>.requests_per_second`` / ``.burst``: the pace override the extract
    pipelines honour too (0 lifts the limit: a sandbox with its limits off)."""
    rps = _get("config", f"sources.{system}.requests_per_second", None)
    burst = _get("config", f"sources.{system}.burst", None)
    return {"requests_per_second": None if rps is None else float(rps),
            "burst": None if burst is None else int(burst)}


def resolve(system: str) -> Connection:
    """The connection of ``system`` from dlt config/secrets (sandbox defaults)."""
    defaults = SANDBOX_DEFAULTS[system]
    if system == "shop":
        shops = _get("config", "sources.shop.shops", defaults["shops"])
        tokens = _get("secret", "sources.shop.access_tokens", defaults["access_tokens"])
        resolved: dict[str, tuple[str, str]] = {}
        for entry in shops:
            name = str(entry.get("name", ""))
            if name not in tokens:
                raise ConfigError(f"no access token for shop {name!r}",
                                  hint=f'add "{name}" = "<token>" under '
                                       "[sources.shop.access_tokens] in .dlt/secrets.toml")
            resolved[name] = (str(entry["base_url"]).rstrip("/"), str(tokens[name]))
        return Connection("shop", shops=resolved, **_pace(system))
    base = str(_get("config", f"sources.{system}.base_url", defaults["base_url"])).rstrip("/")
    token = str(_get("secret", f"sources.{system}.access_token", defaults["access_token"]))
    if system == "erp":
        tenant = _get("secret", "sources.erp.tenant_id", None)
        connections_url = _get("config", "sources.erp.connections_url", None)
        if tenant is None and connections_url is None:
            tenant = defaults["tenant_id"] if base == defaults["base_url"] else None
        return Connection("erp", base, token, tenant, connections_url, **_pace(system))
    return Connection(system, base, token, **_pace(system))
