"""The real things: companies, people (customers), products and employees, before any system."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from sandbox.world.build import Build
from sandbox.world.clock import DAY_MS, NOW_MS, START_MS, date_ms, iso_date
from sandbox.world.emails import (
    personal_domain,
    personal_local,
    slug,
    work_local,
)
from sandbox.world.ids import entity_id
from sandbox.world.model import Company, Employee, Person, Product
from sandbox.world.names import (
    COLORS,
    COMPANY_NOUNS,
    COMPANY_PREFIXES,
    COMPANY_ROOTS,
    COUNTRIES,
    COUNTRY_TLDS,
    DEPARTMENTS,
    INDUSTRIES,
    LEGAL_SUFFIXES,
    PRODUCT_ADJECTIVES,
    PRODUCT_NOUNS,
    SIZES,
    WORK_DOMAIN,
    first_name_table,
    last_name_table,
)
from sandbox.world.phones import make_e164
from sandbox.world.places import make_address

COMPANY_SHARE = 1 / 8  # companies per customer
PEOPLE_WITH_COMPANY = 0.45
MARKETING_OPT_IN = 0.52
TERMINATED_SHARE = 0.08

_COUNTRY_CODES = [c for c, *_ in COUNTRIES]
_COUNTRY_CUM = list(accumulate(share for *_, share in COUNTRIES))
_PATTERN_CUM = (0.55, 0.75, 0.85, 0.93, 1.0)


def company_count(customers: int) -> int:
    """Companies in a world of ``customers`` people.

    >>> company_count(100), company_count(8000)
    (12, 1000)
    """
    return max(10, round(customers * COMPANY_SHARE))


def product_count(customers: int) -> int:
    """Products in a world of ``customers`` people.

    >>> product_count(100), product_count(100_000), product_count(5_000_000)
    (20, 200, 2000)
    """
    return min(max(20, customers // 500), 2000)


def employee_count(customers: int) -> int:
    """Employees of the company running the systems.

    >>> employee_count(100), employee_count(100_000), employee_count(5_000_000)
    (25, 500, 5000)
    """
    return min(max(25, customers // 200), 5000)


def pick_country(rng: random.Random) -> str:
    """A country code, weighted by the customer base.

    >>> pick_country(random.Random(0)) in {"US", "GB", "CA", "AU", "IE"}
    True
    """
    return _COUNTRY_CODES[min(bisect_right(_COUNTRY_CUM, rng.random() * _COUNTRY_CUM[-1]),
                              len(_COUNTRY_CODES) - 1)]


def _pick(options: tuple[str, ...], rng: random.Random) -> str:
    return options[int(rng.random() * len(options))]


def _company_core(rng: random.Random, last_names: Sequence[str]) -> str:
    r = rng.random()
    if r < 0.35:
        brand = f"{_pick(COMPANY_PREFIXES, rng)}{_pick(COMPANY_ROOTS, rng)}"
        return f"{brand} {_pick(COMPANY_NOUNS, rng)}" if rng.random() < 0.6 else brand
    if r < 0.65:
        return f"{last_names[int(rng.random() * len(last_names))]} {_pick(COMPANY_NOUNS, rng)}"
    if r < 0.80:
        a = last_names[int(rng.random() * 300)]
        b = last_names[int(rng.random() * 300)]
        return f"{a} & {b}"
    return f"{_pick(COMPANY_PREFIXES, rng)} {_pick(COMPANY_NOUNS, rng)}"


def _unique_domain(core: str, tld: str, used: set[str], rng: random.Random) -> str:
    base = slug(core)
    for candidate in (base, f"{base}hq", f"{base}group", f"get{base}"):
        domain = f"{candidate}.{tld}"
        if domain not in used:
            used.add(domain)
            return domain
    while True:
        domain = f"{base}{2 + int(rng.random() * 998)}.{tld}"
        if domain not in used:
            used.add(domain)
            return domain


def make_companies(b: Build) -> None:
    """The customers' employers (B2B accounts), each with a unique domain."""
    rng = b.rng("companies")
    last_names, _ = last_name_table()
    domains: set[str] = set()
    span = NOW_MS - 45 * DAY_MS - START_MS
    for i in range(company_count(b.n)):
        country = pick_country(rng)
        core = _company_core(rng, last_names)
        suffix = _pick(LEGAL_SUFFIXES[country], rng)
        tld = _pick(COUNTRY_TLDS[country], rng)
        suite = f", Suite {100 + int(rng.random() * 900)}" if rng.random() < 0.4 else ""
        r = rng.random()
        b.company_pattern.append(next(k for k, c in enumerate(_PATTERN_CUM) if r < c))
        b.company_core.append(core)
        b.company_suffix.append(suffix)
        b.world.companies.append(Company(
            entity_id=entity_id("company", i + 1, 6),
            name=f"{core} {suffix}" if suffix else core,
            domain=_unique_domain(core, tld, domains, rng),
            phone=make_e164(country, rng),
            address=make_address(country, rng, suite),
            industry=INDUSTRIES[int(rng.random() * len(INDUSTRIES))][0],
            created_ms=START_MS + int(rng.random() * span),
        ))


def _unique_email(local: str, domain: str, used: set[str], rng: random.Random) -> str:
    email = f"{local}@{domain}"
    while email in used:
        email = f"{local}{1 + int(rng.random() * 999)}@{domain}"
    used.add(email)
    return email


def make_people(b: Build) -> None:
    """The customers: names, a unique e-mail (work or personal), phone, address, consent."""
    rng = b.rng("people")
    rand = rng.random
    n = b.n
    first_names, first_cum = first_name_table()
    last_names, last_cum = last_name_table()
    firsts = rng.choices(first_names, cum_weights=first_cum, k=n)
    lasts = rng.choices(last_names, cum_weights=last_cum, k=n)
    companies = b.world.companies
    n_companies = len(companies)
    used = b.used_emails
    phones: set[str] = set()
    people = b.world.people
    person_company = b.person_company
    span = NOW_MS - 20 * DAY_MS - START_MS
    for i in range(n):
        first, last = firsts[i], lasts[i]
        created = START_MS + int(rand() * span)
        if rand() < PEOPLE_WITH_COMPANY:
            # Few large accounts, many small ones.
            ci = int(rand() ** 1.6 * n_companies)
            company = companies[ci]
            country = company.address.country_code if rand() < 0.9 else pick_country(rng)
            local = work_local(first, last, b.company_pattern[ci])
            email = _unique_email(local, company.domain, used, rng)
            created = max(created, company.created_ms)
            company_eid: str | None = company.entity_id
        else:
            ci = -1
            country = pick_country(rng)
            local = personal_local(first, last, rng)
            email = _unique_email(local, personal_domain(rng), used, rng)
            company_eid = None
        phone = make_e164(country, rng)
        while phone in phones:
            phone = make_e164(country, rng)
        phones.add(phone)
        person_company.append(ci)
        people.append(Person(
            entity_id=entity_id("person", i + 1, 7),
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            address=make_address(country, rng),
            company_entity_id=company_eid,
            marketing_opt_in=rand() < MARKETING_OPT_IN,
            created_ms=created,
        ))


def _price_cents(low: int, high: int, rng: random.Random) -> int:
    dollars = low + int(rng.random() * (high - low))
    r = rng.random()
    if r < 0.6:
        return dollars * 100 - 1
    if r < 0.85:
        return dollars * 100
    return dollars * 100 + 50


def _erp_code(category: str, number: int, index: int, rng: random.Random) -> str:
    """The code finance gave an item when it differs from the shop's SKU."""
    r = rng.random()
    if r < 0.35:
        return f"{category}{number}"
    if r < 0.65:
        return f"ITM-{50_000 + index}"
    if r < 0.85:
        return f"WG-{category}-{number}"
    return f"{number}-{category}"


def _crm_sku(category: str, number: int, shop_sku: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.80:
        return shop_sku
    if r < 0.88:
        return f"{category} {number}"
    if r < 0.95:
        return shop_sku.lower()
    return f"{category}_{number}"


ERP_CODE_DIFFERS = 0.30


def make_products(b: Build) -> None:
    """The catalogue: one product per name, with its SKU in each system and variant options."""
    rng = b.rng("products")
    names: set[str] = set()
    for i in range(product_count(b.n)):
        for attempt in range(1000):
            noun, category, low, high, kind, materials = PRODUCT_NOUNS[
                int(rng.random() * len(PRODUCT_NOUNS))]
            adjective = _pick(PRODUCT_ADJECTIVES, rng)
            material = _pick(materials, rng)
            name = f"{adjective} {material} {noun}" + (" II" if attempt >= 100 else "")
            if name not in names:
                names.add(name)
                break
        number = 1001 + i
        shop_sku = f"{category}-{number}"
        erp_code = _erp_code(category, number, i, rng) if rng.random() < ERP_CODE_DIFFERS \
            else shop_sku
        count = 1 + int(rng.random() * 3)
        if kind == "none" or count == 1:
            options: tuple[str, ...] = ("Default Title",)
        elif kind == "size":
            start = int(rng.random() * (len(SIZES) - count + 1))
            options = SIZES[start:start + count]
        else:
            start = int(rng.random() * (len(COLORS) - count + 1))
            options = COLORS[start:start + count]
        b.product_variants.append(options)
        b.world.products.append(Product(
            entity_id=entity_id("product", i + 1, 5),
            name=name,
            price_cents=_price_cents(low, high, rng),
            shop_sku=shop_sku,
            crm_sku=_crm_sku(category, number, shop_sku, rng),
            erp_code=erp_code,
            description=f"{adjective} {noun.lower()} in {material.lower()}. "
                        f"Designed to last, made in small batches.",
        ))


def _department_sizes(total: int) -> list[int]:
    """Staff per department (largest remainder), at least two where possible."""
    shares = [share for _, share, *_ in DEPARTMENTS]
    raw = [total * s / sum(shares) for s in shares]
    sizes = [max(2, int(x)) for x in raw]
    order = sorted(range(len(raw)), key=lambda k: raw[k] - int(raw[k]), reverse=True)
    k = 0
    while sum(sizes) < total:
        sizes[order[k % len(order)]] += 1
        k += 1
    while sum(sizes) > total:
        biggest = max(range(len(sizes)), key=lambda j: sizes[j])
        sizes[biggest] -= 1
    return sizes


def _hire_ms(rng: random.Random, first: str, last: str) -> int:
    low, high = date_ms(first), date_ms(last)
    return low + int(rng.random() * (high - low)) // DAY_MS * DAY_MS


def make_employees(b: Build) -> None:
    """The company's staff: an org tree (CEO, department heads, managers, staff) and leavers."""
    rng = b.rng("employees")
    total = employee_count(b.n)
    first_names, first_cum = first_name_table()
    last_names, last_cum = last_name_table()
    firsts = rng.choices(first_names, cum_weights=first_cum, k=total)
    lasts = rng.choices(last_names, cum_weights=last_cum, k=total)
    rows: list[tuple[str, str, int | None, int]] = [("Executive", "Chief Executive Officer", None,
                                                       _hire_ms(rng, "2014-01-06", "2014-06-30"))]
    individual: list[int] = []
    sales_individual: list[int] = []
    for (department, _, head_title, manager_title, titles), size in zip(
            DEPARTMENTS, _department_sizes(total - 1), strict=True):
        head = len(rows)
        rows.append((department, head_title, 0, _hire_ms(rng, "2014-03-01", "2021-12-31")))
        managers = (size - 1) // 9
        manager_ids = list(range(len(rows), len(rows) + managers))
        for _ in range(managers):
            rows.append((department, manager_title, head,
                         _hire_ms(rng, "2016-01-01", "2024-06-30")))
        for _ in range(size - 1 - managers):
            boss = manager_ids[int(rng.random() * managers)] if managers else head
            if department == "Sales":
                sales_individual.append(len(rows))
            individual.append(len(rows))
            rows.append((department, _pick(titles, rng), boss,
                         _hire_ms(rng, "2017-01-01", "2026-10-15")))
    # Leavers: staff only, at least one in Sales (so a leaver can still own CRM records).
    leavers = {sales_individual[int(rng.random() * len(sales_individual))]}
    want = max(1, round(total * TERMINATED_SHARE))
    pool = [k for k in individual if k not in leavers]
    leavers.update(rng.sample(pool, min(len(pool), want - 1)))
    used: set[str] = set()
    for k, (department, title, supervisor, hired) in enumerate(rows):
        term: int | None = None
        if k in leavers:
            low = max(hired + 30 * DAY_MS, START_MS + 30 * DAY_MS)
            high = NOW_MS - 2 * DAY_MS
            term = min(low, high) + int(rng.random() * max(0, high - low)) // DAY_MS * DAY_MS
        local = f"{slug(firsts[k])}.{slug(lasts[k])}"
        email = _unique_email(local, WORK_DOMAIN, used, rng)
        b.employee_hire_ms.append(hired)
        b.employee_term_ms.append(term)
        b.world.employees.append(Employee(
            entity_id=entity_id("employee", k + 1, 5),
            first_name=firsts[k],
            last_name=lasts[k],
            work_email=email,
            department=department,
            job_title=title,
            supervisor_entity_id=(entity_id("employee", supervisor + 1, 5)
                                  if supervisor is not None else None),
            hire_date=iso_date(hired),
            termination_date=iso_date(term) if term is not None else None,
        ))
