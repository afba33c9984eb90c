"""The webhook receiver: what a vendor (or an attacker) sees, and what lands in the inbox.

Signatures are made with the sandbox's own signers, so the receiver accepts exactly what the
sandbox's ``mutate`` sends.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from goldloop.settings import Settings
from orchestration.state import connect_state
from orchestration.webhooks.events import InboxEvent
from orchestration.webhooks.inbox import Stored, count_events
from orchestration.webhooks.receiver import WebhookSecrets, create_app, inbox_store
from sandbox.webhooks import hubspot_v3_signature, shopify_hmac, xero_signature
from tests.support import postgres_database

SECRETS = WebhookSecrets(hubspot_client_secret="hs-secret", shopify_secret="shop-secret",
                         xero_webhook_key="xero-key")
URL = "http://testserver/webhooks"


def hubspot_body(*event_ids: int) -> bytes:
    return json.dumps([{"eventId": i, "portalId": 62515, "subscriptionType": "contact.creation",
                        "objectId": 100 + i, "occurredAt": 1_700_000_000_000}
                       for i in event_ids]).encode()


def hubspot_headers(body: bytes, *, age_ms: int = 0, secret: str = "hs-secret",
                    uri: str = URL) -> dict[str, str]:
    stamp = int(time.time() * 1000) - age_ms
    return {"Content-Type": "application/json",
            "X-HubSpot-Signature-v3": hubspot_v3_signature(secret, "POST", uri, body, stamp),
            "X-HubSpot-Signature-Version": "v3", "X-HubSpot-Request-Timestamp": str(stamp)}


def shopify_headers(body: bytes, webhook_id: str = "wh-1",
                    secret: str = "shop-secret") -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Shopify-Topic": "customers/update",
            "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
            "X-Shopify-Shop-Domain": "northwind.myshopify.com",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Triggered-At": "2026-11-25T10:00:00Z"}


def xero_body(first: int, *resource_ids: str) -> bytes:
    return json.dumps({
        "events": [{"resourceUrl": f"http://x/Contacts/{r}", "resourceId": r,
                    "eventDateUtc": "2026-11-25T10:00:00.000", "eventType": "UPDATE",
                    "eventCategory": "CONTACT", "tenantId": "t-1",
                    "tenantType": "ORGANISATION"} for r in resource_ids],
        "firstEventSequence": first, "lastEventSequence": first + len(resource_ids) - 1,
        "entropy": "ABC"}).encode()


def xero_headers(body: bytes, key: str = "xero-key") -> dict[str, str]:
    return {"Content-Type": "application/json", "x-xero-signature": xero_signature(key, body)}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse=tmp_path / "warehouse.duckdb")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(inbox_store(settings), SECRETS)) as test_client:
        yield test_client


def inbox(settings: Settings) -> list[tuple[str, str, str, str | None]]:
    with connect_state(settings) as state:
        return state.rows("SELECT system, event_id, topic, object_id FROM webhook_inbox "
                          "ORDER BY seq")


# -- valid ----------------------------------------------------------------------------------------

def test_a_valid_hubspot_delivery_stores_each_event(client: TestClient,
                                                    settings: Settings) -> None:
    body = hubspot_body(1, 2)
    response = client.post("/webhooks", content=body, headers=hubspot_headers(body))
    assert response.status_code == 200
    assert response.json() == {"stored": 2, "duplicates": 0}
    assert inbox(settings) == [("crm", "62515:1", "contact.creation", "101"),
                               ("crm", "62515:2", "contact.creation", "102")]


def test_a_valid_shopify_delivery_names_the_record_like_the_warehouse(
        client: TestClient, settings: Settings) -> None:
    body = json.dumps({"id": 123, "email": "a@example.com"}).encode()
    response = client.post("/webhooks", content=body, headers=shopify_headers(body))
    assert response.status_code == 200
    assert inbox(settings) == [("shop", "wh-1", "customers/update", "northwind/123")]


def test_a_valid_xero_delivery_is_acknowledged_with_an_empty_200(
        client: TestClient, settings: Settings) -> None:
    body = xero_body(41, "c-1", "c-2")
    response = client.post("/webhooks/xero", content=body, headers=xero_headers(body))
    assert (response.status_code, response.content) == (200, b"")
    assert inbox(settings) == [("erp", "t-1:41", "CONTACT.UPDATE", "c-1"),
                               ("erp", "t-1:42", "CONTACT.UPDATE", "c-2")]


def test_xero_intent_to_receive_gets_200_when_signed_and_401_when_not(
        client: TestClient, settings: Settings) -> None:
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"X"}'
    assert client.post("/webhooks", content=body, headers=xero_headers(body)).status_code == 200
    wrong = client.post("/webhooks", content=body, headers=xero_headers(body, key="other"))
    assert wrong.status_code == 401
    assert inbox(settings) == []


def test_hubspot_signed_for_the_root_url_without_its_slash_is_accepted(
        client: TestClient, settings: Settings) -> None:
    body = hubspot_body(9)  # the sandbox signs the configured URL with its final "/" removed
    headers = hubspot_headers(body, uri="http://testserver")
    assert client.post("/", content=body, headers=headers).status_code == 200
    assert [row[1] for row in inbox(settings)] == ["62515:9"]


# -- invalid / missing / expired ------------------------------------------------------------------

@pytest.mark.parametrize("vendor", ["hubspot", "shopify", "xero"])
def test_a_wrong_signature_is_401_and_stores_nothing(client: TestClient, settings: Settings,
                                                     vendor: str) -> None:
    if vendor == "hubspot":
        body = hubspot_body(1)
        headers = hubspot_headers(body, secret="forged")
    elif vendor == "shopify":
        body = b'{"id": 1}'
        headers = shopify_headers(body, secret="forged")
    else:
        body = xero_body(1, "c-1")
        headers = xero_headers(body, key="forged")
    response = client.post("/webhooks", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "signature invalid"}
    assert inbox(settings) == []


def test_a_body_changed_after_signing_is_401(client: TestClient, settings: Settings) -> None:
    body = b'{"id": 1}'
    tampered = b'{"id": 2}'
    response = client.post("/webhooks", content=tampered, headers=shopify_headers(body))
    assert response.status_code == 401
    assert inbox(settings) == []


def test_a_missing_signature_is_401(client: TestClient, settings: Settings) -> None:
    body = hubspot_body(1)
    headers = hubspot_headers(body)
    del headers["X-HubSpot-Request-Timestamp"]
    assert client.post("/webhooks", content=body, headers=headers).json() == {
        "error": "signature missing"}
    unsigned = client.post("/webhooks", content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert client.post("/webhooks/shopify", content=b"{}").status_code == 401
    assert inbox(settings) == []


def test_an_expired_hubspot_request_is_401_even_when_authentic(client: TestClient,
                                                                settings: Settings) -> None:
    body = hubspot_body(1)
    response = client.post("/webhooks", content=body,
                           headers=hubspot_headers(body, age_ms=6 * 60 * 1000))
    assert response.status_code == 401
    assert response.json() == {"error": "signature expired"}
    assert inbox(settings) == []


def test_a_vendor_without_a_configured_secret_is_refused(settings: Settings) -> None:
    with TestClient(create_app(inbox_store(settings), WebhookSecrets())) as bare:
        body = b'{"id": 1}'
        assert bare.post("/webhooks", content=body,
                         headers=shopify_headers(body)).status_code == 401
    assert inbox(settings) == []


# -- replayed -------------------------------------------------------------------------------------

def test_a_replayed_delivery_is_stored_once(client: TestClient, settings: Settings) -> None:
    body = hubspot_body(5, 6)
    first = client.post("/webhooks", content=body, headers=hubspot_headers(body))
    again = client.post("/webhooks", content=body, headers=hubspot_headers(body))
    assert first.json() == {"stored": 2, "duplicates": 0}
    assert again.json() == {"stored": 0, "duplicates": 2}
    shop = b'{"id": 7}'
    for _ in range(3):  # Shopify retries keep the webhook id
        assert client.post("/webhooks", content=shop,
                           headers=shopify_headers(shop, "wh-7")).status_code == 200
    with connect_state(settings) as state:
        assert count_events(state, "crm") == 2
        assert count_events(state, "shop") == 1


# -- oversized / malformed ------------------------------------------------------------------------

def test_an_oversized_body_is_413_and_stores_nothing(client: TestClient,
                                                     settings: Settings) -> None:
    body = json.dumps({"id": 1, "note": "x" * (1024 * 1024)}).encode()
    response = client.post("/webhooks", content=body, headers=shopify_headers(body))
    assert response.status_code == 413
    assert inbox(settings) == []


def test_an_oversized_stream_without_length_is_413(settings: Settings) -> None:
    app = create_app(inbox_store(settings), SECRETS, max_body_bytes=100)
    with TestClient(app) as small:
        body = b'{"id": 1, "note": "' + b"x" * 200 + b'"}'

        def chunks() -> Iterator[bytes]:
            yield body[:50]
            yield body[50:]

        response = small.post("/webhooks", content=chunks(), headers=shopify_headers(body))
    assert response.status_code == 413
    assert inbox(settings) == []


@pytest.mark.parametrize("body", [b"not json", b'{"id": 1', b'{"not": "a list"}', b"[1, 2]"])
def test_an_authentic_but_malformed_hubspot_body_is_400(client: TestClient, settings: Settings,
                                                        body: bytes) -> None:
    response = client.post("/webhooks", content=body, headers=hubspot_headers(body))
    assert response.status_code == 400
    assert inbox(settings) == []


def test_a_shopify_delivery_without_a_webhook_id_is_400(client: TestClient,
                                                        settings: Settings) -> None:
    body = b'{"id": 1}'
    headers = shopify_headers(body)
    del headers["X-Shopify-Webhook-Id"]
    assert client.post("/webhooks", content=body, headers=headers).status_code == 400
    assert inbox(settings) == []


def test_an_unknown_vendor_path_is_404(client: TestClient) -> None:
    assert client.post("/webhooks/stripe", content=b"{}").status_code == 404


# -- durability and speed -------------------------------------------------------------------------

def test_the_vendor_is_told_to_retry_when_the_inbox_cannot_be_written() -> None:
    def broken(events: Sequence[InboxEvent]) -> Stored:
        raise OSError("disk full")

    with TestClient(create_app(broken, SECRETS), raise_server_exceptions=False) as failing:
        body = b'{"id": 1}'
        assert failing.post("/webhooks", content=body,
                            headers=shopify_headers(body)).status_code == 503


def test_valid_deliveries_are_acknowledged_well_under_a_second(client: TestClient,
                                                              settings: Settings) -> None:
    timings = []
    for i in range(40):
        body = hubspot_body(*range(i * 100, i * 100 + 100))  # HubSpot's 100 events per POST
        began = time.perf_counter()
        response = client.post("/webhooks", content=body, headers=hubspot_headers(body))
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200
    assert max(timings) < 1.0
    assert statistics.median(timings) < 0.25
    with connect_state(settings) as state:
        assert count_events(state) == 4000


@pytest.mark.postgres
def test_on_postgres_the_inbox_is_a_warehouse_table(tmp_path: Path) -> None:
    with postgres_database("goldloop_inbox") as dsn:
        settings = Settings(target="postgres", postgres_dsn=dsn)
        with TestClient(create_app(inbox_store(settings), SECRETS)) as pg_client:
            body = hubspot_body(1, 2)
            for _ in range(2):
                assert pg_client.post("/webhooks", content=body,
                                      headers=hubspot_headers(body)).status_code == 200
        with connect_state(settings) as state:
            rows = state.rows("SELECT system, event_id FROM orchestration.webhook_inbox "
                              "ORDER BY seq")
        assert rows == [("crm", "62515:1"), ("crm", "62515:2")]


def test_the_serve_command_receives_into_the_configured_warehouse(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import httpx

    from tests.support import free_ports

    port = free_ports(1)[0]
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "GOLDLOOP_WAREHOUSE": str(warehouse),
           "SOURCES__SHOP__WEBHOOK_SECRET": "shop-secret"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from goldloop.commands.webhooks import app; app()", "serve",
         "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        body = b'{"id": 42}'
        response = httpx.post(f"http://127.0.0.1:{port}/webhooks", content=body,
                              headers=shopify_headers(body, "wh-42"), timeout=5)
        assert response.json() == {"stored": 1, "duplicates": 0}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert "sources.crm.client_secret is not set" in output  # unconfigured vendors are named
    assert inbox(Settings(warehouse=warehouse)) == [
        ("shop", "wh-42", "customers/update", "northwind/42")]
