"""Breaks open on each day, from dbt's snapshot of ``marts.reconciliation_breaks``
(``dbt_project/snapshots/reconciliation_breaks_snapshot.sql``, run by every ``dbt build``).

The snapshot opens a row when a build first sees a break (``dbt_valid_from``) and closes it when
a build no longer sees it (``dbt_valid_to``); a change of amount closes one version and opens
the next. A break counts as open on a day when one of its rows was valid at that day's end (for
today: now). Counting and summing happen in the warehouse; Python receives one row per day,
kind and currency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from reports import breaks, charts
from reports.db import Reader

SCHEMA = "snapshots"
TABLE = "reconciliation_breaks_snapshot"
RELATION = f"{SCHEMA}.{TABLE}"
HISTORY_DAYS = 30


@dataclass
class History:
    """Breaks open at the end of each day, per kind: how many, and the amount at stake."""

    days: list[date] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)
    amounts: dict[str, list[Decimal]] = field(default_factory=dict)
    currencies: list[str] = field(default_factory=list)
    since: datetime | None = None  # when the snapshot first ran

    def total(self, kinds: Sequence[str]) -> list[int]:
        """Breaks of ``kinds`` open per day.

        >>> History([date(2026, 1, 1)], {"a": [2], "b": [3]}).total(["a", "b", "c"])
        [5]
        """
        return [sum(self.counts.get(k, [0] * len(self.days))[i] for k in kinds)
                for i in range(len(self.days))]

    def latest(self, kind: str) -> int:
        """Breaks of ``kind`` open now (the last day).

        >>> History([date(2026, 1, 1), date(2026, 1, 2)], {"a": [2, 1]}).latest("a")
        1
        """
        values = self.counts.get(kind)
        return values[-1] if values else 0


def day_window(first: date, today: date, limit: int = HISTORY_DAYS) -> list[date]:
    """Every day from ``first`` (at most ``limit`` days back) to ``today``.

    >>> [d.day for d in day_window(date(2026, 1, 3), date(2026, 1, 5))]
    [3, 4, 5]
    >>> len(day_window(date(2025, 1, 1), date(2026, 1, 5), limit=30))
    30
    >>> day_window(date(2026, 2, 1), date(2026, 1, 5))  # a clock behind the warehouse's
    [datetime.date(2026, 1, 5)]
    """
    start = min(today, max(first, today - timedelta(days=limit - 1)))
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def recorded(reader: Reader) -> bool:
    """Whether the warehouse has the snapshot (a build since it was added to the project)."""
    return reader.has_table(SCHEMA, TABLE)


def per_day_sql(days: int) -> str:
    """Breaks open at each of ``days`` day ends, per kind and currency (two bound parameters
    per day: the day and its end)."""
    values = ", ".join("(cast(? as date), cast(? as timestamp))" for _ in range(days))
    return (
        "select days.on_day, history.break_kind, history.currency_code, count(*), "
        "coalesce(sum(history.amount_at_stake), 0) "
        f"from (values {values}) as days(on_day, day_end) "
        f"inner join {RELATION} as history on history.dbt_valid_from < days.day_end "
        "and (history.dbt_valid_to is null or history.dbt_valid_to >= days.day_end) "
        "group by days.on_day, history.break_kind, history.currency_code")


def open_per_day(reader: Reader, now: datetime, limit: int = HISTORY_DAYS) -> History | None:
    """Breaks open at the end of each of the last ``limit`` days (``None``: no snapshot yet)."""
    if not recorded(reader):
        return None
    since = reader.scalar(f"select min(dbt_valid_from) from {RELATION}")
    if since is None:
        return History()
    days = day_window(_as_date(since), now.date(), limit)
    params: list[Any] = []
    for day in days:
        params += [day, datetime.combine(day + timedelta(days=1), time())]
    history = History(days=days, since=since)
    index = {day: i for i, day in enumerate(days)}
    currencies: set[str] = set()
    for on_day, kind, currency, number, amount in reader.rows(per_day_sql(len(days)), params):
        i = index[_as_date(on_day)]
        history.counts.setdefault(str(kind), [0] * len(days))[i] += int(number)
        amounts = history.amounts.setdefault(str(kind), [Decimal(0)] * len(days))
        amounts[i] += Decimal(amount)
        if currency:
            currencies.add(str(currency))
    history.currencies = sorted(currencies)
    return history


def day_label(day: date) -> str:
    """A day on a chart axis.

    >>> day_label(date(2026, 3, 9))
    '03-09'
    """
    return f"{day:%m-%d}"


def chart(history: History, kinds: Sequence[str], *, title: str, amounts: bool = False,
          href: Callable[[str], str | None] | None = None, empty: str = "") -> str:
    """Open breaks (or their amount at stake) per day, stacked by kind."""
    source: dict[str, Any] = history.amounts if amounts else history.counts
    series = [charts.Series(breaks.ALL_LABELS.get(kind, kind), [float(v) for v in source[kind]],
                            [href(kind) if href else None] * len(history.days),
                            breaks.COLORS.get(kind))
              for kind in kinds if kind in source]
    return charts.column_chart(
        [day_label(d) for d in history.days], series, title=title, whole=not amounts,
        empty=empty or "no break was open on these days")
