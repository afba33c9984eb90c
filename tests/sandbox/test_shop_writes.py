"""Writing customers the way the reverse-ETL sync does: PUT, POST, validation, webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.shop.shops import table
from sandbox.webhooks import shopify_hmac
from tests.sandbox.test_shop_seed import TOKENS, ShopEnv, make_env

SHOP = "northwind"
BASE = f"/shops/{SHOP}/admin/api/2021-10"
AUTH = {"X-Shopify-Access-Token": TOKENS[SHOP]}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ShopEnv]:
    yield from make_env(tmp_path)


@pytest.fixture
def sent(env: ShopEnv, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, dict[str, str]]]:
    """Webhooks the emulator emits, captured instead of sent."""
    captured: list[tuple[bytes, dict[str, str]]] = []

    def capture(body: bytes, headers: Mapping[str, str], path: str = "") -> bool:
        captured.append((body, dict(headers)))
        return True

    monkeypatch.setattr(env.ctx, "emit_webhook", capture)
    return captured


def live_customers(env: ShopEnv) -> list[dict[str, Any]]:
    """Served customers that have an email."""
    page = env.client.get(f"{BASE}/customers.json", params={"limit": 250}, headers=AUTH)
    return [c for c in page.json()["customers"] if c["email"]]


def served(env: ShopEnv, customer_id: int) -> dict[str, Any]:
    response = env.client.get(f"{BASE}/customers/{customer_id}.json", headers=AUTH)
    customer: dict[str, Any] = response.json()["customer"]
    return customer


def put(env: ShopEnv, customer_id: int | str, payload: Any) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return env.client.put(f"{BASE}/customers/{customer_id}.json", content=content,
                          headers={**AUTH, "Content-Type": "application/json"})


def test_put_updates_the_customer_and_moves_updated_at(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    before = live_customers(env)[0]
    response = put(env, before["id"], {"customer": {"id": before["id"],
                                                    "phone": "+1 (415) 555-0123",
                                                    "accepts_marketing": True,
                                                    "tags": "vip"}})
    assert response.status_code == 200, response.text
    after = response.json()["customer"]
    assert after["phone"] == "+14155550123"
    assert after["accepts_marketing"] is True and after["tags"] == "vip"
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"])
    assert served(env, before["id"]) == after
    assert [h["X-Shopify-Topic"] for _, h in sent] == ["customers/update"]


def test_put_with_nothing_new_changes_nothing(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    before = live_customers(env)[0]
    response = put(env, before["id"], {"customer": {"email": before["email"],
                                                    "first_name": before["first_name"]}})
    assert response.json()["customer"] == before
    assert sent == []


def test_put_duplicate_email_is_422_and_changes_nothing(env: ShopEnv) -> None:
    first, second = live_customers(env)[:2]
    response = put(env, first["id"], {"customer": {"email": second["email"].upper(),
                                                   "note": "should not stick"}})
    assert response.status_code == 422
    assert response.json() == {"errors": {"email": ["has already been taken"]}}
    assert served(env, first["id"]) == first


@pytest.mark.parametrize(("payload", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"accepts_marketing": "yes"}, "accepts_marketing"),
    ({"first_name": 42}, "first_name"),
    ({"phone": "12"}, "phone"),
    ({"addresses": "Main St"}, "addresses"),
])
def test_put_invalid_values_are_422(env: ShopEnv, payload: dict[str, Any], field: str) -> None:
    customer = live_customers(env)[0]
    response = put(env, customer["id"], {"customer": payload})
    assert response.status_code == 422
    assert response.json()["errors"][field] == ["is invalid"]
    assert served(env, customer["id"]) == customer


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"customer": "x"}', b""])
def test_malformed_body_is_400(env: ShopEnv, raw: bytes) -> None:
    customer = live_customers(env)[0]
    response = put(env, customer["id"], raw)
    assert response.status_code == 400
    assert response.json() == {"errors": {"customer": "Required parameter missing or invalid"}}


def test_put_unknown_or_deleted_customer_is_404(env: ShopEnv) -> None:
    assert put(env, 999_999_999, {"customer": {"note": "x"}}).json() == {"errors": "Not Found"}
    deleted = next((d for d in env.store.iter_all(table(SHOP, "customers")) if d.archived), None)
    if deleted is not None:
        assert put(env, deleted.id, {"customer": {"note": "x"}}).status_code == 404


def test_put_addresses_updates_the_default_address(env: ShopEnv) -> None:
    customer = next(c for c in live_customers(env) if c.get("default_address"))
    address_id = customer["default_address"]["id"]
    response = put(env, customer["id"], {"customer": {"addresses": [
        {"id": address_id, "address1": "1 New Road", "zip": "10001", "country": "US"}]}})
    after = response.json()["customer"]
    assert after["default_address"]["id"] == address_id
    assert after["default_address"]["address1"] == "1 New Road"
    assert after["default_address"]["country_code"] == "US"
    assert len(after["addresses"]) == len(customer["addresses"])


def test_post_creates_a_customer_with_201(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    payload = {"customer": {"first_name": "Steve", "last_name": "Lastnameson",
                            "email": "steve.lastnameson@example.com", "phone": "+15142546011",
                            "verified_email": True, "addresses": [
                                {"address1": "123 Oak St", "city": "Ottawa", "province": "ON",
                                 "zip": "123 ABC", "country": "CA"}]}}
    response = env.client.post(f"{BASE}/customers.json", json=payload, headers=AUTH)
    assert response.status_code == 201, response.text
    created = response.json()["customer"]
    assert isinstance(created["id"], int) and created["orders_count"] == 0
    assert created["default_address"]["country_code"] == "CA"
    assert created["created_at"] == created["updated_at"]
    search = env.client.get(f"{BASE}/customers/search.json",
                            params={"query": "email:steve.lastnameson@example.com"},
                            headers=AUTH).json()
    assert [c["id"] for c in search["customers"]] == [created["id"]]
    ids = [c["id"] for c in env.client.get(f"{BASE}/customers.json", params={"limit": 250},
                                           headers=AUTH).json()["customers"]]
    assert created["id"] == max(ids)  # new ids sort last
    assert [h["X-Shopify-Topic"] for _, h in sent] == ["customers/create"]
    again = env.client.post(f"{BASE}/customers.json", json=payload, headers=AUTH)
    assert again.status_code == 422
    assert again.json() == {"errors": {"email": ["has already been taken"]}}


def test_post_without_email_phone_or_name_is_422(env: ShopEnv) -> None:
    before = env.store.count(table(SHOP, "customers"))
    response = env.client.post(f"{BASE}/customers.json", headers=AUTH,
                               json={"customer": {"email": None, "first_name": None}})
    assert response.status_code == 422 and "customer" in response.json()["errors"]
    assert env.store.count(table(SHOP, "customers")) == before


def test_webhook_is_signed_with_the_shop_secret(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    customer = live_customers(env)[0]
    put(env, customer["id"], {"customer": {"note": "signed"}})
    (body, headers), = sent
    secret = env.ctx.config.credentials.shop_webhook_secret
    assert headers["X-Shopify-Hmac-Sha256"] == shopify_hmac(secret, body)
    assert headers["X-Shopify-Hmac-Sha256"] != shopify_hmac("wrong secret", body)
    assert headers["X-Shopify-Shop-Domain"] == "northwind.myshopify.com"
    assert headers["X-Shopify-API-Version"] == "2021-10"
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Triggered-At"]
    assert json.loads(body)["note"] == "signed"
