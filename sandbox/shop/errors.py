"""Shopify's error answers, and the exception the handlers raise to send one.

>>> err = not_found()
>>> err.status, err.body()
(404, b'{"errors":"Not Found"}')
"""

from __future__ import annotations

import json
from typing import Any

from goldloop.errors import SandboxError

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
PAGINATION_DOCS = "https://shopify.dev/api/usage/pagination-rest"


class ShopApiError(SandboxError):
    """An error answer of the emulated Shopify API: HTTP ``status`` and ``{"errors": ...}``."""

    def __init__(self, status: int, errors: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"Shopify emulator answers {status}: {errors}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> bytes:
        return json.dumps({"errors": self.errors}, separators=(",", ":")).encode()


def not_found() -> ShopApiError:
    return ShopApiError(404, "Not Found")


def unauthorized() -> ShopApiError:
    return ShopApiError(401, INVALID_TOKEN)


def invalid_param(name: str, message: str = "Invalid value.") -> ShopApiError:
    """400 for one bad query parameter, e.g. ``{"errors":{"limit":"Invalid value."}}``."""
    return ShopApiError(400, {name: message})


def not_with_page_info(name: str) -> ShopApiError:
    """400 for a filter sent together with ``page_info`` (only limit and fields may be)."""
    return invalid_param(name, f"{name} cannot be passed when page_info is present. "
                               f"See {PAGINATION_DOCS} for more information.")


def missing_root(root: str) -> ShopApiError:
    """400 for a write whose body is not JSON or lacks its root object."""
    return ShopApiError(400, {root: "Required parameter missing or invalid"})


def unprocessable(errors: dict[str, list[str]]) -> ShopApiError:
    """422 with field errors, e.g. ``{"email": ["has already been taken"]}``."""
    return ShopApiError(422, errors)


def throttled(leak_per_second: float, retry_after: float) -> ShopApiError:
    """429 when the shop's leaky bucket is full."""
    rate = f"{leak_per_second:g}"
    return ShopApiError(
        429, f"Exceeded {rate} calls per second for api client. "
             "Reduce request rates to resume uninterrupted service.",
        {"Retry-After": f"{max(retry_after, 2.0):.1f}"},
    )
