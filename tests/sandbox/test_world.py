"""The generated sandbox world: deterministic, consistent, and messy in the promised ways."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import phonenumbers
import pytest

from goldloop.errors import SandboxError
from sandbox.world.clock import START_MS
from sandbox.world.generate import generate
from sandbox.world.model import (
    SHOP_NAMES,
    CrmContact,
    ErpContact,
    ErpInvoice,
    Record,
    ShopCustomer,
    World,
)
from sandbox.world.truth import truth_rows

CUSTOMERS = 2000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world() -> World:
    return generate(CUSTOMERS, seed=7)


@pytest.fixture(scope="module")
def big_world() -> World:
    """Enough products and deals for shares to be meaningful (about a second)."""
    return generate(20_000, seed=11)


def _records(obj: object) -> Iterator[Record]:
    """Every record anywhere in the world (line items of deals too)."""
    if isinstance(obj, Record):
        yield obj
    if isinstance(obj, list):
        for item in obj:
            yield from _records(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _records(item)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, list | dict) or dataclasses.is_dataclass(value):
                yield from _records(value)


def _norm(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def _primary(records: Sequence[CrmContact | ErpContact]) -> dict[str, CrmContact | ErpContact]:
    """Per person, the first record created (duplicates always come later)."""
    first: dict[str, CrmContact | ErpContact] = {}
    for record in sorted(records, key=lambda r: r.created_ms):
        if record.entity_id.startswith("person-"):
            first.setdefault(record.entity_id, record)
    return first


def _invoices_by_reference(world: World) -> dict[str, list[ErpInvoice]]:
    found: dict[str, list[ErpInvoice]] = defaultdict(list)
    for invoice in world.erp.invoices:
        found[invoice.reference].append(invoice)
    return found


def _breaks(world: World, kind: str) -> set[str]:
    return {b.record_id for b in world.breaks if b.kind == kind}


# -- determinism -------------------------------------------------------------------------------
def test_same_customers_and_seed_give_the_same_world() -> None:
    assert dataclasses.asdict(generate(600, seed=3)) == dataclasses.asdict(generate(600, seed=3))


def test_the_world_does_not_depend_on_the_process() -> None:
    """String hashing is randomized per process: nothing may depend on it (e.g. set order)."""
    code = ("import hashlib; from sandbox.world.generate import generate; "
            "print(hashlib.sha256(repr(generate(300, seed=5)).encode()).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       check=True, env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {hashlib.sha256(repr(generate(300, seed=5)).encode()).hexdigest()}


def test_another_seed_gives_another_world() -> None:
    a, b = generate(300, seed=1), generate(300, seed=2)
    assert [p.email for p in a.people] != [p.email for p in b.people]
    assert [i.record_id for i in a.erp.invoices] != [i.record_id for i in b.erp.invoices]


def test_generate_rejects_an_empty_world() -> None:
    with pytest.raises(SandboxError, match="between 1 and"):
        generate(0, seed=1)


def test_order_lines_sets_the_shop_volume_and_leaves_the_people_alone(world: World) -> None:
    def lines(w: World) -> int:
        return sum(len(order.line_items) for shop in w.shops.values() for order in shop.orders)

    busy = generate(CUSTOMERS, seed=7, order_lines=4 * lines(world))
    # "about": a line drawing a product already on its order is dropped
    assert 3.8 * lines(world) <= lines(busy) <= 4.2 * lines(world)
    assert [p.email for p in busy.people] == [p.email for p in world.people]
    invoiced = {i.reference for i in busy.erp.invoices}
    orders = [o for shop in busy.shops.values() for o in shop.orders]
    assert sum(f"{o.shop}/{o.name}" in invoiced for o in orders) / len(orders) > 0.95


def test_generate_rejects_a_negative_order_volume() -> None:
    with pytest.raises(SandboxError, match="--order-lines"):
        generate(300, seed=1, order_lines=-5)


# -- sizes and presence ------------------------------------------------------------------------
def test_entity_counts_follow_the_customer_count(world: World) -> None:
    assert len(world.people) == CUSTOMERS
    assert len(world.companies) == CUSTOMERS // 8
    assert len(world.products) == 20
    assert len(world.employees) == 25
    assert len({p.email for p in world.people}) == CUSTOMERS
    assert all(c.domain for c in world.companies)
    assert len({c.domain for c in world.companies}) == len(world.companies)


def test_people_are_spread_over_the_systems(world: World) -> None:
    crm = {c.entity_id for c in world.crm.contacts}
    erp = {c.entity_id for c in world.erp.contacts if c.entity_id.startswith("person-")}
    shops = {name: {c.entity_id for c in s.customers} for name, s in world.shops.items()}
    in_shop = set().union(*shops.values())
    assert 0.68 <= len(crm) / CUSTOMERS <= 0.78
    assert 0.53 <= len(erp) / CUSTOMERS <= 0.63
    assert 0.59 <= len(in_shop) / CUSTOMERS <= 0.69
    systems: Counter[int] = Counter()
    for person in world.people:
        systems[sum(person.entity_id in s for s in (crm, erp, in_shop))] += 1
    assert systems[0] == 0
    assert 0.08 <= systems[1] / CUSTOMERS <= 0.12
    both_shops = set.intersection(*shops.values())
    assert 0.07 <= len(both_shops) / len(in_shop) <= 0.13


def test_every_crm_contact_points_at_its_own_company_and_a_real_owner(world: World) -> None:
    companies = {c.record_id: c.entity_id for c in world.crm.companies}
    owners = {o.record_id for o in world.crm.owners}
    people = {p.entity_id: p for p in world.people}
    linked = 0
    for contact in world.crm.contacts:
        if contact.company_record_id is not None:
            linked += 1
            person = people[contact.entity_id]
            assert companies[contact.company_record_id] == person.company_entity_id
        assert contact.owner_id is None or contact.owner_id in owners
    assert linked > len(world.crm.contacts) / 4
    assert len(world.crm.companies) / len(world.companies) > 0.8


# -- the mess ----------------------------------------------------------------------------------
def test_about_23_percent_of_people_in_crm_and_erp_have_two_emails(world: World) -> None:
    crm, erp = _primary(world.crm.contacts), _primary(world.erp.contacts)
    both = sorted(crm.keys() & erp.keys())
    differ = [e for e in both if _norm(crm[e].email) != _norm(erp[e].email)]
    assert 0.19 <= len(differ) / len(both) <= 0.27
    conflicts = [b for b in world.breaks if b.kind == "customer_email_conflict"]
    assert {b.record_id for b in conflicts} == {crm[e].record_id for e in differ}
    assert {b.detail for b in conflicts} == {f"erp={erp[e].record_id}" for e in differ}


def test_about_2_percent_of_records_are_archived_per_system(world: World) -> None:
    groups: dict[str, list[Record]] = {
        "crm": list(world.crm.contacts),
        "erp": [c for c in world.erp.contacts if c.entity_id.startswith("person-")],
        "shop": [c for s in world.shops.values() for c in s.customers],
    }
    for system, records in groups.items():
        share = sum(r.archived for r in records) / len(records)
        assert 0.01 <= share <= 0.035, system


def test_duplicates_exist_inside_crm_and_erp(world: World) -> None:
    crm = Counter(c.entity_id for c in world.crm.contacts)
    erp = Counter(c.entity_id for c in world.erp.contacts)
    assert 0.02 <= sum(n - 1 for n in crm.values()) / len(crm) <= 0.04
    assert 0 < sum(n - 1 for n in erp.values()) / len(erp) <= 0.02


def test_systems_write_names_phones_and_addresses_differently(world: World) -> None:
    people = {p.entity_id: p for p in world.people}
    contacts = world.crm.contacts + [c for s in world.shops.values() for c in s.customers]
    renamed = sum(c.first_name != people[c.entity_id].first_name for c in contacts)
    assert 0.03 <= renamed / len(contacts) <= 0.15
    phones = [c.phone for c in contacts if c.phone]
    assert 0.3 <= sum(not p.startswith("+") or " " in p for p in phones) / len(phones) <= 0.9
    assert any(p.startswith("(") for p in phones)
    moved = [c.address for c in contacts if c.address and c.address != people[c.entity_id].address]
    assert len(moved) > len(contacts) / 20
    assert any(e != e.strip() or e != e.lower() for c in world.crm.contacts if (e := c.email))


def test_every_phone_is_a_valid_number_of_its_person_in_any_format(world: World) -> None:
    people = {p.entity_id: p for p in world.people}
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p.phone)) for p in world.people)
    records: list[CrmContact | ErpContact | ShopCustomer] = [
        *world.crm.contacts, *world.erp.contacts,
        *(c for s in world.shops.values() for c in s.customers)]
    for record in records:
        person = people.get(record.entity_id)
        if person is None or record.phone is None:
            continue
        parsed = phonenumbers.parse(record.phone, person.address.country_code)
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert e164 == person.phone, record.phone


def test_emails_are_unique_where_the_vendor_requires_it(world: World) -> None:
    crm = [_norm(c.email) for c in world.crm.contacts if c.email]
    assert len(crm) == len(set(crm))
    for shop in world.shops.values():
        emails = [c.email for c in shop.customers if c.email]
        assert len(emails) == len(set(emails))
        assert all(c.email or c.phone for c in shop.customers)


def test_erp_contact_names_are_unique(world: World) -> None:
    names = [c.name.casefold() for c in world.erp.contacts]
    assert len(names) == len(set(names))
    assert any(c.name.endswith(")") for c in world.erp.contacts)
    accounts = [c for c in world.erp.contacts if c.entity_id.startswith("account-")]
    assert sorted(c.entity_id for c in accounts) == [f"account-{s}" for s in SHOP_NAMES]


def test_cross_references_point_at_the_same_person(world: World) -> None:
    crm_ids = {c.record_id: c.entity_id for c in world.crm.contacts}
    erp_ids = {c.record_id: c.entity_id for c in world.erp.contacts}
    crm, erp = _primary(world.crm.contacts), _primary(world.erp.contacts)
    both = crm.keys() & erp.keys()
    numbered = [c for c in world.erp.contacts
                if c.contact_number and c.entity_id.startswith("person-")]
    assert all(crm_ids[str(c.contact_number)] == c.entity_id for c in numbered)
    assert 0.34 <= len(numbered) / len(both) <= 0.46
    referring = [c for c in world.crm.contacts if c.erp_contact_id]
    assert all(erp_ids[str(c.erp_contact_id)] == c.entity_id for c in referring)
    assert 0.15 <= len(referring) / len(both) <= 0.25


def test_consent_mostly_follows_the_person(world: World) -> None:
    people = {p.entity_id: p for p in world.people}
    crm = [c for c in world.crm.contacts if c.entity_id in _primary(world.crm.contacts)]
    agree = sum(c.email_opt_out != people[c.entity_id].marketing_opt_in for c in crm)
    assert 0.93 <= agree / len(crm) < 1.0
    customers = [c for s in world.shops.values() for c in s.customers]
    opted_out_here_only = sum(people[c.entity_id].marketing_opt_in and not c.accepts_marketing
                              for c in customers)
    assert 0 < opted_out_here_only / len(customers) < 0.06


def test_product_codes_differ_between_systems_for_some_products(big_world: World) -> None:
    products = {p.entity_id: p for p in big_world.products}
    mismatched = {i.record_id for i in big_world.erp.items
                  if i.code != products[i.entity_id].shop_sku}
    assert _breaks(big_world, "product_code_mismatch") == mismatched
    assert 0.22 <= len(mismatched) / len(products) <= 0.38
    assert 0.08 <= sum(p.crm_sku != p.shop_sku for p in products.values()) / len(products) <= 0.3
    assert len(big_world.erp.items) == len(big_world.crm.products) == len(products)
    for shop in big_world.shops.values():
        assert len(shop.products) == len(products)
        for product in shop.products:
            assert 1 <= len(product.variants) <= 3
            assert {v.sku for v in product.variants} == {products[product.entity_id].shop_sku}


# -- commerce ----------------------------------------------------------------------------------
def test_every_invoice_total_is_the_sum_of_its_lines(world: World) -> None:
    for invoice in world.erp.invoices:
        assert invoice.total_cents == sum(x.quantity * x.unit_cents for x in invoice.lines)
        assert invoice.lines


def test_orders_have_exactly_one_matching_invoice_unless_seeded_to_break(world: World) -> None:
    invoices = _invoices_by_reference(world)
    missing = _breaks(world, "order_missing_invoice")
    wrong = _breaks(world, "invoice_amount_mismatch")
    twice = _breaks(world, "duplicate_invoice")
    orders = [(name, o) for name, s in world.shops.items() for o in s.orders]
    checked = 0
    for shop, order in orders:
        assert order.total_cents == sum(x.quantity * x.price_cents for x in order.line_items)
        found = invoices[f"{shop}/{order.name}"]
        assert all(i.entity_id == order.entity_id for i in found)
        if f"{shop}/{order.record_id}" in missing:
            assert found == []
        elif any(i.record_id in wrong for i in found):
            assert len(found) == 1 and found[0].total_cents != order.total_cents
        elif any(i.record_id in twice for i in found):
            assert len(found) == 2 and found[1].record_id in twice
        else:
            assert len(found) == 1 and found[0].total_cents == order.total_cents
            checked += 1
    n = len(orders)
    assert checked > 0.9 * n
    assert 0.01 <= len(missing) / n <= 0.03
    assert 0.007 <= len(wrong) / n <= 0.025
    assert 0.004 <= len(twice) / n <= 0.018
    assert 0.015 <= sum(o.cancelled_ms is not None for _, o in orders) / n <= 0.05


def test_orders_are_numbered_in_time_order_per_shop(world: World) -> None:
    for shop in world.shops.values():
        numbers = [o.order_number for o in shop.orders]
        assert numbers == list(range(1001, 1001 + len(numbers)))
        assert [o.name for o in shop.orders[:2]] == ["#1001", "#1002"]
        times = [o.created_ms for o in shop.orders]
        assert times == sorted(times)
        per_customer = len(shop.orders) / len(shop.customers)
        assert 1.3 <= per_customer <= 1.8
        assert all(1 <= len(o.line_items) <= 4 for o in shop.orders)


def test_invoices_go_to_the_buyers_erp_contact_or_the_shop_account(world: World) -> None:
    contacts = {c.record_id: c for c in world.erp.contacts}
    customers = {(name, c.record_id): c.entity_id
                 for name, s in world.shops.items() for c in s.customers}
    orders = {o.entity_id: (name, o) for name, s in world.shops.items() for o in s.orders}
    in_erp = {c.entity_id for c in world.erp.contacts}
    for invoice in world.erp.invoices:
        if not invoice.entity_id.startswith("order-"):
            continue
        shop, order = orders[invoice.entity_id]
        buyer = customers[(shop, str(order.customer_record_id))]
        expected = buyer if buyer in in_erp else f"account-{shop}"
        assert contacts[invoice.contact_record_id].entity_id == expected


def test_paid_invoices_have_one_payment_of_the_total(world: World) -> None:
    payments: dict[str, list[int]] = defaultdict(list)
    for payment in world.erp.payments:
        assert payment.status == "AUTHORISED"
        payments[payment.invoice_record_id].append(payment.amount_cents)
    for invoice in world.erp.invoices:
        expected = [invoice.total_cents] if invoice.status == "PAID" else []
        assert payments.get(invoice.record_id, []) == expected
    assert sum(i.status == "PAID" for i in world.erp.invoices) > 0.8 * len(world.erp.invoices)
    numbers = [i.number for i in world.erp.invoices]
    assert numbers == [f"INV-{n:07d}" for n in range(1, len(numbers) + 1)]


def test_refunded_orders_get_a_credit_note_for_their_invoice(world: World) -> None:
    invoices = {i.record_id: i for i in world.erp.invoices}
    refunded = {o.entity_id for s in world.shops.values() for o in s.orders
                if o.financial_status == "refunded"}
    notes = world.erp.credit_notes
    assert {n.entity_id for n in notes} == refunded
    for note in notes:
        invoice = invoices[str(note.invoice_record_id)]
        assert (invoice.status, invoice.total_cents) == ("PAID", note.total_cents)
        assert note.contact_record_id == invoice.contact_record_id
        assert note.date >= invoice.date


def test_won_deals_are_invoiced_unless_seeded_to_break(big_world: World) -> None:
    world = big_world
    invoices = _invoices_by_reference(world)
    not_invoiced = _breaks(world, "deal_won_not_invoiced")
    wrong = _breaks(world, "deal_invoice_amount_mismatch")
    won = [d for d in world.crm.deals if d.stage == "closedwon"]
    for deal in world.crm.deals:
        found = invoices[f"DEAL-{deal.record_id}"]
        assert deal.amount_cents == sum(x.quantity * x.price_cents for x in deal.line_items)
        assert 1 <= len(deal.contact_record_ids) <= 2
        if deal.stage != "closedwon" or deal.record_id in not_invoiced:
            assert found == []
        elif found[0].record_id in wrong:
            assert len(found) == 1 and found[0].total_cents != deal.amount_cents
        else:
            assert len(found) == 1 and found[0].total_cents == deal.amount_cents
            assert found[0].entity_id == deal.entity_id
    assert 0.3 <= len(won) / len(world.crm.deals) <= 0.5
    assert 0.06 <= len(not_invoiced) / len(won) <= 0.14
    assert 0.01 <= len(wrong) / len(won) <= 0.06
    assert 0.25 <= len(world.crm.deals) / len(world.crm.companies) <= 0.35


# -- staff -------------------------------------------------------------------------------------
def test_hr_holds_every_employee_in_one_org_tree(world: World) -> None:
    hr = {e.record_id: e for e in world.hr.employees}
    assert len(hr) == len(world.employees)
    roots = [e for e in hr.values() if e.supervisor_record_id is None]
    assert len(roots) == 1
    for employee in hr.values():
        assert employee.status == ("Inactive" if employee.termination_date else "Active")
        seen, boss = set(), employee.supervisor_record_id
        while boss is not None:
            assert boss not in seen
            seen.add(boss)
            boss = hr[boss].supervisor_record_id
        if employee.termination_date:
            assert employee.hire_date < employee.termination_date <= "2026-10-31"
    assert {e.department for e in hr.values()} >= {"Sales", "Finance", "Engineering"}
    assert sum(e.termination_date is not None for e in hr.values()) >= 1


def test_leavers_who_own_crm_records_are_flagged_or_archived(big_world: World) -> None:
    world = big_world
    employees = {e.entity_id: e for e in world.employees}
    leavers = _breaks(world, "leaver_active_owner")
    assert leavers
    for owner in world.crm.owners:
        employee = employees[owner.entity_id]
        assert employee.department == "Sales"
        assert owner.email == employee.work_email
        if employee.termination_date is None:
            assert not owner.archived and owner.record_id not in leavers
        else:
            assert owner.archived != (owner.record_id in leavers)
    for b in world.breaks:
        if b.kind == "leaver_active_owner":
            owner = next(o for o in world.crm.owners if o.record_id == b.record_id)
            assert str(employees[owner.entity_id].termination_date) in b.detail


# -- ids, truth, time --------------------------------------------------------------------------
def test_record_ids_are_unique_per_system_and_object(world: World) -> None:
    rows = truth_rows(world)
    keys = [(system, obj, rid) for system, obj, rid, _ in rows]
    assert len(keys) == len(set(keys))
    variants = [v.record_id for s in world.shops.values() for p in s.products for v in p.variants]
    lines = [x.record_id for s in world.shops.values() for o in s.orders for x in o.line_items]
    deal_lines = [x.record_id for d in world.crm.deals for x in d.line_items]
    customers = [c.record_id for s in world.shops.values() for c in s.customers]
    payments = [p.record_id for p in world.erp.payments]
    for ids in (variants, lines, deal_lines, payments, customers):
        assert len(ids) == len(set(ids)) and "" not in ids


def test_truth_covers_every_served_record_with_a_known_entity(world: World) -> None:
    rows = truth_rows(world)
    objects = Counter((system, obj) for system, obj, _, _ in rows)
    assert objects[("crm", "contacts")] == len(world.crm.contacts)
    assert objects[("erp", "invoices")] == len(world.erp.invoices)
    assert objects[("shop", "orders")] == sum(len(s.orders) for s in world.shops.values())
    assert objects[("hr", "employees")] == len(world.employees)
    served_customers = sum(not c.archived for s in world.shops.values() for c in s.customers)
    assert objects[("shop", "customers")] == served_customers
    kinds = {entity.split("-")[0] for *_, entity in rows}
    assert kinds == {"person", "company", "account", "product", "order", "deal", "employee"}
    shop_ids = [rid for system, _, rid, _ in rows if system == "shop"]
    assert all(rid.split("/")[0] in SHOP_NAMES for rid in shop_ids)
    crm_ids = [rid for system, _, rid, _ in rows if system == "crm"]
    assert all(rid.isdigit() for rid in crm_ids)
    erp_ids = [rid for system, _, rid, _ in rows if system == "erp"]
    assert all(len(rid) == 36 and rid[14] == "4" for rid in erp_ids)


def test_every_break_points_at_a_served_record(world: World) -> None:
    served = {(system, rid) for system, _, rid, _ in truth_rows(world)}
    kinds = Counter(b.kind for b in world.breaks)
    for b in world.breaks:
        assert (b.system, b.record_id) in served, b
        assert b.detail
    assert {"order_missing_invoice", "invoice_amount_mismatch", "duplicate_invoice",
            "customer_email_conflict", "leaver_active_owner"} <= set(kinds)


def test_every_timestamp_is_in_the_past_of_the_world(world: World) -> None:
    records = list(_records(world))
    assert len(records) > 10_000
    for record in records:
        assert START_MS <= record.created_ms <= record.updated_ms <= world.now_ms, record
    for shop in world.shops.values():
        for order in shop.orders:
            assert order.cancelled_ms is None or order.created_ms <= order.cancelled_ms
            assert order.cancelled_ms is None or order.cancelled_ms <= world.now_ms
    for deal in world.crm.deals:
        assert (deal.close_ms is None) == (deal.stage not in ("closedwon", "closedlost"))
        assert deal.close_ms is None or deal.created_ms <= deal.close_ms <= world.now_ms
    assert all(START_MS <= p.created_ms <= world.now_ms for p in world.people)
    assert max(i.date for i in world.erp.invoices) <= "2026-10-31"
