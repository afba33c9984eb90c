"""Fixed facts about the emulated Shopify shops: table names, time zones, currencies, id spaces.

>>> table("northwind", "customers")
'northwind__customers'
>>> domain("southwind")
'southwind.myshopify.com'
>>> utc_offset_minutes("northwind")
-240
"""

from __future__ import annotations

from sandbox.config import SHOPIFY_API_VERSION
from sandbox.store import Store

API_VERSION = SHOPIFY_API_VERSION
OBJECTS: tuple[str, ...] = ("customers", "orders", "products")

# Each shop reports times in its own zone (a fixed offset here, so no DST ambiguity):
# connectors must parse offsets rather than assume UTC.
_UTC_OFFSETS: dict[str, int] = {"northwind": -240, "southwind": 60}
_CURRENCIES: dict[str, str] = {"northwind": "USD", "southwind": "EUR"}

# One counter for every id the emulator hands out after seeding (customers, orders, line
# items, addresses...): Shopify ids are unique across shops, and new ids always sort last.
ID_COUNTER = "shop_ids"
ORDER_NUMBER_COUNTER = "{shop}__order_number"

# Derived id spaces for sub-records the world does not number itself.
ADDRESS_ID_OFFSET = 5_000_000_000_000
INVENTORY_ITEM_ID_OFFSET = 6_000_000_000_000
OPTION_ID_OFFSET = 7_000_000_000_000


def table(shop: str, obj: str) -> str:
    """The store table of one object type of one shop."""
    return f"{shop}__{obj}"


def domain(shop: str) -> str:
    """The shop's ``myshopify.com`` domain (sent in webhooks)."""
    return f"{shop}.myshopify.com"


def utc_offset_minutes(shop: str) -> int:
    """The fixed UTC offset the shop renders its timestamps in (0 for unknown shops)."""
    return _UTC_OFFSETS.get(shop, 0)


def default_currency(shop: str) -> str:
    """The shop's currency when no order says otherwise."""
    return _CURRENCIES.get(shop, "USD")


def seeded_shops(store: Store) -> list[str]:
    """The shops that have a customers table in ``store``, in name order."""
    suffix = "__customers"
    return sorted(obj[: -len(suffix)] for obj in store.objects() if obj.endswith(suffix))


def new_id(store: Store) -> int:
    """A fresh Shopify id, larger than every seeded or earlier id."""
    return store.next_id(ID_COUNTER, start=1_000_000)
