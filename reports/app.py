"""The report server: every page rendered on request from the warehouse, CSV exports streamed.

Pages carry no-store and a Content-Security-Policy that lets them load nothing from anywhere
(style and script are inlined, images are data: URLs). When an access token is configured,
every request needs it: as ``Authorization: Bearer <token>``, or once through the login form,
which sets an HttpOnly cookie holding a keyed hash of the token (never the token itself).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from goldloop.errors import GoldloopError
from goldloop.settings import Settings
from reports.links import ServerLinks, dagster_base
from reports.render import csv_request, environment, render_csv, render_page
from reports.site import DEFAULT_DBT_TARGET, Site

COOKIE = "goldloop_report"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "script-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def cookie_value(token: str) -> str:
    """What the session cookie holds for ``token``: a keyed hash, not the token.

    >>> len(cookie_value("s3cret-token")), cookie_value("a") == cookie_value("b")
    (64, False)
    """
    return hmac.new(token.encode(), b"goldloop-report-session", hashlib.sha256).hexdigest()


def authorized(request: Request, token: str) -> bool:
    """Whether the request carries the token (bearer header) or the session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and hmac.compare_digest(
            header[7:].strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), cookie_value(token).encode())


def safe_next(target: str) -> str:
    """A post-login redirect kept on this site (a local path), else the overview.

    >>> safe_next("/customers?q=x"), safe_next("//evil.example/"), safe_next("https://x")
    ('/customers?q=x', '/', '/')
    """
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


class TokenGate(BaseHTTPMiddleware):
    """Lets a request through only with the access token (when one is configured)."""

    def __init__(self, app: object, token: str | None) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if self.token and request.url.path != "/login" and not authorized(request, self.token):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return login_page(target, "", 401)
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def login_page(target: str, message: str, status: int) -> HTMLResponse:
    """The access-token form."""
    html = environment().get_template("login.html").render(next=safe_next(target),
                                                           message=message)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def create_app(settings: Settings, *, dbt_target: Path = DEFAULT_DBT_TARGET,
               token: str | None = None) -> Starlette:
    """The report site as an ASGI app (``token``: require it on every request).

    Pages link their assets in the Dagster UI at ``GOLDLOOP_DAGSTER_URL`` (read here, once).
    """

    dagster = dagster_base()  # checked once, at start

    def site() -> Site:
        return Site(settings, ServerLinks(), dbt_target, dagster_url=dagster)

    def page(request: Request) -> Response:
        name = request.path_params.get("name", "index")
        status, html = render_page(name, dict(request.query_params), site())
        return HTMLResponse(html, status_code=status)

    def export(request: Request) -> Response:
        name = request.path_params["table"]
        raw = dict(request.query_params)
        found = csv_request(name, raw)
        if found is None:
            return PlainTextResponse(f"There is no table called '{name[:60]}' to export. Use "
                                     "the Export CSV link under a table.\n", status_code=404)
        if found[2]:
            return PlainTextResponse("Nothing exported: " + " ".join(found[2]) + "\n",
                                     status_code=400)
        chunks = render_csv(name, raw, site())
        try:
            first = next(chunks)  # opens the warehouse now, so its errors get a clear answer
        except GoldloopError as exc:
            return PlainTextResponse(f"Nothing exported: {exc}\n", status_code=503)

        def body() -> Iterator[str]:
            yield first
            yield from chunks

        return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})

    async def login(request: Request) -> Response:
        if request.method == "GET":
            return login_page(request.query_params.get("next", "/"), "", 200)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0]
        target = safe_next((form.get("next") or ["/"])[0])
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return login_page(target, "That token is not right.", 401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, cookie_value(token), httponly=True, samesite="strict")
        return response

    routes = [
        Route("/", page),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/csv/{table}", export),
        Route("/{name}", page),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TokenGate, token=token)])
