"""Destination writers, one module per system (``crm``, ``erp``, ``shop``), picked per spec."""

from __future__ import annotations

from reverse_etl.connections import Connection
from reverse_etl.destinations.base import Outcome, Writer
from reverse_etl.spec import SyncSpec


def open_writer(spec: SyncSpec, connection: Connection) -> Writer:
    """The writer for the spec's destination system and object."""
    system, obj = spec.destination.system, spec.destination.object
    if system == "crm":
        from reverse_etl.destinations.crm import CrmContactsWriter

        return CrmContactsWriter(spec, connection)
    if system == "erp" and obj == "invoices":
        from reverse_etl.destinations.erp_invoices import ErpInvoicesWriter

        return ErpInvoicesWriter(spec, connection)
    if system == "erp":
        from reverse_etl.destinations.erp import ErpContactsWriter

        return ErpContactsWriter(spec, connection)
    from reverse_etl.destinations.shop import ShopCustomersWriter

    return ShopCustomersWriter(spec, connection)


__all__ = ["Outcome", "Writer", "open_writer"]
