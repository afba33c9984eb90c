"""Small helpers the page modules share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from reports.links import Links
from reports.params import Value

HrefFor = Callable[[str, str | None], str | None]


def href_for(links: Links, page: str, current: Mapping[str, Value]) -> HrefFor:
    """A function giving the link of ``page`` with one filter changed (and paging reset)."""

    def build(param: str, value: str | None) -> str | None:
        params: dict[str, str | int | None] = {
            k: v for k, v in current.items() if k not in ("page", param)}
        params[param] = value
        return links.page(page, **params)

    return build


def month_start(text: str) -> date:
    """The first day of a ``YYYY-MM`` month.

    >>> month_start("2026-03")
    datetime.date(2026, 3, 1)
    """
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def month_label(value: date) -> str:
    """A month as ``YYYY-MM``.

    >>> month_label(date(2026, 3, 1))
    '2026-03'
    """
    return f"{value.year:04d}-{value.month:02d}"


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (charts show empty months too).

    >>> [month_label(m) for m in month_range(date(2025, 11, 1), date(2026, 2, 1))]
    ['2025-11', '2025-12', '2026-01', '2026-02']
    """
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
