"""HubSpot's error bodies: one exception the routes raise, and the JSON shapes it renders to.

>>> body = error_body("VALIDATION_ERROR", "bad", context={"ids": ["1"]})
>>> body["status"], body["category"], body["context"], len(body["correlationId"])
('error', 'VALIDATION_ERROR', {'ids': ['1']}, 36)
"""

from __future__ import annotations

import uuid
from typing import Any


def correlation_id() -> str:
    """A fresh correlation id (HubSpot sends a UUID with every error)."""
    return str(uuid.uuid4())


def error_body(category: str, message: str, *, context: dict[str, list[str]] | None = None,
               errors: list[dict[str, Any]] | None = None,
               sub_category: str | None = None) -> dict[str, Any]:
    """The top-level error shape ``{status, message, correlationId, category, ...}``."""
    body: dict[str, Any] = {
        "status": "error", "message": message, "correlationId": correlation_id(),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if context:
        body["context"] = context
    if errors:
        body["errors"] = errors
    return body


def standard_error(category: str, message: str,
                   context: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One entry of a batch response's ``errors[]`` (the spec's ``StandardError``).

    >>> standard_error("OBJECT_NOT_FOUND", "gone", {"ids": ["7"]})["context"]
    {'ids': ['7']}
    """
    return {"status": "error", "category": category, "message": message,
            "context": context or {}, "errors": [], "links": {}}


class HubSpotError(Exception):
    """An API error: raised anywhere in a handler, rendered by the app's exception handler."""

    def __init__(self, status: int, category: str, message: str, *,
                 context: dict[str, list[str]] | None = None,
                 errors: list[dict[str, Any]] | None = None, sub_category: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context
        self.errors = errors
        self.sub_category = sub_category
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.category, self.message, context=self.context,
                          errors=self.errors, sub_category=self.sub_category)


def validation_error(message: str, **kw: Any) -> HubSpotError:
    """A 400 ``VALIDATION_ERROR``."""
    return HubSpotError(400, "VALIDATION_ERROR", message, **kw)


def not_found(message: str, **kw: Any) -> HubSpotError:
    """A 404 ``OBJECT_NOT_FOUND``."""
    return HubSpotError(404, "OBJECT_NOT_FOUND", message, **kw)
