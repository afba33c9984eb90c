"""CRM deals with their line items, and the invoices finance raised for the won ones.

A won deal is billed to the company's ERP contact (created with its first invoice) by an invoice
whose reference is ``DEAL-<crm deal id>``. Seeded breaks: won deals never invoiced, and deal
invoices whose amount differs from the deal's.
"""

from __future__ import annotations

import random

from sandbox.world.build import Build, by_created
from sandbox.world.clock import DAY_MS, HOUR_MS, NOW_MS, START_MS, iso_date
from sandbox.world.commerce import misbill, new_invoice, pay
from sandbox.world.emails import email_surface
from sandbox.world.ids import CRM_DEAL_START, CRM_LINE_ITEM_START, entity_id, guid
from sandbox.world.model import (
    Break,
    CrmCompany,
    CrmContact,
    CrmDeal,
    CrmLineItem,
    CrmProduct,
    ErpContact,
    ErpLine,
)
from sandbox.world.phones import phone_surface
from sandbox.world.places import address_surface

DEALS_PER_COMPANY = 0.3
STAGES: tuple[tuple[str, float], ...] = (
    ("closedwon", 0.40),
    ("closedlost", 0.25),
    ("appointmentscheduled", 0.12),
    ("qualifiedtobuy", 0.13),
    ("contractsent", 0.10),
)
CLOSED = ("closedwon", "closedlost")
WON_NOT_INVOICED = 0.10
DEAL_AMOUNT_MISMATCH = 0.03  # of invoiced won deals
DEAL_PAID = 0.70
DEAL_DUE_DAYS = 30
_DISCOUNTS = (100, 100, 100, 95, 90, 85)  # percent of list price


def _stage(r: float) -> str:
    """The pipeline stage at cumulative share ``r``.

    >>> _stage(0.1), _stage(0.5), _stage(0.99)
    ('closedwon', 'closedlost', 'contractsent')
    """
    for stage, share in STAGES:
        if r < share:
            return stage
        r -= share
    return STAGES[-1][0]


def _contacts_by_company(b: Build) -> dict[int, list[CrmContact]]:
    found: dict[int, list[CrmContact]] = {}
    for i, contact in enumerate(b.crm_contact):
        ci = b.person_company[i]
        if contact is not None and ci >= 0 and not contact.archived and contact.company_record_id:
            found.setdefault(ci, []).append(contact)
    return found


def make_deals(b: Build) -> None:
    """About 0.3 deals per CRM company, with 1-4 line items and 1-2 of its contacts."""
    rng = b.rng("deals")
    rand = rng.random
    crm = b.world.crm
    companies = [(ci, c) for ci, c in enumerate(b.company_crm) if c is not None and not c.archived]
    if not companies:
        return
    contacts = _contacts_by_company(b)
    staffed = [(ci, c) for ci, c in companies if ci in contacts]
    products = [p for p in crm.products if not p.archived]
    owners = b.active_owner_ids
    deals: list[CrmDeal] = []
    for _ in range(round(len(crm.companies) * DEALS_PER_COMPANY)):
        pool = staffed or companies
        ci, company = pool[int(rand() * len(pool))]
        deals.append(_deal(company, contacts.get(ci, []), products, owners, rng))
    deals.sort(key=by_created)
    line_id = CRM_LINE_ITEM_START
    for n, deal in enumerate(deals):
        deal.record_id = str(CRM_DEAL_START + n)
        deal.entity_id = entity_id("deal", n + 1, 6)
        for k, line in enumerate(deal.line_items, start=1):
            line.record_id = str(line_id)
            line.entity_id = f"{deal.entity_id}/line-{k}"
            line_id += 1
    crm.deals = deals


def _deal(company: CrmCompany, people: list[CrmContact], products: list[CrmProduct],
          owners: list[str],
          rng: random.Random) -> CrmDeal:
    rand = rng.random
    start = max(company.created_ms, START_MS)
    created = start + int(rand() * max(0, NOW_MS - 2 * DAY_MS - start))
    stage = _stage(rand())
    close: int | None = None
    if stage in CLOSED:
        close = min(NOW_MS - HOUR_MS, created + int((2 + rand() * 118) * DAY_MS))
        close = max(close, created)
    lines: list[CrmLineItem] = []
    seen: list[str] = []
    for _ in range(1 + int(rand() ** 2 * 4)):
        product = products[int(rand() * len(products))]
        if product.record_id in seen:
            continue
        seen.append(product.record_id)
        discount = _DISCOUNTS[int(rand() * len(_DISCOUNTS))]
        lines.append(CrmLineItem(
            record_id="",
            entity_id="",
            created_ms=created,
            updated_ms=created,
            archived=False,
            product_record_id=product.record_id,
            name=product.name,
            quantity=1 + int(rand() ** 2 * 49),
            price_cents=product.price_cents * discount // 100,
        ))
    chosen: list[str] = []
    for _ in range(1 + int(rand() < 0.35)):
        if people:
            contact = people[int(rand() * len(people))]
            if contact.record_id not in chosen:
                chosen.append(contact.record_id)
    when = close if close is not None else created
    updated = min(NOW_MS, when + int(rand() ** 2 * (NOW_MS - when)))
    quarter = (int(iso_date(created)[5:7]) - 1) // 3 + 1
    name = (f"{company.name.strip()} - {lines[0].name}" if len(lines) == 1
            else f"{company.name.strip()} - Q{quarter} {iso_date(created)[:4]} order")
    return CrmDeal(
        record_id="",
        entity_id="",
        created_ms=created,
        updated_ms=updated,
        archived=False,
        name=name,
        amount_cents=sum(x.quantity * x.price_cents for x in lines),
        stage=stage,
        close_ms=close,
        company_record_id=company.record_id,
        contact_record_ids=chosen,
        owner_id=company.owner_id or (owners[int(rand() * len(owners))] if owners else None),
        line_items=lines,
    )


def _company_contact(b: Build, ci: int, before_ms: int, rng: random.Random) -> ErpContact:
    """The company's ERP contact (a B2B account), created with its first invoice."""
    existing = b.company_erp.get(ci)
    if existing is not None:
        return existing
    company = b.world.companies[ci]
    crm = b.company_crm[ci]
    created = max(START_MS, before_ms - int(rng.random() * 20 * DAY_MS))
    r = rng.random()
    email = (f"accounts@{company.domain}" if r < 0.6 else
             f"billing@{company.domain}" if r < 0.8 else None)
    contact = ErpContact(
        record_id=guid(rng),
        entity_id=company.entity_id,
        created_ms=created,
        updated_ms=created + int(rng.random() * (NOW_MS - created)),
        archived=False,
        name=b.unique_erp_name(company.name, None),
        first_name="",
        last_name="",
        email=email_surface(email, rng) if email else None,
        phone=phone_surface(company.phone, company.address.country_code, rng, missing=0.3),
        address=address_surface(company.address, rng, missing=0.1),
        contact_number=crm.record_id if crm is not None and rng.random() < 0.3 else None,
        is_customer=True,
    )
    b.world.erp.contacts.append(contact)
    b.company_erp[ci] = contact
    return contact


def make_deal_invoices(b: Build) -> None:
    """An invoice for each won deal (reference ``DEAL-<id>``), minus the seeded breaks."""
    rng = b.rng("deal-invoices")
    rand = rng.random
    code_of = {p.record_id: b.world.products[k].erp_code
               for k, p in enumerate(b.world.crm.products)}
    company_of = {c.record_id: int(c.entity_id[8:]) - 1 for c in b.world.crm.companies}
    won = [d for d in b.world.crm.deals
           if d.stage == "closedwon" and d.close_ms is not None and d.company_record_id]
    # In closing order, so a company's ERP contact predates all of its invoices.
    won.sort(key=lambda d: d.close_ms or 0)
    for deal in won:
        assert deal.close_ms is not None and deal.company_record_id is not None
        r = rand()
        if r < WON_NOT_INVOICED:
            b.world.breaks.append(Break(
                kind="deal_won_not_invoiced",
                system="crm",
                record_id=deal.record_id,
                detail=(f"deal won on {iso_date(deal.close_ms)} for {deal.amount_cents} cents "
                        "has no invoice"),
            ))
            continue
        created = min(NOW_MS, deal.close_ms + int(rand() * 3 * DAY_MS))
        contact = _company_contact(b, company_of[deal.company_record_id], created, rng)
        lines = [ErpLine(code_of[x.product_record_id], x.name, x.quantity, x.price_cents)
                 for x in deal.line_items]
        wrong = r < WON_NOT_INVOICED + (1 - WON_NOT_INVOICED) * DEAL_AMOUNT_MISMATCH
        paid = rand() < DEAL_PAID
        invoice = new_invoice(contact, deal.entity_id, f"DEAL-{deal.record_id}", created,
                              deal.close_ms, DEAL_DUE_DAYS, "PAID" if paid else "AUTHORISED",
                              misbill(lines, rng) if wrong else lines, rng)
        b.world.erp.invoices.append(invoice)
        if paid:
            pay(b, invoice, created + int(rand() * 25 * DAY_MS), rng)
        if wrong:
            b.world.breaks.append(Break(
                kind="deal_invoice_amount_mismatch",
                system="erp",
                record_id=invoice.record_id,
                detail=(f"invoice for DEAL-{deal.record_id} totals {invoice.total_cents} cents, "
                        f"deal amount is {deal.amount_cents}"),
            ))
