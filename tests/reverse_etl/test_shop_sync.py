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
