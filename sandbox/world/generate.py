"""Generate the sandbox world: deterministic, fast, realistically messy.

``generate(customers, seed)`` builds the real entities (people, companies, products, employees)
and the records each system holds of them, as :mod:`sandbox.world.model` dataclasses. The same
``(customers, seed)`` always gives an identical world; a million customers take about a minute.

What the world looks like (shares are of people unless stated):

- Presence: CRM 73%, ERP 58%, shops 64% (10% of shop customers in both shops); 10% of people are
  in exactly one system. (With nobody in no system, 10% in exactly one forces the marginals to
  sum to at least 1.9, so they sit a few points above a 70/55/60 split.)
- Mess: names with nicknames, typos, case and stray spaces; e-mails cased or padded; phones in
  E.164, national or international formats, often missing; addresses abbreviated or recased;
  23% of people in both CRM and ERP have a different e-mail in each; duplicates (3% of CRM
  contacts, 1% of ERP contacts); 2% archived per system; consent that disagrees for 5% of
  people in several systems; SKUs in different formats (ERP codes differ for 30% of products).
- Commerce: about 1.5 orders per shop customer, one invoice each; won deals invoiced.
- Seeded breaks (``world.breaks``): orders without invoice, invoice amount mismatches, duplicate
  invoices, won deals not invoiced, deal invoice mismatches, leavers still active as CRM owners,
  customer e-mail conflicts, product code mismatches.

Conventions the seeders can rely on:

- Entity ids: ``person-0000001``, ``company-000001``, ``product-00001``, ``employee-00001``,
  ``order-0000001``, ``deal-000001``; ERP contacts are people, companies (the B2B account billed
  for won deals, created with its first invoice) or ``account-<shop>`` (the "Shop customers
  <shop>" contact billed for buyers who are not ERP contacts). Invoices, payments and credit notes
  carry the entity id of the order or deal they bill; deal line items ``deal-000001/line-1``.
- A person's first record in a system is the oldest; duplicates are always created later.
- All variants of a shop product carry the product's ``shop_sku``; an order line's ERP item code
  is the product's ``erp_code``.
- Record ids are as served (CRM numeric strings, ERP lower-case GUIDs, shop integer strings
  without the shop prefix, HR "1", "2", ...); break record ids use ``<shop>/<id>`` for shops.
- Records share unchanged ``Address`` objects with their entity: treat them as read-only.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from goldloop.errors import SandboxError
from sandbox.world import catalog, commerce, customers, deals, entities, staff
from sandbox.world.build import Build
from sandbox.world.clock import NOW_MS
from sandbox.world.model import SHOP_NAMES, ShopWorld, World
from sandbox.world.truth import TruthRow, truth_rows

__all__ = ["STEPS", "TruthRow", "generate", "truth_rows"]

MAX_CUSTOMERS = 5_000_000

# The world is built by these steps, in this order; each reads what the earlier ones made.
STEPS: tuple[Callable[[Build], None], ...] = (
    entities.make_companies,
    entities.make_people,
    entities.make_products,
    entities.make_employees,
    staff.make_hr_employees,
    staff.make_crm_owners,
    catalog.make_crm_products,
    catalog.make_erp_items,
    catalog.make_shop_products,
    customers.assign_presence,
    customers.make_crm_companies,
    customers.make_customer_records,
    commerce.make_orders,
    commerce.make_order_invoices,
    deals.make_deals,
    deals.make_deal_invoices,
    commerce.number_ledger,
)


def generate(customers: int, seed: int, order_lines: int | None = None) -> World:
    """Build the world of ``customers`` people from ``seed`` (same inputs, same world).

    ``order_lines`` asks for about that many shop order lines (more orders per shop customer);
    by default a shop customer places about 1.55 orders of 1.75 lines.

    >>> world = generate(100, seed=1)
    >>> len(world.people), world.people[0].entity_id, world.now_ms == NOW_MS
    (100, 'person-0000001', True)
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise SandboxError(
            f"cannot generate a world of {customers} customers",
            hint=f"use a customer count between 1 and {MAX_CUSTOMERS:,}",
        )
    if order_lines is not None and order_lines < 0:
        raise SandboxError(f"cannot generate {order_lines} order lines",
                           hint="leave --order-lines out, or give a positive number")
    world = World(seed=seed, customers=customers, now_ms=NOW_MS, order_lines=order_lines,
                  shops={name: ShopWorld(name=name) for name in SHOP_NAMES})
    build = Build(world=world)
    # Millions of small objects and no reference cycles: the cyclic collector would only rescan
    # them over and over (it roughly doubles the run time at a million customers).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for step in STEPS:
            step(build)
    finally:
        if was_enabled:
            gc.enable()
    return world
