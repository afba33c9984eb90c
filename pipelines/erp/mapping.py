"""Xero records as they land in raw_erp: UTC timestamps, exact decimals, slim links, a delete flag.

The record keeps Xero's own field names (dlt turns ``UpdatedDateUTC`` into ``updated_date_utc``);
only embedded copies of records that have their own table are cut down to their key and label,
so one contact's change does not rewrite every invoice that mentions it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pipelines.common.deletes import flag_deleted
from pipelines.erp.dates import parse_ms_json

Record = dict[str, Any]

# Embedded records that are loaded by their own resource: keep only these fields of them.
_LINKS: dict[str, tuple[str, ...]] = {
    "Contact": ("ContactID", "Name", "ContactNumber"),
    "Invoice": ("InvoiceID", "InvoiceNumber", "Type"),
    "CreditNote": ("CreditNoteID", "CreditNoteNumber", "Type"),
}


def to_decimals(node: Any) -> Any:
    """A copy of a JSON tree with every float as an exact :class:`~decimal.Decimal`.

    JSON money such as ``40.1`` arrives as the float nearest to it; its shortest repr is the
    text the server sent, so ``Decimal(repr(x))`` restores the exact amount.

    >>> to_decimals({"Total": 40.1, "Lines": [{"Qty": 3}], "Rate": 0.125})
    {'Total': Decimal('40.1'), 'Lines': [{'Qty': 3}], 'Rate': Decimal('0.125')}
    """
    if isinstance(node, dict):
        return {key: to_decimals(value) for key, value in node.items()}
    if isinstance(node, list):
        return [to_decimals(value) for value in node]
    if isinstance(node, float):
        return Decimal(repr(node))
    return node


def slim_links(record: Record, links: Mapping[str, tuple[str, ...]] = _LINKS) -> Record:
    """Cut embedded records that have their own table down to key and label (in place).

    >>> slim_links({"InvoiceID": "i", "Contact": {"ContactID": "c", "Name": "N", "Phones": []}})
    {'InvoiceID': 'i', 'Contact': {'ContactID': 'c', 'Name': 'N'}}
    """
    for name, keep in links.items():
        embedded = record.get(name)
        if isinstance(embedded, dict):
            record[name] = {key: embedded[key] for key in keep if key in embedded}
    return record


def is_deleted(record: Record, status_field: str | None, statuses: frozenset[str]) -> bool:
    """True when the record's status says it is archived, voided or deleted.

    >>> is_deleted({"ContactStatus": "ARCHIVED"}, "ContactStatus", frozenset({"ARCHIVED"}))
    True
    >>> is_deleted({"Status": "PAID"}, "Status", frozenset({"DELETED", "VOIDED"}))
    False
    >>> is_deleted({"Code": "A"}, None, frozenset())
    False
    """
    if status_field is None:
        return False
    return str(record.get(status_field) or "").upper() in statuses


_DATE_PREFIX = "/Date("
_CACHE_LIMIT = 100_000
_decimals: dict[float, Decimal] = {}
_instants: dict[str, Any] = {}


def _decimal(value: float) -> Decimal:
    """``Decimal(repr(value))``, remembered (amounts, rates and quantities repeat a lot)."""
    found = _decimals.get(value)
    if found is None:
        if len(_decimals) >= _CACHE_LIMIT:
            _decimals.clear()
        found = _decimals[value] = Decimal(repr(value))
    return found


def _instant(value: str) -> Any:
    """The UTC datetime of an MS-JSON string (the string itself if it is not one), remembered."""
    found = _instants.get(value)
    if found is None:
        if len(_instants) >= _CACHE_LIMIT:
            _instants.clear()
        parsed = parse_ms_json(value)
        found = _instants[value] = value if parsed is None else parsed
    return found


def convert_in_place(node: Any) -> Any:
    """:func:`~pipelines.erp.dates.convert_dates` and :func:`to_decimals` in one pass, changing
    the JSON tree's dicts and lists in place (a page is decoded fresh for each read).

    >>> convert_in_place({"A": ["/Date(0+0000)/", {"B": 0.1, "C": "x"}], "D": 2})
    {'A': [datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), {'B': Decimal('0.1'), 'C': 'x'}], 'D': 2}
    """  # noqa: E501
    kind = type(node)
    if kind is dict or kind is list:
        # a dict's values or a list's items, replaced where they stand (no size change)
        for key, value in (node.items() if kind is dict else enumerate(node)):
            value_kind = type(value)
            if value_kind is str:
                if value.startswith(_DATE_PREFIX):
                    node[key] = _instant(value)
            elif value_kind is float:
                node[key] = _decimal(value)
            elif value_kind is dict or value_kind is list:
                convert_in_place(value)
    elif kind is str and node.startswith(_DATE_PREFIX):
        return _instant(node)
    elif kind is float:
        return _decimal(node)
    return node


def map_record(record: Record, status_field: str | None,
               deleted_statuses: frozenset[str]) -> Record:
    """One Xero record ready to load: dates parsed, decimals exact, links slim, delete flagged.

    The record is converted in place (and returned): the embedded copies are cut first, so their
    dropped fields are never converted.

    >>> row = map_record({"ContactID": "c1", "ContactStatus": "ARCHIVED", "Discount": 2.5,
    ...                   "UpdatedDateUTC": "/Date(1573755038314+0000)/"},
    ...                  "ContactStatus", frozenset({"ARCHIVED"}))
    >>> row["UpdatedDateUTC"].isoformat(), row["Discount"], row["_goldloop_deleted"]
    ('2019-11-14T18:10:38.314000+00:00', Decimal('2.5'), True)
    """
    row: Record = convert_in_place(slim_links(record))
    return flag_deleted(row, is_deleted(row, status_field, deleted_statuses))
