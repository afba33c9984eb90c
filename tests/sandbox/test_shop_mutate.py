"""mutate(): realistic shop changes that an incremental connector picks up exactly."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest

from sandbox.shop.mutate import mutate
from sandbox.shop.shops import table
from sandbox.webhooks import now_ms, shopify_hmac
from tests.sandbox.test_shop_seed import TOKENS, ShopEnv, make_env

LINK_NEXT = re.compile(r'<([^>]+)>; rel="next"')


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ShopEnv]:
    yield from make_env(tmp_path)


@pytest.fixture
def sent(env: ShopEnv, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, dict[str, str]]]:
    captured: list[tuple[bytes, dict[str, str]]] = []

    def capture(body: bytes, headers: Mapping[str, str], path: str = "") -> bool:
        captured.append((body, dict(headers)))
        return True

    monkeypatch.setattr(env.ctx, "emit_webhook", capture)
    return captured


def changed_since(env: ShopEnv, shop: str, path: str, envelope: str, stamp: str,
                  **extra: str) -> list[int]:
    """Ids a connector's incremental run (updated_at_min, then Link) would load."""
    token = {"X-Shopify-Access-Token": TOKENS[shop]}
    response: httpx.Response = env.client.get(
        f"/shops/{shop}/admin/api/2021-10/{path}",
        params={"updated_at_min": stamp, "limit": 250, **extra}, headers=token)
    ids: list[int] = []
    while True:
        ids += [r["id"] for r in response.json()[envelope]]
        found = LINK_NEXT.search(response.headers.get("link", ""))
        if not found:
            return ids
        response = env.client.get(found.group(1), headers=token)


def test_mutate_changes_about_the_fraction_and_an_incremental_run_sees_exactly_that(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    started = now_ms() - 1000
    stamp = _utc(started)
    counts = mutate(env.ctx, 0.05, random.Random(7))
    shops = list(env.world.shops)
    live = sum(env.store.count(table(s, "customers"), "archived = 0") for s in shops)
    assert counts["customers_updated"] >= 0.5 * 0.05 * live
    assert counts["created"] == counts["customers_created"] + counts["orders_created"] > 0
    assert counts["archived"] == counts["orders_cancelled"] > 0
    customers = sum(len(changed_since(env, s, "customers.json", "customers", stamp))
                    for s in shops)
    orders = sum(len(changed_since(env, s, "orders.json", "orders", stamp, status="any"))
                 for s in shops)
    assert customers == counts["customers_updated"] + counts["customers_created"]
    assert orders == counts["orders_created"] + counts["orders_cancelled"]
    assert counts["updated"] + counts["created"] + counts["archived"] == customers + orders


def test_mutate_writes_truth_for_new_records_and_sends_signed_webhooks(
        env: ShopEnv, sent: list[tuple[bytes, dict[str, str]]]) -> None:
    truth_before = len(env.store.truth_rows())
    counts = mutate(env.ctx, 0.05, random.Random(3))
    assert len(env.store.truth_rows()) - truth_before == counts["created"]
    topics = [h["X-Shopify-Topic"] for _, h in sent]
    assert topics.count("customers/create") == counts["customers_created"]
    assert topics.count("orders/create") == counts["orders_created"]
    assert topics.count("orders/cancelled") == counts["orders_cancelled"]
    assert topics.count("customers/update") == counts["customers_updated"]
    secret = env.ctx.config.credentials.shop_webhook_secret
    assert all(h["X-Shopify-Hmac-Sha256"] == shopify_hmac(secret, b) for b, h in sent)
    assert len({h["X-Shopify-Webhook-Id"] for _, h in sent}) == len(sent)
    new_order = next(json.loads(b) for b, h in sent if h["X-Shopify-Topic"] == "orders/create")
    assert new_order["line_items"] and new_order["customer"]["email"]
    assert new_order["customer"]["last_order_id"] == new_order["id"]


def test_cancelled_orders_leave_the_open_list(env: ShopEnv) -> None:
    shop = next(iter(env.world.shops))
    open_before = env.store.count(table(shop, "orders"), "key = 'open'")
    counts = mutate(env.ctx, 0.05, random.Random(11))
    del counts
    cancelled = env.store.query(table(shop, "orders"), "key = 'cancelled' AND updated_ms >= ?",
                                (now_ms() - 60_000,))
    assert cancelled and all(d.body["cancelled_at"] and d.archived for d in cancelled)
    created = env.store.count(table(shop, "orders"), "updated_ms >= ? AND key = 'open'",
                              (now_ms() - 60_000,))
    open_after = env.store.count(table(shop, "orders"), "key = 'open'")
    assert open_after == open_before + created - len(cancelled)


def test_mutate_rejects_a_bad_fraction(env: ShopEnv) -> None:
    with pytest.raises(ValueError, match="fraction"):
        mutate(env.ctx, 0.0, random.Random(1))


def _utc(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
