"""What every BambooHR request passes first: gateway path, Basic auth, Accept, throttling.

>>> gateway_path("/api/gateway.php/goldloop/v1/employees/directory", "goldloop")
'/api/v1/employees/directory'
>>> gateway_path("/api/v1/employees", "goldloop")
'/api/v1/employees'
>>> basic_user("Basic " + base64.b64encode(b"key:x").decode())
'key'
>>> accepts_json("application/json"), accepts_json(None), accepts_json("application/xml")
(True, True, False)
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.config import HR_COMPANY_DOMAIN
from sandbox.context import SystemContext
from sandbox.hr.replies import error_reply
from sandbox.limits import SlidingWindow

THROTTLE_STATE = "hr_throttle_status"  # ctx.state key: 429 | 503 | "alternate"
DEFAULT_THROTTLE_STATUS = 429  # BambooHR answers 429 since 2026-09-16 (503 before)


def gateway_path(path: str, company_domain: str) -> str:
    """Map BambooHR's classic ``/api/gateway.php/{domain}/v1/...`` base onto ``/api/v1/...``."""
    prefix = f"/api/gateway.php/{company_domain}/"
    return "/api/" + path[len(prefix):] if path.startswith(prefix) else path


def basic_user(authorization: str | None) -> str | None:
    """The user name of an HTTP Basic ``Authorization`` header, or None."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, _password = decoded.partition(":")
    return user if sep else None


def accepts_json(accept: str | None) -> bool:
    """False only when ``Accept`` names media types and none of them can be JSON."""
    if not accept or not accept.strip():
        return True
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("*/*", "application/*") or "json" in media:
            return True
    return False


def throttle_status(ctx: SystemContext) -> int:
    """429 or 503 for the next throttled request (``"alternate"`` flips between them)."""
    setting = ctx.state.get(THROTTLE_STATE, DEFAULT_THROTTLE_STATUS)
    if setting == "alternate":
        last = ctx.state.get("hr_throttle_last", 503)
        status = 429 if last == 503 else 503
        ctx.state["hr_throttle_last"] = status
        return status
    return int(setting)


def _window(ctx: SystemContext) -> SlidingWindow:
    return ctx.meter("hr_per_second", lambda limits: SlidingWindow(limits.hr_per_second, 1.0))


class HrGuard:
    """ASGI middleware: rewrites gateway paths, checks auth and Accept, enforces the rate bound.

    ``/_sandbox/*`` (admin) passes untouched.
    """

    def __init__(self, app: ASGIApp, ctx: SystemContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        path = gateway_path(scope["path"], HR_COMPANY_DOMAIN)
        if path != scope["path"]:
            scope = {**scope, "path": path, "raw_path": path.encode()}
        refusal = self._refusal(scope, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, path: str) -> Any:
        headers = Headers(scope=scope)
        if basic_user(headers.get("authorization")) != self.ctx.config.credentials.hr_api_key:
            return error_reply(
                401, "Unauthorized",
                "Send HTTP Basic auth with your API key as the user name and any password.",
                path, {"WWW-Authenticate": 'Basic realm="BambooHR"'},
            )
        if not accepts_json(headers.get("accept")):
            return error_reply(
                406, "NotAcceptable",
                "This sandbox answers JSON only: send 'Accept: application/json'.", path,
            )
        if self.ctx.limits.enabled:
            window = _window(self.ctx)
            if not window.hit():
                wait = max(1, math.ceil(window.retry_after()))
                return error_reply(
                    throttle_status(self.ctx), "TooManyRequests",
                    f"API rate limit exceeded; retry after {wait} s.", path,
                    {"Retry-After": str(wait)},
                )
        return None
