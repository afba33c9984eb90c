"""shop_customers end to end against the sandbox's shops: updates by id in each shop, creates
only after an e-mail lookup, 422 reasons, and a rerun that writes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from goldloop.settings import Settings
from reverse_etl.runner import run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    SHOP_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    state_of,
    unique,
)

MODEL = "sync_shop__customers"


def shop_customers(config: SandboxConfig, shop: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{config.base_url('shop', shop)}/customers.json",
                         params={"limit": 250},
                         headers={"X-Shopify-Access-Token": config.credentials.shop_tokens[shop]})
    response.raise_for_status()
    return [c for c in response.json()["customers"] if c.get("email")]


def test_every_shop_gets_its_golden_values_without_duplicates(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("shop_customers")
    conn = connection(sandbox, "shop")
    tag = unique("s")
    north = shop_customers(sandbox, "northwind")[:7]
    south = shop_customers(sandbox, "southwind")[:3]
    rows: list[dict[str, Any]] = []
    for shop, customers in (("northwind", north[:4]), ("southwind", south)):
        for i, customer in enumerate(customers):
            rows.append({"sync_key": f"{shop}/{tag}{i}", "shop": shop,
                         "shop_customer_id": str(customer["id"]), "email": customer["email"],
                         "first_name": f"Gold{i}", "last_name": tag, "phone": None,
                         "accepts_marketing": i % 2 == 0})
    # no id, but the shop has the e-mail: looked up and updated, not created again
    rows.append({"sync_key": f"northwind/{tag}-known", "shop": "northwind",
                 "email": north[4]["email"], "first_name": "Found", "last_name": tag,
                 "accepts_marketing": False})
    rows.append({"sync_key": f"northwind/{tag}-new", "shop": "northwind",
                 "email": f"{tag}@example.com", "first_name": "New", "last_name": tag,
                 "accepts_marketing": False})
    # another account of the shop (not in the feed) holds this e-mail: Shopify answers 422
    rows.append({"sync_key": f"northwind/{tag}-clash", "shop": "northwind",
                 "shop_customer_id": str(north[5]["id"]), "email": north[6]["email"],
                 "first_name": "Clash", "accepts_marketing": False})
    create_model(warehouse, MODEL, SHOP_COLUMNS, rows)
    before = {s: reader.counts("shop")[f"{s}__customers"]["total"]
              for s in ("northwind", "southwind")}

    first = run_sync(spec, warehouse, connection=conn)
    assert (first.updated, first.inserted, first.rejected) == (8, 1, 1)
    state = state_of(warehouse, "shop_customers")
    assert state[f"northwind/{tag}-clash"][3] == "email has already been taken"
    assert state[f"northwind/{tag}-known"][1] == f"northwind/{north[4]['id']}"
    assert [c["first_name"] for c in reader.shop_customers("northwind", north[4]["email"])] == [
        "Found"]
    south_row = reader.shop_customers("southwind", south[1]["email"])
    assert [(c["first_name"], c["accepts_marketing"]) for c in south_row] == [("Gold1", False)]
    created = reader.shop_customers("northwind", f"{tag}@example.com")
    assert [c["first_name"] for c in created] == ["New"]
    after = {s: reader.counts("shop")[f"{s}__customers"]["total"]
             for s in ("northwind", "southwind")}
    assert after == {"northwind": before["northwind"] + 1, "southwind": before["southwind"]}

    second = run_sync(spec, warehouse, connection=conn)
    assert (second.unchanged, second.updated, second.inserted) == (9, 0, 0)
    assert second.requests == 1  # only the rejected row is tried again


def shop_customer(config: SandboxConfig, shop: str, customer_id: str) -> dict[str, Any]:
    response = httpx.get(f"{config.base_url('shop', shop)}/customers/{customer_id}.json",
                         headers={"X-Shopify-Access-Token": config.credentials.shop_tokens[shop]})
    response.raise_for_status()
    customer: dict[str, Any] = response.json()["customer"]
    return customer


def test_the_golden_address_becomes_the_default_address_never_a_second_one(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    spec = find_spec("shop_customers")
    conn = connection(sandbox, "shop")
    tag = unique("a")
    known = [c for c in shop_customers(sandbox, "northwind")[10:20]
             if c.get("default_address")][:3]
    before = {str(c["id"]): shop_customer(sandbox, "northwind", str(c["id"])) for c in known}
    rows: list[dict[str, Any]] = [
        {"sync_key": f"northwind/{tag}{i}", "shop": "northwind",
         "shop_customer_id": str(c["id"]), "email": c["email"], "first_name": f"Gold{i}",
         "accepts_marketing": False, "address1": f"{i} Golden Road", "city": "Toronto",
         "province": "ON", "zip": "M5V 2T6", "country_code": "CA"}
        for i, c in enumerate(known)]
    rows.append({"sync_key": f"northwind/{tag}-new", "shop": "northwind",
                 "email": f"{tag}@example.com", "first_name": "New", "accepts_marketing": False,
                 "address1": "9 New Street", "city": "Leeds", "zip": "LS1 4DY",
                 "country_code": "GB"})
    create_model(warehouse, MODEL, SHOP_COLUMNS, rows)

    first = run_sync(spec, warehouse, connection=conn)
    assert (first.updated, first.inserted, first.rejected) == (3, 1, 0)
    for i, (ident, old) in enumerate(before.items()):
        after = shop_customer(sandbox, "northwind", ident)
        address = after["default_address"]
        assert (address["id"], address["address1"], address["city"], address["province"],
                address["zip"], address["country_code"]) == (
            old["default_address"]["id"], f"{i} Golden Road", "Toronto", "ON", "M5V 2T6", "CA")
        assert len(after["addresses"]) == len(old["addresses"])  # updated, not added
    created = reader.shop_customers("northwind", f"{tag}@example.com")[0]
    assert (created["default_address"]["address1"], created["default_address"]["country_code"],
            len(created["addresses"])) == ("9 New Street", "GB", 1)
    assert run_sync(spec, warehouse, connection=conn).requests == 0

    rows[0]["phone"] = "+14165550100"  # the address is unchanged: not sent, no lookup
    rows[1]["city"] = "Ottawa"  # the address changed: its id is looked up, then updated
    create_model(warehouse, MODEL, SHOP_COLUMNS, rows)
    third = run_sync(spec, warehouse, connection=conn, approve=True)
    assert (third.updated, third.requests) == (2, 3)
    moved = shop_customer(sandbox, "northwind", str(known[1]["id"]))
    assert (moved["default_address"]["city"], len(moved["addresses"])) == (
        "Ottawa", len(before[str(known[1]["id"])]["addresses"]))
    assert shop_customer(sandbox, "northwind", str(known[0]["id"]))["default_address"][
        "address1"] == "0 Golden Road"
