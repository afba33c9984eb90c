"""The catalogue in each system: CRM products, ERP items, shop products with variants."""

from __future__ import annotations

from sandbox.world.build import Build
from sandbox.world.clock import DAY_MS, NOW_MS, START_MS
from sandbox.world.ids import (
    CRM_PRODUCT_START,
    SHOP_PRODUCT_BASE,
    SHOP_VARIANT_BASE,
    guid,
    shop_base,
)
from sandbox.world.model import SHOP_NAMES, Break, CrmProduct, ErpItem, ShopProduct, ShopVariant

# The catalogue was loaded in the first weeks of 2024; prices and texts changed since.
_LOAD_SPAN = 40 * DAY_MS
SHOP_DRAFT = 0.02
SHOP_ARCHIVED = 0.04


def _times(rng_random: float, rng_random2: float) -> tuple[int, int]:
    created = START_MS + int(rng_random * _LOAD_SPAN)
    return created, created + int(rng_random2 ** 2 * (NOW_MS - created))


def make_crm_products(b: Build) -> None:
    """Every product in the CRM's product library (SKU in the CRM's own format)."""
    rng = b.rng("crm-products")
    for i, product in enumerate(b.world.products):
        created, updated = _times(rng.random(), rng.random())
        b.world.crm.products.append(CrmProduct(
            record_id=str(CRM_PRODUCT_START + i),
            entity_id=product.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=False,
            name=product.name,
            sku=product.crm_sku,
            price_cents=product.price_cents,
            description=product.description,
        ))


def make_erp_items(b: Build) -> None:
    """Every product as an ERP item; a code that differs from the shop SKU is a break."""
    rng = b.rng("erp-items")
    for product in b.world.products:
        created, updated = _times(rng.random(), rng.random())
        item = ErpItem(
            record_id=guid(rng),
            entity_id=product.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=False,
            code=product.erp_code,
            name=product.name[:50],
            price_cents=product.price_cents,
            description=product.description,
        )
        b.world.erp.items.append(item)
        if product.erp_code != product.shop_sku:
            b.world.breaks.append(Break(
                kind="product_code_mismatch",
                system="erp",
                record_id=item.record_id,
                detail=f"erp item code {product.erp_code} != shop sku {product.shop_sku}",
            ))


def make_shop_products(b: Build) -> None:
    """Every product in every shop, with 1-3 variants that all carry the product's SKU."""
    rng = b.rng("shop-products")
    for shop_index, shop in enumerate(SHOP_NAMES):
        products = b.world.shops[shop].products
        active: list[tuple[ShopProduct, int]] = []
        variant_id = shop_base(SHOP_VARIANT_BASE, shop_index)
        base = shop_base(SHOP_PRODUCT_BASE, shop_index)
        for i, product in enumerate(b.world.products):
            created, updated = _times(rng.random(), rng.random())
            variants = []
            for title in b.product_variants[i]:
                variant_id += 1
                variants.append(ShopVariant(record_id=str(variant_id), sku=product.shop_sku,
                                            price_cents=product.price_cents, title=title))
            r = rng.random()
            status = "draft" if r < SHOP_DRAFT else (
                "archived" if r < SHOP_DRAFT + SHOP_ARCHIVED else "active")
            record = ShopProduct(
                record_id=str(base + i + 1),
                entity_id=product.entity_id,
                created_ms=created,
                updated_ms=updated,
                archived=status == "archived",
                shop=shop,
                title=product.name,
                variants=variants,
                status=status,
            )
            products.append(record)
            if status == "active":
                active.append((record, i))
        b.shop_active_products[shop] = active
