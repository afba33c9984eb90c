"""The ASGI webhook receiver (``goldloop webhooks serve``): verify, store once, acknowledge.

``POST /webhooks`` (or ``/``) takes any of the three vendors, told apart by their signature
header; ``POST /webhooks/{crm|hubspot|shop|shopify|erp|xero}`` takes one. Answers:

- 401 and nothing stored: signature missing or wrong, HubSpot timestamp expired, vendor not
  configured;
- 413: body over the limit (1 MiB by default); 400: authentic but not the vendor's payload;
- 200 once every event is durably in the inbox (a replayed event is stored once), 503 if the
  inbox cannot be written (the vendor retries). Nothing is processed here: the inbox sensor
  starts the runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestration.webhooks.events import (
    InboxEvent,
    MalformedWebhook,
    hubspot_events,
    shopify_events,
    xero_events,
)
from orchestration.webhooks.inbox import Stored
from orchestration.webhooks.signatures import (
    HUBSPOT_MAX_AGE_MS,
    Verdict,
    verify_body_hmac,
    verify_hubspot_v3,
)

log = logging.getLogger("goldloop.webhooks")

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_PORT = 18110

VENDOR_SYSTEMS = {"crm": "crm", "hubspot": "crm", "shop": "shop", "shopify": "shop",
                  "erp": "erp", "xero": "erp"}
_SIGNATURE_HEADERS = (("x-hubspot-signature-v3", "crm"), ("x-shopify-hmac-sha256", "shop"),
                      ("x-xero-signature", "erp"))

Store = Callable[[Sequence[InboxEvent]], Stored]


@dataclass(frozen=True)
class WebhookSecrets:
    """The shared secrets each vendor signs with (None: that vendor's webhooks are refused)."""

    hubspot_client_secret: str | None = None
    shopify_secret: str | None = None
    xero_webhook_key: str | None = None

    def missing(self) -> list[str]:
        """The dlt secret keys that are not set."""
        keys = (("sources.crm.client_secret", self.hubspot_client_secret),
                ("sources.shop.webhook_secret", self.shopify_secret),
                ("sources.erp.webhook_key", self.xero_webhook_key))
        return [key for key, value in keys if not value]


class BodyTooLarge(Exception):
    """The request body is over the limit."""


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def detect_system(path_vendor: str | None, headers: Any) -> str | None:
    """The system a request claims to come from (the path wins, else the signature header).

    >>> detect_system(None, {"x-xero-signature": "x"}), detect_system("shopify", {})
    ('erp', 'shop')
    """
    if path_vendor is not None:
        return VENDOR_SYSTEMS.get(path_vendor.lower())
    for header, system in _SIGNATURE_HEADERS:
        if header in headers:
            return system
    return None


def signed_uris(request: Request, public_url: str | None) -> list[str]:
    """The URIs HubSpot may have signed: as the request arrived, and without a final slash."""
    if public_url:
        base = public_url.rstrip("/")
    else:
        scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
        host = request.headers.get("x-forwarded-host", request.headers.get("host", ""))
        base = f"{scheme}://{host}"
    uri = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return [uri, uri.rstrip("/")] if uri.endswith("/") else [uri]


def create_app(store: Store, secrets: WebhookSecrets, *, max_body_bytes: int = MAX_BODY_BYTES,
               hubspot_max_age_ms: int = HUBSPOT_MAX_AGE_MS, public_url: str | None = None,
               clock: Callable[[], float] = time.time) -> Starlette:
    """The receiver app; ``store`` writes events to the inbox (called off the event loop)."""

    def verify(system: str, request: Request, body: bytes) -> Verdict:
        headers = request.headers
        if system == "crm":
            return verify_hubspot_v3(
                secrets.hubspot_client_secret, request.method, signed_uris(request, public_url),
                body, headers.get("x-hubspot-request-timestamp"),
                headers.get("x-hubspot-signature-v3"), int(clock() * 1000), hubspot_max_age_ms)
        if system == "shop":
            return verify_body_hmac(secrets.shopify_secret, body,
                                    headers.get("x-shopify-hmac-sha256"))
        return verify_body_hmac(secrets.xero_webhook_key, body, headers.get("x-xero-signature"))

    def parse(system: str, request: Request, body: bytes) -> list[InboxEvent]:
        if system == "crm":
            return hubspot_events(body)
        if system == "shop":
            return shopify_events(body, {k.lower(): v for k, v in request.headers.items()})
        return xero_events(body)

    async def receive(request: Request) -> Response:
        vendor = request.path_params.get("vendor")
        system = detect_system(vendor, request.headers)
        if system is None:
            if vendor is not None:
                return JSONResponse({"error": f"unknown vendor {vendor!r}"}, status_code=404)
            return JSONResponse({"error": "no vendor signature"}, status_code=401)
        try:
            body = await _read_body(request, max_body_bytes)
        except BodyTooLarge:
            return JSONResponse({"error": f"body over {max_body_bytes} bytes"}, status_code=413)
        verdict = verify(system, request, body)
        if verdict != "valid":
            log.warning("rejected a %s webhook: signature %s", system, verdict)
            return JSONResponse({"error": f"signature {verdict}"}, status_code=401)
        try:
            events = parse(system, request, body)
        except MalformedWebhook as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            result = await run_in_threadpool(store, events) if events else Stored(0, 0)
        except Exception:
            log.exception("could not store %d %s webhook event(s)", len(events), system)
            return JSONResponse({"error": "inbox unavailable, retry later"}, status_code=503)
        if system == "erp":  # Xero's intent-to-receive check wants an empty 200
            return Response(status_code=200)
        return JSONResponse({"stored": result.stored, "duplicates": result.duplicates})

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[
        Route("/healthz", health, methods=["GET"]),
        Route("/", receive, methods=["POST"]),
        Route("/webhooks", receive, methods=["POST"]),
        Route("/webhooks/{vendor}", receive, methods=["POST"]),
    ])


def inbox_store(settings: Any) -> Store:
    """A :data:`Store` writing to the inbox of the configured warehouse."""
    from orchestration.state import connect_state
    from orchestration.webhooks.inbox import store_events

    def store(events: Sequence[InboxEvent]) -> Stored:
        with connect_state(settings) as state:
            return store_events(state, events)

    return store


def secrets_from_dlt() -> WebhookSecrets:
    """The vendors' webhook secrets from dlt's secrets (env vars or ``.dlt/secrets.toml``).

    ``sources.crm.client_secret`` (the HubSpot app's client secret),
    ``sources.shop.webhook_secret`` (the Shopify app's secret), ``sources.erp.webhook_key``
    (the Xero webhook key); env vars ``SOURCES__CRM__CLIENT_SECRET`` and so on.
    """
    import dlt

    def get(key: str) -> str | None:
        value: Any = dlt.secrets.get(key)
        return str(value) if value else None

    return WebhookSecrets(get("sources.crm.client_secret"), get("sources.shop.webhook_secret"),
                          get("sources.erp.webhook_key"))
