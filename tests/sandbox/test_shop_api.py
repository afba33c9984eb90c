"""Reading the Shopify emulator the way a connector does: auth, Link paging, filters, limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.config import Limits
from sandbox.faults import Faults
from sandbox.shop.shops import table
from tests.sandbox.test_shop_seed import TOKENS, ShopEnv, hand_built_world, make_env

BASE = "/admin/api/2021-10"
LINK = re.compile(r'<([^>]+)>; rel="(next|previous)"')


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ShopEnv]:
    """A fresh emulator, for tests that change records or limits."""
    yield from make_env(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopEnv]:
    """One emulator for the read-only tests of this module."""
    yield from make_env(tmp_path_factory.mktemp("shop"))


def get(env: ShopEnv, shop: str, path: str, params: dict[str, Any] | None = None,
        token: str | None = None) -> httpx.Response:
    return env.client.get(f"/shops/{shop}{BASE}/{path}", params=params,
                          headers={"X-Shopify-Access-Token": token or TOKENS[shop]})


def links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers.get("link", ""))}


def walk(env: ShopEnv, shop: str, path: str, envelope: str,
         params: dict[str, Any]) -> tuple[list[int], int]:
    """Follow rel="next" from a first request; returns every id seen and the request count."""
    response = get(env, shop, path, params)
    ids: list[int] = []
    requests = 1
    while True:
        assert response.status_code == 200, response.text
        ids += [r["id"] for r in response.json()[envelope]]
        nxt = links(response).get("next")
        if nxt is None:
            return ids, requests
        assert set(httpx.URL(nxt).params.keys()) == {"limit", "page_info"}
        response = env.client.get(nxt, headers={"X-Shopify-Access-Token": TOKENS[shop]})
        requests += 1


def test_link_paging_walks_every_order_exactly_once_per_shop(shared: ShopEnv) -> None:
    for shop, sw in shared.world.shops.items():
        ids, requests = walk(shared, shop, "orders.json", "orders", {"status": "any", "limit": 17})
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(int(o.record_id) for o in sw.orders)
        assert ids == sorted(ids)  # id order
        assert requests == -(-len(sw.orders) // 17)


def test_customer_paging_follows_numeric_ids_and_hides_deleted(shared: ShopEnv) -> None:
    for shop, sw in shared.world.shops.items():
        ids, _ = walk(shared, shop, "customers.json", "customers", {"limit": 7})
        live = sorted(int(c.record_id) for c in sw.customers if not c.archived)
        assert ids == live


def test_paging_order_is_numeric_across_a_digit_boundary(tmp_path: Path) -> None:
    """Ids 900..1049 would page as 1000, 1001, ..., 900 if compared as text."""
    for env in make_env(tmp_path, world=hand_built_world()):
        ids, _ = walk(env, "northwind", "customers.json", "customers", {"limit": 40})
        assert ids == sorted(ids) and ids[0] < 1000 < ids[-1]
        since = get(env, "northwind", "customers.json", {"since_id": 999, "limit": 250})
        assert min(c["id"] for c in since.json()["customers"]) == 1000


def test_previous_link_returns_the_page_before(shared: ShopEnv) -> None:
    first = get(shared, "northwind", "customers.json", {"limit": 5})
    assert "previous" not in links(first)
    second = shared.client.get(links(first)["next"],
                            headers={"X-Shopify-Access-Token": TOKENS["northwind"]})
    back = shared.client.get(links(second)["previous"],
                          headers={"X-Shopify-Access-Token": TOKENS["northwind"]})
    assert back.json() == first.json()
    assert 'rel="previous"' in second.headers["link"] and 'rel="next"' in second.headers["link"]


def test_paging_sees_every_record_once_while_records_change(env: ShopEnv) -> None:
    shop = "northwind"
    token = {"X-Shopify-Access-Token": TOKENS[shop]}
    response = get(env, shop, "customers.json", {"limit": 10})
    seen: list[int] = []
    while True:
        page = response.json()["customers"]
        seen += [c["id"] for c in page]
        if page:  # edit a record already served and one not yet served, mid-walk
            env.client.put(f"/shops/{shop}{BASE}/customers/{page[0]['id']}.json",
                           json={"customer": {"note": f"seen {len(seen)}"}}, headers=token)
        nxt = links(response).get("next")
        if nxt is None:
            break
        response = env.client.get(nxt, headers=token)
    expected = env.store.count(table(shop, "customers"), "archived = 0")
    assert len(seen) == len(set(seen)) == expected


def test_page_info_with_another_filter_is_a_400(shared: ShopEnv) -> None:
    first = get(shared, "northwind", "orders.json", {"status": "any", "limit": 5})
    page_info = httpx.URL(links(first)["next"]).params["page_info"]
    response = get(shared, "northwind", "orders.json", {"page_info": page_info, "status": "any"})
    assert response.status_code == 400
    assert response.json()["errors"]["status"].startswith(
        "status cannot be passed when page_info is present")
    ok = get(shared, "northwind", "orders.json", {"page_info": page_info, "limit": 5,
                                               "fields": "id"})
    assert ok.status_code == 200 and set(ok.json()["orders"][0]) == {"id"}


def test_garbled_page_info_is_a_400(shared: ShopEnv) -> None:
    response = get(shared, "northwind", "customers.json", {"page_info": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json() == {"errors": {"page_info": "Invalid value."}}


def test_limit_over_250_is_a_400_and_250_is_fine(shared: ShopEnv) -> None:
    assert get(shared, "northwind", "customers.json", {"limit": 251}).status_code == 400
    assert "limit" in get(shared, "northwind", "customers.json", {"limit": 251}).json()["errors"]
    assert get(shared, "northwind", "customers.json", {"limit": 250}).status_code == 200


def test_default_page_size_is_50(shared: ShopEnv) -> None:
    response = get(shared, "northwind", "orders.json", {"status": "any"})
    assert len(response.json()["orders"]) == min(50, len(shared.world.shops["northwind"].orders))


def test_updated_at_min_returns_only_records_changed_since(shared: ShopEnv) -> None:
    shop = "southwind"
    docs = list(shared.store.iter_all(table(shop, "customers")))
    cut = sorted(d.updated_ms for d in docs if not d.archived)[len(docs) // 2]
    body = get(shared, shop, "customers.json", {"limit": 250}).json()["customers"]
    stamp = next(c["updated_at"] for c in body
                 if next(d for d in docs if d.id == str(c["id"])).updated_ms == cut)
    ids, _ = walk(shared, shop, "customers.json", "customers",
                  {"updated_at_min": stamp, "limit": 250})
    expected = sorted(int(d.id) for d in docs if not d.archived and d.updated_ms >= cut)
    assert ids == expected and 0 < len(ids) < len(docs)
    utc = get(shared, shop, "customers/count.json",
              {"updated_at_min": _to_utc(stamp)}).json()["count"]
    assert utc == len(expected)  # the same moment written in UTC


def _to_utc(stamp: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_order_status_filters(shared: ShopEnv) -> None:
    shop = "northwind"
    count = {s: get(shared, shop, "orders/count.json", {"status": s}).json()["count"]
             for s in ("open", "closed", "cancelled", "any")}
    assert count["open"] + count["closed"] + count["cancelled"] == count["any"]
    assert count["any"] == len(shared.world.shops[shop].orders)
    assert count["cancelled"] > 0 and count["closed"] > 0
    default = get(shared, shop, "orders/count.json").json()["count"]
    assert default == count["open"]
    cancelled = get(shared, shop, "orders.json", {"status": "cancelled", "limit": 250}).json()
    assert all(o["cancelled_at"] for o in cancelled["orders"])


def test_orders_nest_line_items_and_the_live_customer(env: ShopEnv) -> None:
    shop = "northwind"
    orders = get(env, shop, "orders.json", {"status": "any", "limit": 250}).json()["orders"]
    order = next(o for o in orders if "customer" in o)
    assert order["line_items"] and isinstance(order["line_items"][0]["price"], str)
    customer_id = order["customer"]["id"]
    env.client.put(f"/shops/{shop}{BASE}/customers/{customer_id}.json",
                   json={"customer": {"first_name": "Renamed"}},
                   headers={"X-Shopify-Access-Token": TOKENS[shop]})
    again = get(env, shop, f"orders/{order['id']}.json").json()["order"]
    assert again["customer"]["first_name"] == "Renamed"
    assert "addresses" not in again["customer"]


def test_since_id_ids_and_fields(shared: ShopEnv) -> None:
    shop = "northwind"
    all_ids = [c["id"] for c in
               get(shared, shop, "customers.json", {"limit": 250}).json()["customers"]]
    after = get(shared, shop, "customers.json", {"since_id": all_ids[9], "limit": 250}).json()
    assert [c["id"] for c in after["customers"]] == all_ids[10:]
    picked = get(shared, shop, "customers.json",
                 {"ids": f"{all_ids[3]},{all_ids[1]}", "fields": "id,email"}).json()
    assert [set(c) for c in picked["customers"]] == [{"id", "email"}] * 2
    assert [c["id"] for c in picked["customers"]] == [all_ids[1], all_ids[3]]


def test_products_default_to_active_and_take_a_status_list(shared: ShopEnv) -> None:
    shop = "northwind"
    products = shared.world.shops[shop].products
    active = get(shared, shop, "products.json").json()["products"]
    assert {p["status"] for p in active} == {"active"}
    every = get(shared, shop, "products.json", {"status": "active,archived,draft"}).json()
    assert len(every["products"]) == len(products)
    archived = [p for p in every["products"] if p["status"] == "archived"]
    assert archived and all(p["variants"] for p in every["products"])


def test_search_by_email_finds_the_customer(shared: ShopEnv) -> None:
    shop = "northwind"
    live = [c for c in shared.world.shops[shop].customers if c.email and not c.archived]
    email = (live[0].email or "").strip()
    expected = sorted(int(c.record_id) for c in live
                      if (c.email or "").strip().lower() == email.lower())
    response = get(shared, shop, "customers/search.json", {"query": f"email:{email.upper()}"})
    assert [r["id"] for r in response.json()["customers"]] == expected
    none = get(shared, shop, "customers/search.json", {"query": "email:nobody@nowhere.test"})
    assert none.json() == {"customers": []}


def test_deleted_customers_are_not_served(shared: ShopEnv) -> None:
    shop, sw = next((s, w) for s, w in shared.world.shops.items()
                    if any(c.archived for c in w.customers))
    gone = next(c for c in sw.customers if c.archived)
    response = get(shared, shop, f"customers/{gone.record_id}.json")
    assert response.status_code == 404 and response.json() == {"errors": "Not Found"}
    live = sum(not c.archived for c in sw.customers)
    assert get(shared, shop, "customers/count.json").json() == {"count": live}


def test_bad_token_is_401_and_unknown_shop_or_path_is_404(shared: ShopEnv) -> None:
    bad = get(shared, "northwind", "customers.json", token=TOKENS["southwind"])
    assert bad.status_code == 401
    assert bad.json() == {"errors": "[API] Invalid API key or access token "
                                    "(unrecognized login or wrong password)"}
    assert get(shared, "eastwind", "customers.json", token="x").status_code == 404
    missing = get(shared, "northwind", "gift_cards.json")
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}
    assert get(shared, "northwind", "orders/999999999.json").status_code == 404


def test_call_limit_header_and_429_after_draining_the_bucket(env: ShopEnv) -> None:
    env.ctx.set_limits(Limits(shop_bucket=3, shop_leak_per_second=0.01))
    answers = [get(env, "northwind", "customers/count.json") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-shopify-shop-api-call-limit"] for a in answers[:3]] == [
        "1/3", "2/3", "3/3"]
    throttled = answers[3]
    assert throttled.json() == {"errors": "Exceeded 0.01 calls per second for api client. "
                                          "Reduce request rates to resume uninterrupted "
                                          "service."}
    assert float(throttled.headers["retry-after"]) >= 2.0
    assert throttled.headers["x-shopify-shop-api-call-limit"] == "3/3"
    # buckets are per shop
    assert get(env, "southwind", "customers/count.json").status_code == 200


def test_fault_knobs_use_shopify_bodies_and_drift_the_email(env: ShopEnv) -> None:
    env.ctx.state["faults"] = Faults(drift="renamed_field")
    customers = get(env, "northwind", "customers.json", {"limit": 3}).json()["customers"]
    assert all("email_address" in c and "email" not in c for c in customers)
    env.ctx.state["faults"] = Faults(error_rate=1.0)
    failed = get(env, "northwind", "customers.json")
    assert failed.status_code == 503
    assert failed.json() == {"errors": "Internal Server Error"}
