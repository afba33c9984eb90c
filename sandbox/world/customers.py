"""Customers in each system: CRM companies and contacts, ERP contacts, shop customers.

Who is where (presence), how each system holds them (names, e-mails, phones, addresses written
differently), duplicates, archived records, consent that disagrees, cross-references some users
keep, and the seeded e-mail conflicts between CRM and ERP.
"""

from __future__ import annotations

import random

from sandbox.world.build import IN_CRM, IN_ERP, IN_SHOP, Build, by_created
from sandbox.world.clock import DAY_MS, NOW_MS, START_MS
from sandbox.world.emails import (
    email_surface,
    normalize_email,
    personal_domain,
    personal_local,
    plus_address,
    slug,
    typo_domain,
)
from sandbox.world.ids import (
    CRM_COMPANY_START,
    CRM_CONTACT_START,
    SHOP_CUSTOMER_BASE,
    guid,
    shop_base,
)
from sandbox.world.mess import company_name_surface, name_surface, strong_variant
from sandbox.world.model import (
    SHOP_NAMES,
    Break,
    CrmCompany,
    CrmContact,
    ErpContact,
    Person,
    ShopCustomer,
)
from sandbox.world.names import INDUSTRIES
from sandbox.world.phones import phone_surface
from sandbox.world.places import address_surface

# Who is where: (presence bits, share of people). Marginals: CRM 73%, ERP 58%, shops 64%;
# 10% of people are in exactly one system (see the module docs of sandbox.world.generate).
PRESENCE: tuple[tuple[int, float], ...] = (
    (IN_CRM, 0.04),
    (IN_ERP, 0.03),
    (IN_SHOP, 0.03),
    (IN_CRM | IN_ERP, 0.29),
    (IN_CRM | IN_SHOP, 0.35),
    (IN_ERP | IN_SHOP, 0.21),
    (IN_CRM | IN_ERP | IN_SHOP, 0.05),
)
BOTH_SHOPS = 0.10
FIRST_SHOP = 0.60
CRM_COMPANY_PRESENT = 0.90
ARCHIVED = 0.02  # per system
EMAIL_CONFLICT = 0.23  # of people in both CRM and ERP
CRM_DUPLICATES = 0.03
ERP_DUPLICATES = 0.01
ERP_REFERS_TO_CRM = 0.40  # ERP ContactNumber = CRM contact id
CRM_REFERS_TO_ERP = 0.20  # CRM custom property = ERP ContactID
CONSENT_CONFLICT = 0.05
SHOP_OTHER_EMAIL = 0.03
SHOP_NO_EMAIL = 0.01


def exact_counts(total: int, shares: list[float]) -> list[int]:
    """Split ``total`` by ``shares`` into whole counts that add up (largest remainder).

    >>> exact_counts(10, [0.5, 0.25, 0.25])
    [5, 3, 2]
    """
    raw = [total * s / sum(shares) for s in shares]
    counts = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda k: (counts[k] - raw[k], k))
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    return counts


def assign_presence(b: Build) -> None:
    """Decide which systems (and which shops) hold each person, with exact proportions."""
    rng = b.rng("presence")
    codes: list[int] = []
    for (bits, _), count in zip(PRESENCE, exact_counts(b.n, [s for _, s in PRESENCE]),
                                strict=True):
        codes.extend([bits] * count)
    rng.shuffle(codes)
    b.presence = codes
    both, first, second = SHOP_NAMES[:2], SHOP_NAMES[:1], SHOP_NAMES[-1:]
    first_only = BOTH_SHOPS + (1 - BOTH_SHOPS) * FIRST_SHOP
    shops: list[tuple[str, ...]] = []
    for bits in codes:
        if not bits & IN_SHOP:
            shops.append(())
            continue
        r = rng.random()
        shops.append(both if r < BOTH_SHOPS else first if r < first_only else second)
    b.person_shops = shops


def alternative_email(person: Person, company_domain: str | None, b: Build,
                      rng: random.Random) -> str:
    """Another address of ``person``: personal vs work, an old job, a typo, a ``+tag``.

    Always different from the person's own address (after normalizing) and unique in the world.
    """
    first, last = person.first_name, person.last_name
    companies = b.world.companies
    for _ in range(20):
        r = rng.random()
        if company_domain is not None:  # the real address is a work address
            if r < 0.55:
                email = f"{personal_local(first, last, rng)}@{personal_domain(rng)}"
            elif r < 0.70:
                email = typo_domain(person.email, rng)
            elif r < 0.80:
                email = plus_address(person.email, rng)
            else:
                other = companies[int(rng.random() * len(companies))].domain
                email = f"{slug(first)}.{slug(last)}@{other}"
        elif r < 0.30:
            other = companies[int(rng.random() * len(companies))].domain
            email = f"{slug(first)}.{slug(last)}@{other}"
        elif r < 0.55:
            email = f"{personal_local(first, last, rng)}@{personal_domain(rng)}"
        elif r < 0.80:
            email = plus_address(person.email, rng)
        else:
            email = typo_domain(person.email, rng)
        if email not in b.used_emails:
            b.used_emails.add(email)
            return email
    email = f"{slug(first)}.{slug(last)}.{int(rng.random() * 10**9)}@{personal_domain(rng)}"
    b.used_emails.add(email)
    return email


def _record_times(start_ms: int, rng: random.Random, spread: float) -> tuple[int, int]:
    created = start_ms + int(rng.random() * spread * (NOW_MS - start_ms))
    return created, created + int(rng.random() ** 2 * (NOW_MS - created))


def make_crm_companies(b: Build) -> None:
    """Most companies as CRM companies (ids by creation time), named and styled loosely."""
    rng = b.rng("crm-companies")
    owners = b.active_owner_ids
    records: list[tuple[CrmCompany, int]] = []
    b.company_crm = [None] * len(b.world.companies)
    for ci, company in enumerate(b.world.companies):
        if rng.random() >= CRM_COMPANY_PRESENT:
            continue
        country = company.address.country_code
        r = rng.random()
        domain = (company.domain if r < 0.85 else f"www.{company.domain}" if r < 0.90
                  else f"https://{company.domain}" if r < 0.93 else None)
        created, updated = _record_times(company.created_ms, rng, 0.2)
        record = CrmCompany(
            record_id="",
            entity_id=company.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=rng.random() < ARCHIVED,
            name=company_name_surface(b.company_core[ci], b.company_suffix[ci], rng),
            domain=domain,
            phone=phone_surface(company.phone, country, rng, missing=0.3),
            address=address_surface(company.address, rng, missing=0.35),
            industry=INDUSTRIES[int(rng.random() * len(INDUSTRIES))][1]
            if rng.random() < 0.85 else None,
            owner_id=owners[int(rng.random() * len(owners))]
            if owners and rng.random() < 0.85 else None,
        )
        records.append((record, ci))
    records.sort(key=lambda pair: pair[0].created_ms)
    for n, (record, ci) in enumerate(records):
        record.record_id = str(CRM_COMPANY_START + n)
        b.company_crm[ci] = record
        b.world.crm.companies.append(record)


def _conflicts(b: Build, rng: random.Random) -> dict[int, int]:
    """People in CRM and ERP whose addresses differ: person -> 1 (CRM differs) or 2 (ERP)."""
    both = [i for i, bits in enumerate(b.presence) if bits & IN_CRM and bits & IN_ERP]
    chosen = sorted(rng.sample(both, round(len(both) * EMAIL_CONFLICT)))
    return {i: 1 if rng.random() < 0.5 else 2 for i in chosen}


def _consent_flips(b: Build, rng: random.Random) -> dict[int, str]:
    """People in several consent-holding systems where one system says opted out."""
    several = [i for i, bits in enumerate(b.presence)
               if len(b.person_shops[i]) + (1 if bits & IN_CRM else 0) >= 2]
    opted_in = [i for i in several if b.world.people[i].marketing_opt_in]
    chosen = sorted(rng.sample(opted_in, min(len(opted_in),
                                             round(len(several) * CONSENT_CONFLICT))))
    flips: dict[int, str] = {}
    for i in chosen:
        where = (["crm"] if b.presence[i] & IN_CRM else []) + list(b.person_shops[i])
        flips[i] = where[int(rng.random() * len(where))]
    return flips


def make_customer_records(b: Build) -> None:
    """CRM contacts, ERP contacts and shop customers for every person, per presence."""
    rng = b.rng("customers")
    world = b.world
    b.crm_contact = [None] * b.n
    b.erp_contact = [None] * b.n
    b.shop_customer = {shop: [None] * b.n for shop in SHOP_NAMES}
    conflicts = _conflicts(b, rng)
    flips = _consent_flips(b, rng)
    _make_shop_accounts(b, rng)
    owners = b.active_owner_ids
    companies = world.companies
    rand = rng.random
    crm_records: list[CrmContact] = []
    shop_records: dict[str, list[ShopCustomer]] = {shop: [] for shop in SHOP_NAMES}
    for i, person in enumerate(world.people):
        bits = b.presence[i]
        ci = b.person_company[i]
        country = person.address.country_code
        conflict = conflicts.get(i, 0)
        in_both = bits & IN_CRM and bits & IN_ERP
        flip = flips.get(i)
        company_domain = companies[ci].domain if ci >= 0 else None
        alt = alternative_email(person, company_domain, b, rng) if conflict else None
        if bits & IN_CRM:
            first, last = name_surface(person.first_name, person.last_name, rng)
            email: str | None = alt if conflict == 1 else person.email
            if not in_both and rand() < 0.015:
                email = None
            crm_company = b.company_crm[ci] if ci >= 0 else None
            created, updated = _record_times(person.created_ms, rng, 0.25)
            contact = CrmContact(
                record_id="",
                entity_id=person.entity_id,
                created_ms=created,
                updated_ms=updated,
                archived=not conflict and rand() < ARCHIVED,
                email=email_surface(email, rng) if email else None,
                first_name=first,
                last_name=last,
                phone=phone_surface(person.phone, country, rng, missing=0.25),
                address=address_surface(person.address, rng, missing=0.45),
                company_record_id=crm_company.record_id if crm_company else None,
                owner_id=owners[int(rand() * len(owners))] if owners and rand() < 0.9 else None,
                email_opt_out=not person.marketing_opt_in or flip == "crm",
                erp_contact_id=None,
            )
            crm_records.append(contact)
            b.crm_contact[i] = contact
        if bits & IN_ERP:
            first, last = name_surface(person.first_name, person.last_name, rng)
            email = alt if conflict == 2 else person.email
            if not in_both and rand() < 0.03:
                email = None
            created, updated = _record_times(person.created_ms, rng, 0.25)
            erp = ErpContact(
                record_id=guid(rng),
                entity_id=person.entity_id,
                created_ms=created,
                updated_ms=updated,
                archived=not conflict and rand() < ARCHIVED,
                name=b.unique_erp_name(f"{first.strip()} {last.strip()}",
                                       companies[ci].name if ci >= 0 else None),
                first_name=first,
                last_name=last,
                email=email_surface(email, rng) if email else None,
                phone=phone_surface(person.phone, country, rng, missing=0.35),
                address=address_surface(person.address, rng, missing=0.2),
                contact_number=None,
                is_customer=True,
            )
            world.erp.contacts.append(erp)
            b.erp_contact[i] = erp
        for shop in b.person_shops[i]:
            customer = _shop_customer(b, person, company_domain, shop, flip, rng)
            shop_records[shop].append(customer)
            b.shop_customer[shop][i] = customer
    crm_records.extend(_crm_duplicates(b, rng))
    world.erp.contacts.extend(_erp_duplicates(b, rng))
    crm_records.sort(key=by_created)
    for n, contact in enumerate(crm_records):
        contact.record_id = str(CRM_CONTACT_START + n)
    world.crm.contacts = crm_records
    for shop_index, shop in enumerate(SHOP_NAMES):
        records = shop_records[shop]
        records.sort(key=by_created)
        base = shop_base(SHOP_CUSTOMER_BASE, shop_index)
        for n, customer in enumerate(records):
            customer.record_id = str(base + n + 1)
        world.shops[shop].customers = records
    _cross_references(b, rng)
    _conflict_breaks(b, conflicts)


def _make_shop_accounts(b: Build, rng: random.Random) -> None:
    """The ERP contact each shop's orders are billed to when the buyer is not an ERP contact."""
    for shop in SHOP_NAMES:
        created = START_MS + int(rng.random() * 5 * DAY_MS)
        account = ErpContact(
            record_id=guid(rng),
            entity_id=f"account-{shop}",
            created_ms=created,
            updated_ms=created + int(rng.random() * (NOW_MS - created)),
            archived=False,
            name=b.unique_erp_name(f"Shop customers {shop}", None),
            first_name="",
            last_name="",
            email=None,
            phone=None,
            address=None,
            contact_number=None,
            is_customer=True,
        )
        b.world.erp.contacts.append(account)
        b.shop_account[shop] = account


def _shop_customer(b: Build, person: Person, company_domain: str | None, shop: str,
                   flip: str | None, rng: random.Random) -> ShopCustomer:
    rand = rng.random
    country = person.address.country_code
    r = rand()
    email: str | None = person.email
    if r < SHOP_OTHER_EMAIL:
        email = alternative_email(person, company_domain, b, rng)
    elif r < SHOP_OTHER_EMAIL + SHOP_NO_EMAIL:
        email = None  # a phone-only customer
    first, last = name_surface(person.first_name, person.last_name, rng)
    phone = phone_surface(person.phone, country, rng, missing=0.0 if email is None else 0.45)
    archived = rand() < ARCHIVED
    r = rand()
    state = "disabled" if archived else (
        "enabled" if r < 0.72 else "disabled" if r < 0.95 else "invited")
    created, updated = _record_times(person.created_ms, rng, 0.3)
    return ShopCustomer(
        record_id="",
        entity_id=person.entity_id,
        created_ms=created,
        updated_ms=updated,
        archived=archived,
        shop=shop,
        email=email,
        first_name=first,
        last_name=last,
        phone=phone,
        address=address_surface(person.address, rng, missing=0.1),
        accepts_marketing=person.marketing_opt_in and flip != shop,
        state=state,
    )


def _crm_duplicates(b: Build, rng: random.Random) -> list[CrmContact]:
    """About 3% of CRM contacts entered a second time, by someone else, slightly differently."""
    people = b.world.people
    owners = b.active_owner_ids
    primaries = [i for i, c in enumerate(b.crm_contact) if c is not None]
    duplicates: list[CrmContact] = []
    for i in sorted(rng.sample(primaries, round(len(primaries) * CRM_DUPLICATES))):
        person, primary = people[i], b.crm_contact[i]
        assert primary is not None
        ci = b.person_company[i]
        r = rng.random()
        email: str | None = None
        if r >= 0.45:
            # HubSpot keeps e-mails unique, so a duplicate has another address or none.
            company_domain = b.world.companies[ci].domain if ci >= 0 else None
            email = email_surface(alternative_email(person, company_domain, b, rng), rng)
        first, last = (strong_variant(person.first_name, person.last_name, rng)
                       if rng.random() < 0.7 else
                       name_surface(person.first_name, person.last_name, rng))
        created, updated = _record_times(primary.created_ms, rng, 0.5)
        country = person.address.country_code
        duplicates.append(CrmContact(
            record_id="",
            entity_id=person.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=rng.random() < ARCHIVED,
            email=email,
            first_name=first,
            last_name=last,
            phone=phone_surface(person.phone, country, rng, missing=0.5),
            address=address_surface(person.address, rng, missing=0.7),
            company_record_id=primary.company_record_id if rng.random() < 0.6 else None,
            owner_id=owners[int(rng.random() * len(owners))] if owners else None,
            email_opt_out=primary.email_opt_out,
            erp_contact_id=None,
        ))
    return duplicates


def _erp_duplicates(b: Build, rng: random.Random) -> list[ErpContact]:
    """About 1% of ERP contacts created twice (Xero makes the second Name unique)."""
    people, companies = b.world.people, b.world.companies
    primaries = [i for i, c in enumerate(b.erp_contact) if c is not None]
    duplicates: list[ErpContact] = []
    for i in sorted(rng.sample(primaries, round(len(primaries) * ERP_DUPLICATES))):
        person, primary = people[i], b.erp_contact[i]
        assert primary is not None
        ci = b.person_company[i]
        first, last = (strong_variant(person.first_name, person.last_name, rng)
                       if rng.random() < 0.4 else (primary.first_name, primary.last_name))
        r = rng.random()
        email = primary.email if r < 0.6 else None if r < 0.8 else email_surface(
            alternative_email(person, companies[ci].domain if ci >= 0 else None, b, rng), rng)
        created, updated = _record_times(primary.created_ms, rng, 0.5)
        duplicates.append(ErpContact(
            record_id=guid(rng),
            entity_id=person.entity_id,
            created_ms=created,
            updated_ms=updated,
            archived=rng.random() < ARCHIVED,
            name=b.unique_erp_name(f"{first.strip()} {last.strip()}",
                                   companies[ci].name if ci >= 0 else None),
            first_name=first,
            last_name=last,
            email=email,
            phone=phone_surface(person.phone, person.address.country_code, rng, missing=0.5),
            address=address_surface(person.address, rng, missing=0.4),
            contact_number=None,
            is_customer=True,
        ))
    return duplicates


def _cross_references(b: Build, rng: random.Random) -> None:
    """Ids some users copied from one system into the other (only ever the right ones)."""
    for crm, erp in zip(b.crm_contact, b.erp_contact, strict=True):
        if crm is None or erp is None:
            continue
        if rng.random() < ERP_REFERS_TO_CRM:
            erp.contact_number = crm.record_id
        if rng.random() < CRM_REFERS_TO_ERP:
            crm.erp_contact_id = erp.record_id


def _conflict_breaks(b: Build, conflicts: dict[int, int]) -> None:
    """One break per person whose CRM and ERP e-mails differ."""
    for i in conflicts:
        crm, erp = b.crm_contact[i], b.erp_contact[i]
        assert crm is not None and erp is not None
        assert normalize_email(crm.email) != normalize_email(erp.email)
        b.world.breaks.append(Break(
            kind="customer_email_conflict",
            system="crm",
            record_id=crm.record_id,
            detail=f"erp={erp.record_id}",
        ))
