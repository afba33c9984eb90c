"""The Shopify emulator against the community OpenAPI file of Admin API 2021-10.

"One client, two servers": every request below is one a connector or the reverse-ETL sync
sends, and both it and the emulator's answer must match a patched copy of the spec. The patch
fixes the file's known defects only (see ../shared/specs/README.md):

- response codes written as unquoted YAML integers (``200:``), which validators reject;
- ``type: float`` on ``CustomerAddress.longitude`` is not a JSON-schema type (→ ``number``);
- ``ProductList`` names its array ``customers`` instead of ``products`` (so nothing in a product
  list would be checked);
- ``POST customers.json`` lists only 200 where Shopify answers 201 Created;
- the file marks nothing ``nullable`` although Shopify documents ``null`` for these fields
  (``cancelled_at``, ``phone``, ``note``, ``last_order_id``...): exactly these are made nullable.

The spec's paths start with ``/admin/api/2021-10``; the emulator serves each shop under
``/shops/<shop>``, removed with ``path_prefix``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI

from tests.contract.openapi_check import SPECS, check, load_spec
from tests.sandbox.test_shop_seed import TOKENS, ShopEnv, make_env

SPEC = "shopify/shopify-admin-2021-10.ballerina.openapi.yml"
SHOP = "northwind"
HOST = f"https://{SHOP}.myshopify.com"
PREFIX = f"/shops/{SHOP}"
BASE = f"{PREFIX}/admin/api/2021-10"
AUTH = {"X-Shopify-Access-Token": TOKENS[SHOP]}
LINK_NEXT = re.compile(r'<([^>]+)>; rel="next"')

NULLABLE: dict[str, tuple[str, ...]] = {
    "Customer": ("email", "phone", "note", "first_name", "last_name", "last_order_id",
                 "last_order_name", "multipass_identifier", "marketing_opt_in_level"),
    "Address": ("first_name", "last_name", "company", "address1", "address2", "city",
                "province", "province_code", "country", "country_code", "country_name", "zip",
                "phone"),
    "CustomerAddress": ("first_name", "last_name", "company", "address1", "address2", "city",
                        "province", "province_code", "country", "country_code", "zip", "phone"),
    "Order": ("cancel_reason", "cancelled_at", "closed_at", "email", "note", "phone",
              "fulfillment_status"),
    "Line_item": ("fulfillment_status", "variant_title", "sku"),
    "Product": ("published_at", "template_suffix"),
    "ProductVariant": ("compare_at_price", "sku"),
}


def _fix_float(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "float":
            node["type"] = "number"
        for value in node.values():
            _fix_float(value)
    elif isinstance(node, list):
        for value in node:
            _fix_float(value)


def patch(spec: dict[str, Any]) -> None:
    """Fix the community file's known defects in a copy (the original stays unchanged)."""
    _fix_float(spec)
    for item in spec["paths"].values():  # unquoted ``200:`` keys load as YAML integers
        for operation in item.values():
            operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
    schemas = spec["components"]["schemas"]
    schemas["ProductList"]["properties"]["products"] = (
        schemas["ProductList"]["properties"].pop("customers"))
    create = spec["paths"]["/admin/api/2021-10/customers.json"]["post"]["responses"]
    create["201"] = create["200"]
    for schema, fields in NULLABLE.items():
        for name in fields:
            schemas[schema]["properties"][name]["nullable"] = True


@pytest.fixture(scope="module")
def api() -> OpenAPI:
    return load_spec(SPEC, patch, server=HOST)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[ShopEnv]:
    """A fresh emulator, for tests that write."""
    yield from make_env(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopEnv]:
    """One emulator for the read-only tests of this module."""
    yield from make_env(tmp_path_factory.mktemp("shop"))


def problems(api: OpenAPI, response: httpx.Response, request_only: bool = False) -> list[str]:
    return check(api, response, host_url=HOST, path_prefix=PREFIX, request_only=request_only)


def test_the_patch_only_touches_known_defects() -> None:
    original = yaml.safe_load((SPECS / SPEC).read_text())
    patched = copy.deepcopy(original)
    patch(patched)
    schemas = patched["components"]["schemas"]
    assert {"type": "number"} in schemas["CustomerAddress"]["properties"]["longitude"]["oneOf"]
    assert "products" in schemas["ProductList"]["properties"]
    assert patched["paths"].keys() == original["paths"].keys()
    assert schemas.keys() == original["components"]["schemas"].keys()
    nullable = sum(bool(p.get("nullable")) for s in schemas.values()
                   for p in s.get("properties", {}).values())
    assert nullable == sum(len(fields) for fields in NULLABLE.values())


def test_list_pages_match_the_spec(api: OpenAPI, shared: ShopEnv) -> None:
    for path, params in [
        ("customers.json", {"limit": 250}),
        ("customers.json", {"updated_at_min": "2025-01-01T00:00:00-04:00", "limit": 100,
                            "fields": "id,email,updated_at"}),
        ("orders.json", {"status": "any", "limit": 250}),
        ("orders.json", {"status": "any", "updated_at_min": "2025-01-01T00:00:00Z",
                         "limit": 250}),
        ("products.json", {"status": "active,archived,draft", "limit": 250}),
        ("customers/search.json", {"query": "email:user1@example.com"}),
    ]:
        response = shared.client.get(f"{BASE}/{path}", params=params, headers=AUTH)
        pages = 0
        while True:
            assert response.status_code == 200, response.text
            assert problems(api, response) == [], (path, params)
            pages += 1
            found = LINK_NEXT.search(response.headers.get("link", ""))
            if not found or pages == 3:
                break
            response = shared.client.get(found.group(1), headers=AUTH)  # a page_info request


def test_single_records_match_the_spec(api: OpenAPI, shared: ShopEnv) -> None:
    lists = {name: shared.client.get(f"{BASE}/{name}.json", headers=AUTH,
                                  params={"status": "any" if name == "orders" else
                                          "active,archived,draft", "limit": 250}).json()[name]
             for name in ("customers", "orders", "products")}
    for name, records in lists.items():
        for record in records[:25]:
            response = shared.client.get(f"{BASE}/{name}/{record['id']}.json", headers=AUTH)
            assert response.status_code == 200
            assert problems(api, response) == [], (name, record["id"])
    product = lists["products"][0]
    variants = shared.client.get(f"{BASE}/products/{product['id']}/variants.json", headers=AUTH)
    assert problems(api, variants) == []


def test_customer_writes_match_the_spec(api: OpenAPI, env: ShopEnv) -> None:
    created = env.client.post(f"{BASE}/customers.json", headers=AUTH, json={"customer": {
        "first_name": "Steve", "last_name": "Lastnameson",
        "email": "steve.lastnameson@example.com", "phone": "+15142546011",
        "verified_email": True, "addresses": [{"address1": "123 Oak St", "city": "Ottawa",
                                               "province": "ON", "phone": "555-1212",
                                               "zip": "123 ABC", "last_name": "Lastnameson",
                                               "first_name": "Mother", "country": "CA"}]}})
    assert created.status_code == 201
    assert problems(api, created) == []
    only_email = env.client.post(f"{BASE}/customers.json", headers=AUTH,
                                 json={"customer": {"email": "only.email@example.com"}})
    assert only_email.status_code == 201 and problems(api, only_email) == []
    customer_id = created.json()["customer"]["id"]
    for body in (
        {"customer": {"id": customer_id, "email": "changed@email.address.com",
                      "note": "Customer is a great guy"}},
        {"customer": {"id": customer_id, "tags": "New Customer, Repeat Customer"}},
        {"customer": {"id": customer_id, "accepts_marketing": True,
                      "accepts_marketing_updated_at": "2020-11-01T16:46:41-05:00",
                      "marketing_opt_in_level": "confirmed_opt_in"}},
    ):
        updated = env.client.put(f"{BASE}/customers/{customer_id}.json", json=body,
                                 headers=AUTH)
        assert updated.status_code == 200, updated.text
        assert problems(api, updated) == []


def test_error_answers_come_from_spec_valid_requests(api: OpenAPI, shared: ShopEnv) -> None:
    """The spec lists no error responses: check that the requests themselves were valid."""
    customers = shared.client.get(f"{BASE}/customers.json", headers=AUTH, params={"limit": 2})
    first, second = customers.json()["customers"]
    answers = [
        shared.client.put(f"{BASE}/customers/{first['id']}.json", headers=AUTH,
                       json={"customer": {"email": second["email"]}}),
        shared.client.get(f"{BASE}/customers.json", headers=AUTH, params={"limit": 251}),
        shared.client.get(f"{BASE}/customers/999999999.json", headers=AUTH),
    ]
    assert [a.status_code for a in answers] == [422, 400, 404]
    for answer in answers:
        assert problems(api, answer, request_only=True) == []


def test_a_request_without_token_breaks_the_spec_and_gets_401(api: OpenAPI,
                                                               shared: ShopEnv) -> None:
    response = shared.client.get(f"{BASE}/customers.json")
    assert response.status_code == 401
    assert any("security" in p.lower() or "auth" in p.lower()
               for p in problems(api, response, request_only=True))
