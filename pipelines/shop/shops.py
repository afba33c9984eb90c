"""Which shops to read: ``sources.shop.shops = [{name, base_url}]`` and their tokens, validated."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goldloop.errors import ConfigError

API_VERSION = "2021-10"
# Defaults: the local sandbox's two shops (their tokens open nothing real).
SANDBOX_SHOPS: tuple[dict[str, str], ...] = tuple(
    {"name": name, "base_url": f"http://127.0.0.1:18103/shops/{name}/admin/api/{API_VERSION}"}
    for name in ("northwind", "southwind")
)
SANDBOX_TOKENS: dict[str, str] = {
    "northwind": "shpat_sandbox_northwind", "southwind": "shpat_sandbox_southwind",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Shop:
    """One Shopify shop: its short name (the ``shop`` column), API base URL and access token."""

    name: str
    base_url: str
    token: str = ""

    def __repr__(self) -> str:  # never print the token
        return f"Shop(name={self.name!r}, base_url={self.base_url!r})"


def resolve_shops(shops: Sequence[Mapping[str, Any]],
                  tokens: Mapping[str, str]) -> list[Shop]:
    """Validate the configured shops and pair each with its token.

    >>> resolve_shops([{"name": "a", "base_url": "https://a.myshopify.com/admin/api/2021-10/"}],
    ...               {"a": "t"})
    [Shop(name='a', base_url='https://a.myshopify.com/admin/api/2021-10')]
    >>> resolve_shops([{"name": "a", "base_url": "https://x"}], {})
    Traceback (most recent call last):
    ...
    goldloop.errors.ConfigError: no access token for shop 'a' in sources.shop.access_tokens (fix: add "a" = "<token>" under [sources.shop.access_tokens] in .dlt/secrets.toml or set SOURCES__SHOP__ACCESS_TOKENS='{"a": "<token>"}')
    """  # noqa: E501
    if not shops:
        raise ConfigError("sources.shop.shops is empty",
                          hint='list the shops, e.g. shops = [{name = "main", base_url = '
                               '"https://main.myshopify.com/admin/api/2021-10"}]')
    resolved: list[Shop] = []
    for number, entry in enumerate(shops, start=1):
        name = str(entry.get("name") or "")
        base_url = str(entry.get("base_url") or "").rstrip("/")
        if not _NAME.match(name):
            raise ConfigError(f"sources.shop.shops entry {number} has an invalid name {name!r}",
                              hint="use lower-case letters, digits, - and _ (e.g. northwind)")
        if any(shop.name == name for shop in resolved):
            raise ConfigError(f"sources.shop.shops lists shop {name!r} twice",
                              hint="give every shop a unique name")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"sources.shop.shops entry {name!r} has no http(s) base_url",
                              hint="set base_url to https://<shop>.myshopify.com/admin/api/"
                                   f"{API_VERSION}")
        token = tokens.get(name)
        if not token:
            raise ConfigError(
                f"no access token for shop {name!r} in sources.shop.access_tokens",
                hint=f'add "{name}" = "<token>" under [sources.shop.access_tokens] in '
                     f".dlt/secrets.toml or set SOURCES__SHOP__ACCESS_TOKENS="
                     f"'{{\"{name}\": \"<token>\"}}'",
            )
        resolved.append(Shop(name, base_url, token))
    return resolved
