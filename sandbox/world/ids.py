"""Record and entity ids: the forms each system serves, and where each counter starts.

CRM (HubSpot) ids are numeric strings from one counter per object, ERP (Xero) ids are GUIDs,
shop (Shopify) ids are large integers from one range per shop and object, HR (BambooHR) ids are
small numeric strings. Entity ids (ground truth) are ``<kind>-<zero-padded number>``.
"""

from __future__ import annotations

import random

# HubSpot: first id of each object's counter.
CRM_CONTACT_START = 1001
CRM_COMPANY_START = 5_000_001
CRM_DEAL_START = 9_000_001
CRM_LINE_ITEM_START = 12_000_001
CRM_PRODUCT_START = 15_000_001
CRM_OWNER_START = 70_000_001
CRM_USER_START = 26_000_001

# Shopify: base of each object's id range; shop k adds k * SHOP_STRIDE.
SHOP_CUSTOMER_BASE = 6_000_000_000_000
SHOP_PRODUCT_BASE = 7_000_000_000_000
SHOP_VARIANT_BASE = 40_000_000_000_000
SHOP_ORDER_BASE = 4_000_000_000_000
SHOP_LINE_ITEM_BASE = 11_000_000_000_000
SHOP_STRIDE = 100_000_000_000
SHOP_FIRST_ORDER_NUMBER = 1001

_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (4 << 76) | (0x8000 << 48)


def guid(rng: random.Random) -> str:
    """A random version-4 GUID in Xero's lower-case form, drawn from ``rng``.

    Same value as ``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, about twice as fast.

    >>> import uuid
    >>> guid(random.Random(1)) == str(uuid.UUID(int=random.Random(1).getrandbits(128), version=4))
    True
    """
    h = ((rng.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def entity_id(kind: str, number: int, width: int) -> str:
    """A ground-truth entity id.

    >>> entity_id("person", 42, 7)
    'person-0000042'
    """
    return f"{kind}-{str(number).zfill(width)}"


def shop_base(base: int, shop_index: int) -> int:
    """First id of an object's range in the ``shop_index``-th shop.

    >>> shop_base(SHOP_CUSTOMER_BASE, 1)
    6100000000000
    """
    return base + shop_index * SHOP_STRIDE


def shop_record_id(shop: str, record_id: str) -> str:
    """The record id form truth and breaks use for shop records.

    >>> shop_record_id("northwind", "6000000000001")
    'northwind/6000000000001'
    """
    return f"{shop}/{record_id}"
