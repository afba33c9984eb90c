"""The state shared by the generation steps: the world being built and its lookup tables.

Each step of :func:`sandbox.world.generate.generate` reads what earlier steps left here and adds
its own records. Every step draws from its own ``random.Random`` (seeded from the world seed and
the step's name), so changing one step does not reshuffle the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.world.clock import NOW_MS
from sandbox.world.model import (
    CrmCompany,
    CrmContact,
    ErpContact,
    Record,
    ShopCustomer,
    ShopProduct,
    World,
)

# Presence bits of a person: which systems hold a record of them.
IN_CRM = 1
IN_ERP = 2
IN_SHOP = 4


def stage_rng(seed: int, stage: str) -> random.Random:
    """The random stream of one generation step (string seeds hash with SHA-512: stable).

    >>> stage_rng(7, "people").random() == stage_rng(7, "people").random()
    True
    >>> stage_rng(7, "people").random() == stage_rng(7, "orders").random()
    False
    """
    return random.Random(f"goldloop-world:{seed}:{stage}")


def person_index(entity_id: str) -> int:
    """The position in ``world.people`` of a ``person-…`` entity id.

    >>> person_index("person-0000001")
    0
    """
    return int(entity_id[7:]) - 1


@dataclass
class Build:
    """A world under construction plus the indexes the steps share."""

    world: World
    # -- real entities (filled by sandbox.world.entities)
    person_company: list[int] = field(default_factory=list)  # company index or -1
    company_core: list[str] = field(default_factory=list)  # name without legal suffix
    company_suffix: list[str] = field(default_factory=list)  # "Inc", "Ltd", "" ...
    company_pattern: list[int] = field(default_factory=list)  # work e-mail pattern
    product_variants: list[tuple[str, ...]] = field(default_factory=list)  # option titles
    employee_hire_ms: list[int] = field(default_factory=list)
    employee_term_ms: list[int | None] = field(default_factory=list)
    used_emails: set[str] = field(default_factory=set)  # normalized, every address handed out
    # -- records (filled by the system steps)
    presence: list[int] = field(default_factory=list)  # IN_* bits per person
    person_shops: list[tuple[str, ...]] = field(default_factory=list)
    active_owner_ids: list[str] = field(default_factory=list)
    company_crm: list[CrmCompany | None] = field(default_factory=list)
    crm_contact: list[CrmContact | None] = field(default_factory=list)  # primary record
    erp_contact: list[ErpContact | None] = field(default_factory=list)  # primary record
    shop_customer: dict[str, list[ShopCustomer | None]] = field(default_factory=dict)
    shop_active_products: dict[str, list[tuple[ShopProduct, int]]] = field(default_factory=dict)
    company_erp: dict[int, ErpContact] = field(default_factory=dict)
    shop_account: dict[str, ErpContact] = field(default_factory=dict)
    erp_names: dict[str, int] = field(default_factory=dict)  # casefolded Name -> times used
    order_person: dict[str, list[int]] = field(default_factory=dict)  # per shop, per order

    @property
    def n(self) -> int:
        """Number of customers (people) in the world."""
        return self.world.customers

    def rng(self, stage: str) -> random.Random:
        """The random stream of ``stage``."""
        return stage_rng(self.world.seed, stage)

    def unique_erp_name(self, name: str, company: str | None) -> str:
        """``name`` made unique among ERP contact names (Xero rejects duplicates).

        A clash first tries the company in brackets, then ``(2)``, ``(3)``...
        """
        key = name.casefold()
        if key not in self.erp_names:
            self.erp_names[key] = 1
            return name
        if company:
            candidate = f"{name} ({company})"
            if candidate.casefold() not in self.erp_names:
                self.erp_names[candidate.casefold()] = 1
                return candidate
        count = self.erp_names[key]
        while True:
            count += 1
            candidate = f"{name} ({count})"
            if candidate.casefold() not in self.erp_names:
                self.erp_names[key] = count
                self.erp_names[candidate.casefold()] = 1
                return candidate


def later(start_ms: int, rng: random.Random, spread: float = 1.0) -> int:
    """A time between ``start_ms`` and now, skewed towards ``start_ms`` when ``spread`` < 1.

    >>> later(NOW_MS - 10, random.Random(0)) <= NOW_MS
    True
    """
    return start_ms + int(rng.random() * spread * (NOW_MS - start_ms))


def by_created(record: Record) -> int:
    """Sort key: creation time (``list.sort`` is stable, so ties keep generation order)."""
    return record.created_ms
