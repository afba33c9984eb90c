"""Shop orders and what finance made of them: ERP invoices, payments, credit notes, and breaks.

Each order is billed by one ACCREC invoice (reference ``<shop>/#1001``) to the buyer's ERP contact,
or to the shop's "Shop customers <shop>" account when the buyer is not an ERP contact. Seeded
breaks: orders never invoiced, invoices with a different amount, orders invoiced twice.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable

from sandbox.world.build import Build, by_created
from sandbox.world.clock import DAY_MS, HOUR_MS, MINUTE_MS, NOW_MS, iso_date
from sandbox.world.ids import (
    SHOP_FIRST_ORDER_NUMBER,
    SHOP_LINE_ITEM_BASE,
    SHOP_ORDER_BASE,
    entity_id,
    guid,
    shop_base,
    shop_record_id,
)
from sandbox.world.model import (
    SHOP_NAMES,
    Break,
    ErpContact,
    ErpCreditNote,
    ErpInvoice,
    ErpLine,
    ErpPayment,
    ShopLineItem,
    ShopOrder,
    ShopProduct,
)

CURRENCY = "USD"
ORDER_COUNT_CUM = (0.20, 0.56, 0.80, 0.92, 0.97, 1.0)  # 0..5 orders; mean about 1.55
LINE_COUNT_CUM = (0.50, 0.80, 0.95, 1.0)  # 1..4 lines
CANCELLED = 0.03
PENDING = 0.07
MISSING_INVOICE = 0.02
AMOUNT_MISMATCH = 0.015
DUPLICATE_INVOICE = 0.01
INVOICE_DUE_DAYS = 14
# Order financial status -> status of its invoice (refunds also get a credit note).
_INVOICE_STATUS = {"paid": "PAID", "pending": "AUTHORISED", "refunded": "PAID", "voided": "VOIDED"}


def _count(cumulative: tuple[float, ...], r: float) -> int:
    """Index of the first cumulative share above ``r``.

    >>> _count(ORDER_COUNT_CUM, 0.1), _count(ORDER_COUNT_CUM, 0.999)
    (0, 5)
    """
    return min(bisect_right(cumulative, r), len(cumulative) - 1)


def _mean(cumulative: tuple[float, ...]) -> float:
    """The mean of the count whose cumulative shares are ``cumulative``.

    >>> round(_mean(ORDER_COUNT_CUM), 2), round(1 + _mean(LINE_COUNT_CUM), 2)
    (1.55, 1.75)
    """
    shares = [b - a for a, b in zip((0.0, *cumulative), cumulative, strict=False)]
    return sum(count * share for count, share in enumerate(shares))


def order_scale(order_lines: int | None, shop_customers: int) -> float:
    """The factor on each shop customer's order count that gives about ``order_lines`` lines.

    ``None`` keeps the default mix (about 1.55 orders of 1.75 lines per shop customer).

    >>> order_scale(None, 1000), round(order_scale(5_000_000, 700_000), 2)
    (1.0, 2.63)
    """
    if order_lines is None or shop_customers == 0:
        return 1.0
    return order_lines / (shop_customers * _mean(ORDER_COUNT_CUM) * (1 + _mean(LINE_COUNT_CUM)))


def _scaled(count: int, scale: float, rand: Callable[[], float]) -> int:
    """``count * scale`` rounded up or down at random, so the expected total is exact.

    >>> _scaled(3, 1.0, lambda: 0.0), _scaled(2, 2.5, lambda: 0.4), _scaled(3, 2.5, lambda: 0.6)
    (3, 5, 7)
    """
    if scale == 1.0:
        return count
    whole = count * scale
    return int(whole) + (1 if rand() < whole - int(whole) else 0)


def make_orders(b: Build) -> None:
    """About 1.5 orders per shop customer (times ``world.order_scale``), 1-4 lines each; ids
    and ``#1001`` names by time."""
    rng = b.rng("orders")
    rand = rng.random
    next_entity = 1
    shop_customers = sum(len(b.world.shops[shop].customers) for shop in SHOP_NAMES)
    scale = order_scale(b.world.order_lines, shop_customers)
    for shop_index, shop in enumerate(SHOP_NAMES):
        products = b.shop_active_products[shop] or [
            (p, i) for i, p in enumerate(b.world.shops[shop].products)]
        pairs: list[tuple[ShopOrder, int]] = []
        for customer in b.world.shops[shop].customers:
            person = int(customer.entity_id[7:]) - 1
            for _ in range(_scaled(_count(ORDER_COUNT_CUM, rand()), scale, rand)):
                pairs.append((_order(customer.record_id, customer.email, customer.created_ms,
                                     shop, products, rng), person))
        pairs.sort(key=lambda pair: pair[0].created_ms)
        order_base = shop_base(SHOP_ORDER_BASE, shop_index)
        line_id = shop_base(SHOP_LINE_ITEM_BASE, shop_index)
        orders = b.world.shops[shop].orders
        for n, (order, _) in enumerate(pairs):
            order.record_id = str(order_base + n + 1)
            order.order_number = SHOP_FIRST_ORDER_NUMBER + n
            order.name = f"#{order.order_number}"
            order.entity_id = entity_id("order", next_entity, 7)
            next_entity += 1
            for line in order.line_items:
                line_id += 1
                line.record_id = str(line_id)
            orders.append(order)
        b.order_person[shop] = [person for _, person in pairs]


def _order(customer_id: str, email: str | None, since_ms: int, shop: str,
           products: list[tuple[ShopProduct, int]], rng: random.Random) -> ShopOrder:
    rand = rng.random
    created = since_ms + int(rand() * (NOW_MS - HOUR_MS - since_ms))
    lines: list[ShopLineItem] = []
    picked: list[int] = []
    for _ in range(1 + _count(LINE_COUNT_CUM, rand())):
        k = int(rand() * len(products))
        if k in picked:
            continue
        picked.append(k)
        product = products[k][0]
        variant = product.variants[int(rand() * len(product.variants))]
        q = rand()
        # Positional: these run millions of times and keyword binding costs twice as much.
        # (record_id, product_record_id, variant_record_id, sku, title, quantity, price_cents)
        lines.append(ShopLineItem("", product.record_id, variant.record_id, variant.sku,
                                  product.title, 1 if q < 0.8 else 2 if q < 0.95 else 3,
                                  variant.price_cents))
    cancelled: int | None = None
    r = rand()
    if r < CANCELLED:
        cancelled = min(NOW_MS, created + int(rand() * 3 * DAY_MS))
        status = "refunded" if rand() < 0.6 else "voided"
    else:
        status = "pending" if r < CANCELLED + PENDING else "paid"
    last = cancelled or created
    # Positional for speed, in model order: Record fields, then shop, name, order_number,
    # customer_record_id, email, currency, financial_status, cancelled_ms, line_items, total.
    return ShopOrder("", "", created, last + int(rand() ** 3 * (NOW_MS - last)), False,
                     shop, "", 0, customer_id, email, CURRENCY, status, cancelled, lines,
                     sum(line.quantity * line.price_cents for line in lines))


def invoice_total(lines: list[ErpLine]) -> int:
    """The total of invoice lines (no tax in this world).

    >>> invoice_total([ErpLine("A", "a", 2, 150), ErpLine("B", "b", 1, 99)])
    399
    """
    return sum(line.quantity * line.unit_cents for line in lines)


def copy_lines(lines: list[ErpLine]) -> list[ErpLine]:
    """Fresh copies of invoice lines (records never share mutable parts).

    >>> copy_lines([ErpLine("A", "a", 1, 5)])
    [ErpLine(item_code='A', description='a', quantity=1, unit_cents=5)]
    """
    return [ErpLine(x.item_code, x.description, x.quantity, x.unit_cents) for x in lines]


def misbill(lines: list[ErpLine], rng: random.Random) -> list[ErpLine]:
    """Copied lines with one mistake: an old price, a wrong quantity or a line left out.

    >>> lines = [ErpLine("A", "a", 1, 1000), ErpLine("B", "b", 2, 500)]
    >>> invoice_total(misbill(lines, random.Random(5))) != invoice_total(lines)
    True
    """
    copied = copy_lines(lines)
    r = rng.random()
    line = copied[int(rng.random() * len(copied))]
    if r < 0.4 and line.unit_cents >= 100:
        line.unit_cents = line.unit_cents * 9 // 10  # billed at an outdated price
    elif r < 0.7 or len(copied) == 1:
        line.quantity += 1
    else:
        copied.remove(line)
    return copied


def new_invoice(contact: ErpContact, billed_id: str, reference: str, created_ms: int,
                date_ms: int, due_days: int, status: str, lines: list[ErpLine],
                rng: random.Random) -> ErpInvoice:
    """An ACCREC invoice (numbered later, in creation order, by the ledger step)."""
    # Positional for speed, in model order: Record fields, then number, contact_record_id,
    # reference, date, due_date, status, currency, lines, total_cents.
    return ErpInvoice(guid(rng), billed_id, created_ms, created_ms, False,
                      "", contact.record_id, reference, iso_date(date_ms),
                      iso_date(date_ms + due_days * DAY_MS), status, CURRENCY, lines,
                      invoice_total(lines))


def pay(b: Build, invoice: ErpInvoice, paid_ms: int, rng: random.Random) -> None:
    """Record the one payment that settles ``invoice`` in full."""
    paid_ms = min(NOW_MS, max(paid_ms, invoice.created_ms))
    # (record_id, entity_id, created_ms, updated_ms, archived, invoice_record_id, amount_cents,
    #  date, status), positional for speed.
    b.world.erp.payments.append(ErpPayment(guid(rng), invoice.entity_id, paid_ms, paid_ms, False,
                                           invoice.record_id, invoice.total_cents,
                                           iso_date(paid_ms), "AUTHORISED"))
    invoice.updated_ms = max(invoice.updated_ms, paid_ms)


def make_order_invoices(b: Build) -> None:
    """One invoice per order (payments, refunds as credit notes), minus the seeded breaks."""
    rng = b.rng("order-invoices")
    rand = rng.random
    erp = b.world.erp
    for shop in SHOP_NAMES:
        code_of = {p.record_id: b.world.products[k].erp_code
                   for k, p in enumerate(b.world.shops[shop].products)}
        account = b.shop_account[shop]
        for order, person in zip(b.world.shops[shop].orders, b.order_person[shop], strict=True):
            contact = b.erp_contact[person] or account
            lines = [ErpLine(code_of[x.product_record_id], x.title, x.quantity, x.price_cents)
                     for x in order.line_items]
            created = min(NOW_MS, order.created_ms + 10 * MINUTE_MS + int(rand() * 36 * HOUR_MS))
            reference = f"{shop}/{order.name}"
            r = rand() if order.cancelled_ms is None else 1.0
            if r < MISSING_INVOICE:
                b.world.breaks.append(Break(
                    kind="order_missing_invoice",
                    system="shop",
                    record_id=shop_record_id(shop, order.record_id),
                    detail=f"order {reference} ({order.total_cents} cents) has no invoice",
                ))
                continue
            wrong = r < MISSING_INVOICE + AMOUNT_MISMATCH
            status = _INVOICE_STATUS[order.financial_status]
            invoice = new_invoice(contact, order.entity_id, reference, created, order.created_ms,
                                  INVOICE_DUE_DAYS, status, misbill(lines, rng) if wrong else lines,
                                  rng)
            erp.invoices.append(invoice)
            if status == "PAID":
                pay(b, invoice, created + int(rand() * 2 * HOUR_MS), rng)
            if order.cancelled_ms is not None:
                if order.financial_status == "refunded":
                    _refund(b, invoice, order.cancelled_ms, rng)
                else:
                    invoice.updated_ms = max(created, order.cancelled_ms)
            if wrong:
                b.world.breaks.append(Break(
                    kind="invoice_amount_mismatch",
                    system="erp",
                    record_id=invoice.record_id,
                    detail=(f"invoice for {reference} totals {invoice.total_cents} cents, "
                            f"order totals {order.total_cents}"),
                ))
            elif r < MISSING_INVOICE + AMOUNT_MISMATCH + DUPLICATE_INVOICE:
                again = min(NOW_MS, created + int((0.5 + rand() * 4) * DAY_MS))
                twin = new_invoice(contact, order.entity_id, reference, again, order.created_ms,
                                   INVOICE_DUE_DAYS, "AUTHORISED", copy_lines(lines), rng)
                erp.invoices.append(twin)
                b.world.breaks.append(Break(
                    kind="duplicate_invoice",
                    system="erp",
                    record_id=twin.record_id,
                    detail=f"second invoice for {reference}; first is {invoice.record_id}",
                ))


def _refund(b: Build, invoice: ErpInvoice, cancelled_ms: int, rng: random.Random) -> None:
    created = min(NOW_MS, max(cancelled_ms, invoice.created_ms) + int(rng.random() * DAY_MS))
    b.world.erp.credit_notes.append(ErpCreditNote(
        record_id=guid(rng),
        entity_id=invoice.entity_id,
        created_ms=created,
        updated_ms=created,
        archived=False,
        number="",
        contact_record_id=invoice.contact_record_id,
        invoice_record_id=invoice.record_id,
        date=iso_date(created),
        status="PAID",
        total_cents=invoice.total_cents,
    ))
    invoice.updated_ms = max(invoice.updated_ms, created)


def number_ledger(b: Build) -> None:
    """Number invoices (INV-0000001) and credit notes (CN-0000001) in creation order."""
    erp = b.world.erp
    erp.invoices.sort(key=by_created)
    for n, invoice in enumerate(erp.invoices, start=1):
        invoice.number = f"INV-{str(n).zfill(7)}"
    erp.credit_notes.sort(key=by_created)
    for n, note in enumerate(erp.credit_notes, start=1):
        note.number = f"CN-{str(n).zfill(7)}"
    erp.payments.sort(key=by_created)
