"""The HubSpot CRM v3 emulator app: auth, rate limits, HubSpot-shaped errors and the routes.

Every vendor route needs ``Authorization: Bearer <token>`` (the sandbox's full or read-only
private-app token); errors of any kind answer in HubSpot's shape
``{status, message, correlationId, category, ...}``, including malformed JSON and wrong types
(400, never FastAPI's 422) and unknown paths (404).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.context import SystemContext
from sandbox.crm import records
from sandbox.crm.api_more import add_more_routes
from sandbox.crm.api_objects import add_object_routes
from sandbox.crm.auth import token_scopes
from sandbox.crm.errors import HubSpotError, error_body
from sandbox.crm.ratelimit import RateLimitMiddleware

ERROR_BODY: bytes = json.dumps({
    "status": "error", "message": "internal error",
    "correlationId": "00000000-0000-4000-8000-000000000000", "category": "INTERNAL_ERROR",
}).encode()
DRIFT_FIELD = "email"


def _is_admin(request: Request) -> bool:
    return request.url.path.startswith("/_sandbox")


def validation_message(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """HubSpot-style message and details for request validation errors.

    >>> validation_message([{"type": "json_invalid", "loc": ("body", 3),
    ...                      "ctx": {"error": "Expecting value"}}])[0]
    'Invalid input JSON on line 1, column 4: Expecting value'
    >>> validation_message([{"type": "int_parsing", "loc": ("query", "limit"),
    ...                      "msg": "Input should be a valid integer"}])[0]
    'Invalid input: query.limit: Input should be a valid integer'
    """
    details: list[dict[str, Any]] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            position = int(loc[1]) if len(loc) > 1 and loc[1].isdigit() else 0
            reason = (error.get("ctx") or {}).get("error", "malformed JSON")
            return (f"Invalid input JSON on line 1, column {position + 1}: {reason}",
                    [{"message": str(reason), "code": "INVALID_JSON"}])
        where = ".".join(loc)
        details.append({"message": f"{where}: {error.get('msg', 'invalid')}", "in": where,
                        "code": str(error.get("type", "invalid")).upper()})
    return "Invalid input: " + "; ".join(d["message"] for d in details), details


def create_app(ctx: SystemContext) -> FastAPI:
    """The CRM app for one sandbox data dir (its store holds the seeded CRM world)."""
    records.ensure_schema(ctx.store)
    app = FastAPI(title="HubSpot CRM (goldloop sandbox)", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(RateLimitMiddleware, ctx=ctx)

    def scopes(authorization: str | None = Header(None)) -> set[str]:
        return token_scopes(ctx.config.credentials, authorization)

    @app.exception_handler(HubSpotError)
    async def hubspot_error(_: Request, exc: HubSpotError) -> Response:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_admin(request):
            return await request_validation_exception_handler(request, exc)
        # FastAPI parses the body before running the auth dependency: authenticate first
        try:
            token_scopes(ctx.config.credentials, request.headers.get("authorization"))
        except HubSpotError as denied:
            return JSONResponse(denied.body(), status_code=denied.status)
        message, details = validation_message(list(exc.errors()))
        return JSONResponse(error_body("VALIDATION_ERROR", message, errors=details),
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_admin(request):
            return await http_exception_handler(request, exc)
        if exc.status_code == 404:
            body = error_body("OBJECT_NOT_FOUND", f"No API endpoint at {request.method} "
                              f"{request.url.path}: check the path against HubSpot's API.")
        else:
            category = "METHOD_NOT_ALLOWED" if exc.status_code == 405 else "VALIDATION_ERROR"
            body = error_body(category, f"HTTP {exc.status_code}: {exc.detail} "
                              f"({request.method} {request.url.path})")
        return JSONResponse(body, status_code=exc.status_code)

    add_object_routes(app, ctx, scopes)
    add_more_routes(app, ctx, scopes)
    return app
