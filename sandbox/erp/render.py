"""Xero-shaped response bodies: the list envelope and the error shapes.

Xero answers lists as ``{"Id", "Status": "OK", "ProviderName", "DateTimeUTC", "pagination"?,
"<Plural>": [...]}``; validation failures as ``{"ErrorNumber": 10, "Type": "ValidationException",
"Message", "Elements": [...]}``; unreadable bodies as ``PostDataInvalidException`` (14); bad
``where`` clauses as ``QueryParseException`` (16); auth failures as RFC 7807-like problem JSON.

>>> body = json.loads(envelope("Contacts", ["{}"], 1000, pagination=(1, 100, 1, 1)))
>>> body["Status"], body["DateTimeUTC"], body["pagination"]["itemCount"], body["Contacts"]
('OK', '/Date(1000)/', 1, [{}])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sandbox.erp.dates import ms_json_bare

PROVIDER_NAME = "goldloop sandbox"

ERROR_500: dict[str, Any] = {
    "Title": "An error occurred",
    "Detail": "An error occurred in Xero. Check the API Status page "
              "http://status.developer.xero.com for current service status.",
    "Status": 500,
    "Instance": "00000000-0000-0000-0000-000000000000",
}


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes (Xero sends no whitespace)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def envelope(plural: str, raw_records: Sequence[str], now_ms: int,
             pagination: tuple[int, int, int, int] | None = None) -> bytes:
    """A list response built from already-serialised records (no re-encoding of each body).

    ``pagination`` is ``(page, pageSize, pageCount, itemCount)``.
    """
    head: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": PROVIDER_NAME,
        "DateTimeUTC": ms_json_bare(now_ms),
    }
    if pagination is not None:
        page, size, count, items = pagination
        head["pagination"] = {"page": page, "pageSize": size, "pageCount": count,
                              "itemCount": items}
    prefix = json.dumps(head, separators=(",", ":"))[:-1]
    return f'{prefix},"{plural}":[{",".join(raw_records)}]}}'.encode()


def envelope_of(plural: str, records: Sequence[dict[str, Any]], now_ms: int) -> bytes:
    """A list response from record dicts (writes)."""
    return envelope(plural, [json.dumps(r, separators=(",", ":"), ensure_ascii=False)
                             for r in records], now_ms)


def validation_error(elements: list[dict[str, Any]] | None = None,
                     message: str = "A validation exception occurred") -> dict[str, Any]:
    """Xero's 400 ``ValidationException`` (``Elements`` carry per-element ``ValidationErrors``).

    >>> validation_error([{"Name": "x", "ValidationErrors": [{"Message": "m"}]}])["ErrorNumber"]
    10
    """
    body: dict[str, Any] = {"ErrorNumber": 10, "Type": "ValidationException", "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return body


def post_data_invalid(message: str) -> dict[str, Any]:
    """Xero's 400 for a body it cannot read (malformed JSON, wrong types).

    >>> post_data_invalid("x")["Type"]
    'PostDataInvalidException'
    """
    return {"ErrorNumber": 14, "Type": "PostDataInvalidException", "Message": message}


def query_parse_error(message: str) -> dict[str, Any]:
    """Xero's 400 for a ``where``/``order`` it cannot parse.

    >>> query_parse_error("Expression expected")["ErrorNumber"]
    16
    """
    return {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """Xero's identity-layer problem JSON (401/403/404/429).

    >>> problem(401, "Unauthorized", "AuthenticationUnsuccessful")["Type"] is None
    True
    """
    return {"Type": None, "Title": title, "Status": status, "Detail": detail,
            "Instance": str(uuid.uuid4()), "Extensions": {}}


class ApiError(Exception):
    """An error answer: HTTP status, Xero-shaped JSON body and any extra headers."""

    def __init__(self, status: int, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body.get("Message") or body.get("Detail") or body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found() -> ApiError:
    """Xero's 404 for an unknown path or record.

    >>> not_found().status
    404
    """
    return ApiError(404, problem(404, "Not Found",
                                 "The resource you're looking for cannot be found"))
