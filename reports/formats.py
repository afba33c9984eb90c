"""How values read on a page: counts, money, hours, UTC times, ages, yes/no.

Presentation only: every figure arrives computed by the warehouse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

NONE = "\u2013"  # what an empty value reads as (an en dash)


def utc_naive(value: datetime) -> datetime:
    """A timestamp as naive UTC (the warehouse's convention), whatever its zone.

    >>> utc_naive(datetime(2026, 1, 1, 12, tzinfo=UTC)).isoformat()
    '2026-01-01T12:00:00'
    """
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def count(value: Any) -> str:
    """A whole number with thousands separators.

    >>> count(1234567), count(None)
    ('1,234,567', '\u2013')
    """
    return NONE if value is None else f"{int(value):,}"


def plural(number: Any, word: str, many: str | None = None) -> str:
    """``number word`` with the word in plural unless the number is one.

    >>> plural(1, "leaver"), plural(2, "leaver"), plural(1200, "entry", "entries")
    ('1 leaver', '2 leavers', '1,200 entries')
    """
    return f"{count(number)} {word if int(number or 0) == 1 else (many or word + 's')}"


def number(value: Any) -> str:
    """A measure: whole numbers with separators, others to two decimals.

    >>> number(14338.55), number(Decimal("97")), number(0.8888)
    ('14,338.55', '97', '0.89')
    """
    if value is None:
        return NONE
    as_float = float(value)
    return f"{int(as_float):,}" if as_float.is_integer() else f"{as_float:,.2f}"


def money(value: Any, currency: str | None = None) -> str:
    """An amount with two decimals and thousands separators, currency first when given.

    >>> money(Decimal("1743.8"), "USD"), money(-5), money(None)
    ('USD 1,743.80', '-5.00', '\u2013')
    """
    if value is None:
        return NONE
    text = f"{Decimal(value):,.2f}"
    return f"{currency} {text}" if currency else text


def hours(value: Any) -> str:
    """Hours with one decimal; days too when it is more than two days.

    >>> hours(3.5), hours(Decimal("15641.3"))
    ('3.5 h', '15,641.3 h (651.7 days)')
    """
    if value is None:
        return NONE
    number = float(value)
    text = f"{number:,.1f} h"
    return f"{text} ({number / 24:,.1f} days)" if number > 48 else text


def timestamp(value: Any) -> str:
    """A UTC time to the minute (``2026-11-25 17:19 UTC``); a date as ``2026-11-25``.

    >>> timestamp(datetime(2026, 11, 25, 17, 19, 22)), timestamp(date(2025, 2, 12))
    ('2026-11-25 17:19 UTC', '2025-02-12')
    """
    if value is None:
        return NONE
    if isinstance(value, datetime):
        return utc_naive(value).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def age(value: datetime | None, now: datetime) -> str:
    """How long ago ``value`` was, in the largest sensible unit.

    >>> now = datetime(2026, 1, 2, 12, 0)
    >>> age(datetime(2026, 1, 2, 11, 58), now), age(datetime(2025, 12, 30, 12), now)
    ('2 min ago', '3 days ago')
    """
    if value is None:
        return "never"
    seconds = (utc_naive(now) - utc_naive(value)).total_seconds()
    if seconds < 90:
        return "just now"
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size * (2 if unit == "days" else 1):
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def yes_no(value: Any) -> str:
    """``yes``/``no`` for booleans, an en dash for NULL.

    >>> yes_no(True), yes_no(False), yes_no(None)
    ('yes', 'no', '\u2013')
    """
    return NONE if value is None else ("yes" if value else "no")


def cell(value: Any, kind: str) -> str:
    """A table cell's text for a column kind (see :class:`reports.tables.Column`).

    >>> cell(Decimal("12.5"), "money"), cell(3, "int"), cell("x", "text"), cell(None, "text")
    ('12.50', '3', 'x', '\u2013')
    >>> cell(True, "text"), cell(datetime(2026, 1, 2, 3, 4), "text")
    ('yes', '2026-01-02 03:04 UTC')
    >>> cell(date(2026, 3, 1), "month")
    '2026-03'
    """
    if value is None:
        return NONE
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime | date) and kind not in ("month",):
        return timestamp(value)
    if kind == "money":
        return money(value)
    if kind == "int":
        return count(value)
    if kind == "number":
        return number(value)
    if kind == "hours":
        return hours(value)
    if kind in ("ts", "date"):
        return timestamp(value)
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if kind == "bool":
        return yes_no(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
