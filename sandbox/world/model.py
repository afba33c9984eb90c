"""The sandbox world: real entities and the (messy) records each system holds of them.

This module is the contract between the world generator (``sandbox.world.generate``) and the
per-system seeders (``sandbox.<system>.seed``), which render these records into vendor-shaped
JSON. Money is integer cents, times are epoch milliseconds (UTC), dates are ISO ``YYYY-MM-DD``.
Every record carries the ``record_id`` its system serves and the ``entity_id`` of the real thing
it describes (ground truth; never served by an emulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHOP_NAMES: tuple[str, ...] = ("northwind", "southwind")


# -- real entities ---------------------------------------------------------------------------
@dataclass(slots=True)
class Address:
    line1: str
    city: str
    postcode: str
    country_code: str  # ISO 3166-1 alpha-2
    region: str = ""


@dataclass(slots=True)
class Person:
    """A real customer (entity ids ``person-0000001``)."""

    entity_id: str
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    address: Address
    company_entity_id: str | None
    marketing_opt_in: bool
    created_ms: int


@dataclass(slots=True)
class Company:
    entity_id: str  # company-000001
    name: str
    domain: str
    phone: str
    address: Address
    industry: str
    created_ms: int


@dataclass(slots=True)
class Product:
    entity_id: str  # product-00001
    name: str
    price_cents: int
    shop_sku: str
    crm_sku: str
    erp_code: str  # differs from shop_sku for some products (a mapping seed links them)
    description: str


@dataclass(slots=True)
class Employee:
    """A real employee; HR is the system of record."""

    entity_id: str  # employee-00001
    first_name: str
    last_name: str
    work_email: str
    department: str
    job_title: str
    supervisor_entity_id: str | None
    hire_date: str
    termination_date: str | None


# -- records, per system ---------------------------------------------------------------------
@dataclass(slots=True)
class Record:
    record_id: str
    entity_id: str
    created_ms: int
    updated_ms: int
    archived: bool


@dataclass(slots=True)
class CrmContact(Record):
    email: str | None
    first_name: str
    last_name: str
    phone: str | None  # as typed by a person: any format
    address: Address | None
    company_record_id: str | None
    owner_id: str | None
    email_opt_out: bool
    erp_contact_id: str | None  # a cross-reference some users keep (custom property)


@dataclass(slots=True)
class CrmCompany(Record):
    name: str
    domain: str | None
    phone: str | None
    address: Address | None
    industry: str | None
    owner_id: str | None


@dataclass(slots=True)
class CrmProduct(Record):
    name: str
    sku: str
    price_cents: int
    description: str


@dataclass(slots=True)
class CrmLineItem(Record):
    product_record_id: str
    name: str
    quantity: int
    price_cents: int


@dataclass(slots=True)
class CrmDeal(Record):
    name: str
    amount_cents: int
    stage: str  # appointmentscheduled | qualifiedtobuy | contractsent | closedwon | closedlost
    close_ms: int | None
    company_record_id: str | None
    contact_record_ids: list[str]
    owner_id: str | None
    line_items: list[CrmLineItem] = field(default_factory=list)


@dataclass(slots=True)
class CrmOwner(Record):
    """A CRM user who can own records; ``entity_id`` is the employee's."""

    user_id: int
    email: str
    first_name: str
    last_name: str


@dataclass(slots=True)
class ErpContact(Record):
    name: str  # unique in Xero
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    address: Address | None
    contact_number: str | None  # external reference (the CRM id for some contacts)
    is_customer: bool


@dataclass(slots=True)
class ErpItem(Record):
    code: str
    name: str
    price_cents: int
    description: str


@dataclass(slots=True)
class ErpLine:
    item_code: str
    description: str
    quantity: int
    unit_cents: int


@dataclass(slots=True)
class ErpInvoice(Record):
    """An ACCREC invoice; ``entity_id`` is the order or deal it bills (``order-…``/``deal-…``)."""

    number: str  # INV-0000001
    contact_record_id: str
    reference: str  # shop order name (``northwind/#1001``) or ``DEAL-<crm id>``
    date: str
    due_date: str
    status: str  # DRAFT | AUTHORISED | PAID | VOIDED | DELETED
    currency: str
    lines: list[ErpLine]
    total_cents: int  # may disagree with the lines' sum on a seeded break? no: equals lines


@dataclass(slots=True)
class ErpPayment(Record):
    invoice_record_id: str
    amount_cents: int
    date: str
    status: str  # AUTHORISED | DELETED


@dataclass(slots=True)
class ErpCreditNote(Record):
    number: str
    contact_record_id: str
    invoice_record_id: str | None
    date: str
    status: str  # AUTHORISED | PAID | VOIDED
    total_cents: int


@dataclass(slots=True)
class ShopCustomer(Record):
    """``record_id`` is the bare Shopify id; truth prefixes it with ``<shop>/``."""

    shop: str
    email: str | None
    first_name: str
    last_name: str
    phone: str | None
    address: Address | None
    accepts_marketing: bool
    state: str  # enabled | disabled | invited | declined


@dataclass(slots=True)
class ShopVariant:
    record_id: str
    sku: str
    price_cents: int
    title: str


@dataclass(slots=True)
class ShopProduct(Record):
    shop: str
    title: str
    variants: list[ShopVariant]
    status: str  # active | archived | draft


@dataclass(slots=True)
class ShopLineItem:
    record_id: str
    product_record_id: str
    variant_record_id: str
    sku: str
    title: str
    quantity: int
    price_cents: int


@dataclass(slots=True)
class ShopOrder(Record):
    """``entity_id`` is ``order-…``; ``name`` is the shop's ``#1001`` form."""

    shop: str
    name: str
    order_number: int
    customer_record_id: str | None
    email: str | None
    currency: str
    financial_status: str  # paid | pending | refunded | voided
    cancelled_ms: int | None
    line_items: list[ShopLineItem]
    total_cents: int


@dataclass(slots=True)
class HrEmployee(Record):
    first_name: str
    last_name: str
    work_email: str
    department: str
    job_title: str
    supervisor_record_id: str | None
    hire_date: str
    termination_date: str | None
    status: str  # Active | Inactive


@dataclass(slots=True)
class Break:
    """A seeded disagreement a reconciliation should find (``breaks`` export row)."""

    kind: str
    system: str
    record_id: str
    detail: str


# -- the whole world -------------------------------------------------------------------------
@dataclass
class CrmWorld:
    contacts: list[CrmContact] = field(default_factory=list)
    companies: list[CrmCompany] = field(default_factory=list)
    products: list[CrmProduct] = field(default_factory=list)
    deals: list[CrmDeal] = field(default_factory=list)
    owners: list[CrmOwner] = field(default_factory=list)


@dataclass
class ErpWorld:
    contacts: list[ErpContact] = field(default_factory=list)
    items: list[ErpItem] = field(default_factory=list)
    invoices: list[ErpInvoice] = field(default_factory=list)
    payments: list[ErpPayment] = field(default_factory=list)
    credit_notes: list[ErpCreditNote] = field(default_factory=list)


@dataclass
class ShopWorld:
    name: str
    customers: list[ShopCustomer] = field(default_factory=list)
    products: list[ShopProduct] = field(default_factory=list)
    orders: list[ShopOrder] = field(default_factory=list)


@dataclass
class HrWorld:
    employees: list[HrEmployee] = field(default_factory=list)


@dataclass
class World:
    seed: int
    customers: int
    now_ms: int  # the world's clock: every seeded timestamp is at or before it
    order_lines: int | None = None  # about this many shop order lines (None: the default mix)
    people: list[Person] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    employees: list[Employee] = field(default_factory=list)
    crm: CrmWorld = field(default_factory=CrmWorld)
    erp: ErpWorld = field(default_factory=ErpWorld)
    shops: dict[str, ShopWorld] = field(default_factory=dict)
    hr: HrWorld = field(default_factory=HrWorld)
    breaks: list[Break] = field(default_factory=list)
