"""Turn what goes wrong during an extract into one clear :class:`goldloop.errors.SourceError`.

dlt wraps a connector's exception in ``PipelineStepFailed`` → ``ResourceExtractionError`` → the
original (an ``HTTPError``, a connection error, a missing secret...). :func:`source_error` walks
that chain and says which system and endpoint failed, and how to fix it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.common.configuration.exceptions import ConfigFieldMissingException

from goldloop.errors import GoldloopError, SourceError

# The secret(s) each system authenticates with (dlt config keys under sources.<system>.).
CREDENTIAL_KEYS: dict[str, str] = {
    "crm": "sources.crm.access_token",
    "erp": "sources.erp.access_token and sources.erp.tenant_id",
    "shop": "sources.shop.access_tokens",
    "hr": "sources.hr.api_key",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (``__cause__``, ``__context__``, ``.exception``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "exception", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def endpoint_of(url: str | None, method: str | None = None) -> str:
    """``METHOD /path`` of a URL, without host or query (query strings may carry secrets).

    >>> endpoint_of("http://h:1/crm/v3/objects/contacts?limit=100&after=x", "get")
    'GET /crm/v3/objects/contacts'
    """
    path = urlsplit(url or "").path or "/"
    return f"{(method or 'GET').upper()} {path}"


def status_hint(system: str, status: int) -> str:
    """What to do about an HTTP status from ``system``.

    >>> status_hint("crm", 401)
    'check sources.crm.access_token (env SOURCES__CRM__ACCESS_TOKEN or .dlt/secrets.toml)'
    """
    creds = CREDENTIAL_KEYS.get(system, f"sources.{system} credentials")
    if status == 401:
        env = creds.split(" and ")[0].upper().replace(".", "__")
        return f"check {creds} (env {env} or .dlt/secrets.toml)"
    if status == 403:
        return f"the credentials in {creds} lack a read scope this endpoint needs: grant it"
    if status == 404:
        return f"check sources.{system}.base_url (the endpoint does not exist there)"
    if status == 429:
        return (f"the system kept rate-limiting after every retry: lower "
                f"sources.{system}.requests_per_second or run again later")
    if status >= 500:
        return "the system kept failing after every retry: run again later (loads resume)"
    return f"the request was rejected: check sources.{system}.* settings and the API version"


def _vendor_message(response: requests.Response) -> str:
    """The vendor's own error message from a response body or header, shortened."""
    message = response.headers.get("X-BambooHR-Error-Message", "")
    if not message:
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            error = body.get("error")
            inner: dict[str, Any] = error if isinstance(error, dict) else body
            message = str(inner.get("message") or inner.get("Message") or inner.get("detail")
                          or inner.get("errors") or "")
    return message[:200]


def source_error(system: str, exc: BaseException) -> GoldloopError:
    """The goldloop error to raise for ``exc`` while extracting ``system``."""
    for cause in _chain(exc):
        if isinstance(cause, GoldloopError):
            return cause
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            response = cause.response
            where = endpoint_of(response.url, response.request.method if response.request
                                else None)
            vendor = _vendor_message(response)
            detail = f": {vendor}" if vendor else ""
            return SourceError(f"{system}: {where} answered {response.status_code}{detail}",
                               hint=status_hint(system, response.status_code))
        if isinstance(cause, requests.ConnectionError | requests.Timeout):
            request = getattr(cause, "request", None)
            where = endpoint_of(getattr(request, "url", None), getattr(request, "method", None))
            kind = "timed out" if isinstance(cause, requests.Timeout) else "is unreachable"
            return SourceError(
                f"{system}: {where} {kind} after every retry",
                hint=f"check sources.{system}.base_url and that the system is up "
                     "(sandbox: `goldloop sandbox up`)",
            )
        if isinstance(cause, ValueError) and "JSON" in type(cause).__name__ + str(cause):
            return SourceError(f"{system}: a response body was not valid JSON after every retry",
                               hint="run the extract again (nothing partial was committed)")
        if isinstance(cause, ConfigFieldMissingException):
            fields = ", ".join(f"sources.{system}.{f}" for f in cause.fields)
            env = ", ".join(f"SOURCES__{system.upper()}__{f.upper()}" for f in cause.fields)
            return SourceError(f"{system}: missing configuration {fields}",
                               hint=f"set {env} or add them to .dlt/secrets.toml")
    return SourceError(f"{system}: extract failed: {type(exc).__name__}: {str(exc)[:300]}",
                       hint="see the error above; rerun the extract (loads resume)")
