"""BambooHR's error answers: which shape each path uses, and the response objects.

Classic ``/api/v1`` endpoints put the message in the ``X-BambooHR-Error-Message`` header (the
sandbox also sends ``{"error": {"code", "message"}}``, the body the newer v1 endpoints use);
``/api/v1_2`` and ``/api/v2`` endpoints answer RFC 7807 problem JSON.

>>> error_style("/api/v2/datasets/employee/data"), error_style("/api/v1/employees/4")
('problem', 'error')
>>> error_payload(404, "NotFound", "no employee 4", "/api/v1/employees/4")
{'error': {'code': 'NotFound', 'message': 'no employee 4'}}
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Literal

from starlette.responses import Response

Style = Literal["error", "problem"]


def error_style(path: str) -> Style:
    """The error shape BambooHR uses on ``path``."""
    return "problem" if path.startswith(("/api/v2/", "/api/v1_2/")) else "error"


def error_payload(status: int, code: str, message: str, path: str) -> dict[str, Any]:
    """The JSON error body for ``path``."""
    if error_style(path) == "problem":
        return {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": message,
            "instance": path,
            "code": code,
        }
    return {"error": {"code": code, "message": message}}


def _header_safe(message: str) -> str:
    """Header values must be latin-1 and one line."""
    return message.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace").decode(
        "latin-1"
    )


def error_reply(status: int, code: str, message: str, path: str,
                headers: dict[str, str] | None = None) -> Response:
    """A complete BambooHR-style error response."""
    media = "application/problem+json" if path.startswith("/api/v1_2/") else "application/json"
    return Response(
        json.dumps(error_payload(status, code, message, path)).encode(),
        status_code=status,
        media_type=media,
        headers={"X-BambooHR-Error-Message": _header_safe(message), **(headers or {})},
    )


def json_reply(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    return Response(
        json.dumps(payload, separators=(",", ":")).encode(), status_code=status,
        media_type="application/json", headers=headers,
    )


class HrError(Exception):
    """A request the emulator refuses: carries the status, error code and message to send."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
