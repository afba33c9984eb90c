"""The site's pages, in menu order, and the exportable tables they show."""

from __future__ import annotations

from reports.pages import (
    compliance,
    conflicts,
    customer,
    customers,
    dictionary,
    metrics,
    overview,
    quality,
    reconciliation,
    syncs,
)
from reports.site import PageSpec
from reports.tables import Table

PAGES: tuple[PageSpec, ...] = (
    overview.SPEC,
    reconciliation.SPEC,
    customers.SPEC,
    conflicts.SPEC,
    customer.SPEC,
    quality.SPEC,
    compliance.SPEC,
    syncs.SPEC,
    metrics.SPEC,
    dictionary.SPEC,
)


def find_page(name: str) -> PageSpec | None:
    """The page called ``name`` (``None`` if there is none)."""
    return next((spec for spec in PAGES if spec.name == name), None)


def find_table(name: str) -> Table | None:
    """The exportable table called ``name`` (``None`` if there is none)."""
    return next((t for spec in PAGES for t in spec.tables if t.name == name), None)
