"""The expectation suites, as code: one suite per model, a severity per suite and per check.

A check is a small declarative :class:`Expect` (what kind, on which columns) that
:mod:`goldloop.quality.expectations` turns into a Great Expectations expectation. ``blocking``
checks stop what reads the model when they fail (reverse-ETL syncs, downstream Dagster assets);
``warn`` checks are recorded and shown, and stop nothing.

A suite may read computed columns (``derived``: name → SQL expression over the model's
columns, portable between DuckDB and Postgres), e.g. a sync's match key.

>>> suite = find_suite("customers")
>>> suite.blocking, [c.name for c in suite.checks][:2]
(True, ['gx_unique_customer_id', 'gx_not_null_customer_id'])
>>> suite.severity_of(suite.checks[2]), suite.checks[2].description
('warn', 'email looks like an e-mail address')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from goldloop.errors import ConfigError

Severity = Literal["blocking", "warn"]
Kind = Literal["not_null", "unique", "unique_together", "in_set", "email_format", "non_negative"]

# A value that needs more than this to be an e-mail address: something@domain.tld, no spaces.
# Portable: Python's re (pandas batches) and Postgres' regular expressions read it the same.
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# The currencies goldloop's business trades in: add one here before selling in it.
ACCEPTED_CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD")
SYSTEMS = ("crm", "erp", "shop")
# Kinds that compare rows with each other (chunked reads must keep equal keys together).
WHOLE_TABLE_KINDS = frozenset({"unique", "unique_together"})

_DESCRIBE = {
    "not_null": "{} is present",
    "unique": "{} is unique",
    "unique_together": "({}) is unique where all are present",
    "in_set": "{} is one of {}",
    "email_format": "{} looks like an e-mail address",
    "non_negative": "{} is zero or more",
}


@dataclass(frozen=True)
class Expect:
    """One check of a suite: its kind, its column(s), its severity (``None``: the suite's)."""

    kind: Kind
    columns: tuple[str, ...]
    severity: Severity | None = None
    values: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        """The check's name in ``quality.check_results``.

        >>> Expect("unique_together", ("system", "record_id")).name
        'gx_unique_together_system__record_id'
        """
        return f"gx_{self.kind}_{'__'.join(self.columns)}"

    @property
    def description(self) -> str:
        """What the check expects, in words (no data values: results may be shown to anyone).

        >>> Expect("in_set", ("system",), values=("crm", "erp")).description
        'system is one of crm, erp'
        """
        columns = ", ".join(self.columns)
        values = ", ".join(str(v).lower() if isinstance(v, bool) else str(v)
                           for v in self.values)
        return _DESCRIBE[self.kind].format(columns, values)

    @property
    def whole_table(self) -> bool:
        """Whether the check compares rows with each other (uniqueness)."""
        return self.kind in WHOLE_TABLE_KINDS


@dataclass(frozen=True)
class Suite:
    """The checks of one model (``schema.model``), named after the model."""

    model: str
    description: str
    checks: tuple[Expect, ...]
    severity: Severity = "blocking"
    schema: str = "marts"
    derived: tuple[tuple[str, str], ...] = ()  # (column name, SQL expression)

    @property
    def name(self) -> str:
        """The suite's name: its model's."""
        return self.model

    @property
    def relation(self) -> str:
        """``schema.model``."""
        return f"{self.schema}.{self.model}"

    @property
    def blocking(self) -> bool:
        """Whether any check of the suite is blocking."""
        return any(self.severity_of(check) == "blocking" for check in self.checks)

    def severity_of(self, check: Expect) -> Severity:
        """The check's own severity, else the suite's."""
        return check.severity or self.severity

    def columns(self, checks: Sequence[Expect] | None = None) -> tuple[str, ...]:
        """The columns ``checks`` (default: all) read, in first-use order.

        >>> find_suite("customer_xref").columns()[:3]
        ('customer_id', 'system', 'object')
        """
        seen: dict[str, None] = {}
        for check in self.checks if checks is None else checks:
            seen.update(dict.fromkeys(check.columns))
        return tuple(seen)

    def expression(self, column: str) -> str:
        """The SQL that reads ``column``: its derived expression, else the quoted column.

        >>> find_suite("sync_erp__contacts").expression("name_key")
        'lower(name)'
        >>> find_suite("sync_erp__contacts").expression("name")
        '"name"'
        """
        return dict(self.derived).get(column, quote(column))

    def select_sql(self, columns: Sequence[str]) -> str:
        """``select <columns> from <relation>``, derived columns computed.

        >>> find_suite("sync_erp__contacts").select_sql(["sync_key", "name_key"])
        'select "sync_key", lower(name) as "name_key" from marts.sync_erp__contacts'
        """
        parts = [quote(c) if c not in dict(self.derived) else f"{self.expression(c)} as {quote(c)}"
                 for c in columns]
        return f"select {', '.join(parts)} from {self.relation}"


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier.

    >>> quote("email"), quote('a"b')
    ('"email"', '"a""b"')
    """
    return '"' + identifier.replace('"', '""') + '"'


def not_null(column: str, severity: Severity | None = None) -> Expect:
    """``column`` has no nulls."""
    return Expect("not_null", (column,), severity)


def unique(column: str, severity: Severity | None = None) -> Expect:
    """``column``'s present values are all different."""
    return Expect("unique", (column,), severity)


def key(column: str, severity: Severity | None = None) -> tuple[Expect, Expect]:
    """``column`` is a key: unique and present."""
    return unique(column, severity), not_null(column, severity)


def unique_together(*columns: str, severity: Severity | None = None) -> Expect:
    """The combination of ``columns`` is unique (rows with a missing value are left out)."""
    return Expect("unique_together", columns, severity)


def in_set(column: str, values: Sequence[Any], severity: Severity | None = None) -> Expect:
    """``column``'s present values are among ``values``."""
    return Expect("in_set", (column,), severity, tuple(values))


def email_format(column: str, severity: Severity | None = "warn") -> Expect:
    """``column``'s present values look like e-mail addresses (warns by default)."""
    return Expect("email_format", (column,), severity)


def non_negative(*columns: str, severity: Severity | None = None) -> tuple[Expect, ...]:
    """Each of ``columns`` is zero or more where present."""
    return tuple(Expect("non_negative", (column,), severity) for column in columns)


SUITES: tuple[Suite, ...] = (
    Suite("customers", "One row per golden customer: a key, a usable e-mail, a consent flag.", (
        *key("customer_id"),
        email_format("email"),
        not_null("has_marketing_consent"),
        in_set("has_marketing_consent", (True, False)),
    )),
    Suite("customer_xref", "Every source record belongs to one golden customer.", (
        not_null("customer_id"),
        not_null("system"),
        in_set("system", SYSTEMS),
        in_set("object", ("contacts", "customers")),
        not_null("record_id"),
        unique_together("system", "object", "record_id"),
    )),
    Suite("orders", "Shop orders: a key; amounts and currency a finance user can sum.", (
        *key("order_id"),
        *non_negative("subtotal_amount", "tax_amount", "discount_amount", "total_amount",
                      severity="warn"),
        in_set("currency_code", ACCEPTED_CURRENCIES, severity="warn"),
    )),
    Suite("invoices", "ERP sales invoices: a key; amounts and currency a finance user can sum.", (
        *key("invoice_id"),
        *non_negative("subtotal_amount", "tax_amount", "total_amount", "amount_paid",
                      severity="warn"),
        in_set("currency_code", ACCEPTED_CURRENCIES, severity="warn"),
    )),
    Suite("sync_crm__contacts",
          "Feed of sync crm_contacts: upserted by e-mail (HubSpot's idProperty) or by id.", (
        *key("sync_key"),
        unique("email"),
        not_null("match_key"),
        unique("crm_record_id"),
        email_format("email"),
        not_null("hs_email_optout"),
        in_set("hs_email_optout", ("true", "false")),
    ), derived=(("match_key", "coalesce(email, crm_record_id)"),)),
    Suite("sync_erp__contacts",
          "Feed of sync erp_contacts: matched by ContactNumber; Xero wants unique names.", (
        *key("sync_key"),
        *key("contact_number"),
        unique("contact_id"),
        not_null("name"),
        unique("name_key"),
        email_format("email_address"),
    ), derived=(("name_key", "lower(name)"),)),
    Suite("sync_shop__customers",
          "Feed of sync shop_customers: one account per shop, looked up by e-mail per shop.", (
        *key("sync_key"),
        not_null("shop"),
        not_null("shop_customer_id"),
        unique_together("shop", "shop_customer_id"),
        unique_together("shop", "email"),
        email_format("email"),
        not_null("accepts_marketing"),
        in_set("accepts_marketing", (True, False)),
    )),
    Suite("sync_erp__invoices",
          "Feed of sync deal_invoices: one draft invoice per deal, matched by Reference.", (
        *key("sync_key"),
        *key("reference"),
        not_null("line_items"),
        *non_negative("total", severity="warn"),
        in_set("currency_code", ACCEPTED_CURRENCIES, severity="warn"),
    )),
)


def find_suite(name: str, suites: Sequence[Suite] = SUITES) -> Suite:
    """The suite called ``name`` (its model's name).

    >>> find_suite("orders").relation
    'marts.orders'
    """
    for suite in suites:
        if suite.name == name:
            return suite
    known = ", ".join(s.name for s in suites)
    raise ConfigError(f"no quality suite named {name!r}",
                      hint=f"choose one of: {known} (see `goldloop quality list`)")


def select_suites(names: Sequence[str] | None, suites: Sequence[Suite] = SUITES) -> list[Suite]:
    """The suites named (all of them when ``names`` is empty), in definition order.

    >>> [s.name for s in select_suites(["orders", "customers"])]
    ['customers', 'orders']
    """
    if not names:
        return list(suites)
    wanted = {find_suite(name, suites).name for name in names}
    return [suite for suite in suites if suite.name in wanted]
