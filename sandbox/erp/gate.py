"""The door every Xero call passes: bearer token, tenant header, rate limits, limit headers.

Order as Xero applies it: a bad or missing token is 401; on ``/api.xro/2.0`` a missing or foreign
``xero-tenant-id`` is 403 (both ``AuthenticationUnsuccessful`` problem JSON); then the tenant's
limits (429). ``/connections`` needs only the token. ``/_sandbox/*`` is never gated.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.context import SystemContext
from sandbox.erp import ratelimit
from sandbox.erp.render import dumps, problem

API_PREFIX = "/api.xro/2.0"
CONNECTIONS = ("/connections", "/Connections")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def bearer_ok(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries exactly the sandbox's bearer token.

    >>> bearer_ok("Bearer abc", "abc"), bearer_ok("bearer abc", "abc"), bearer_ok("abc", "abc")
    (True, True, False)
    """
    if not authorization:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def tenant_ok(header: str | None, tenant_id: str) -> bool:
    """Whether ``xero-tenant-id`` names the sandbox's tenant (GUIDs compare case-insensitively).

    >>> tenant_ok("ABC", "abc"), tenant_ok(None, "abc")
    (True, False)
    """
    return header is not None and header.strip().lower() == tenant_id.lower()


async def _send_json(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class XeroGate:
    """ASGI middleware applying Xero's auth and limits to the vendor paths."""

    def __init__(self, app: ASGIApp, ctx: SystemContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        if not (is_api or path in CONNECTIONS):
            await self.app(scope, receive, send)
            return
        creds = self.ctx.config.credentials
        if not bearer_ok(_header(scope, b"authorization"), creds.erp_token):
            await _send_json(send, 401, dumps(problem(401, "Unauthorized",
                                                      "AuthenticationUnsuccessful")),
                             {**ratelimit.remaining_headers(self.ctx),
                              "WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        if is_api and not tenant_ok(_header(scope, b"xero-tenant-id"), creds.erp_tenant_id):
            await _send_json(send, 403, dumps(problem(403, "Forbidden",
                                                      "AuthenticationUnsuccessful")),
                             ratelimit.remaining_headers(self.ctx))
            return
        verdict = ratelimit.admit(self.ctx)
        if verdict.problem is not None:
            headers = {**verdict.headers, "Retry-After": str(verdict.retry_after),
                       "X-Rate-Limit-Problem": verdict.problem}
            detail = f"Rate limit exceeded ({verdict.problem}); retry after " \
                     f"{verdict.retry_after} seconds"
            await _send_json(send, 429, dumps(problem(429, "Too Many Requests", detail)), headers)
            return
        extra = [(k.lower().encode(), v.encode()) for k, v in verdict.headers.items()]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        finally:
            ratelimit.release(self.ctx)
