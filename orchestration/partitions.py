"""Daily partitions of the systems that hold orders and invoices, and the dlt window of a run.

A partition is a UTC day of *changes* (the vendors' last-modified time). Materialising a past day
(or a range of days, in one run) loads what changed in ``[first day 00:00, last day + 1 00:00)``
and leaves dlt's incremental cursor alone. Today's partition is the live edge: it runs the
ordinary incremental load (everything changed since the last load), which is what the hourly
schedule and the webhook sensor run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition

# The systems whose assets are partitioned (orders in shop, invoices in erp). The pipelines
# window a whole system at once, so each of them is partitioned as a whole.
PARTITIONED_SYSTEMS: frozenset[str] = frozenset({"erp", "shop"})
FIRST_DAY = "2024-01-01"

DAILY = DailyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1, timezone="UTC")

Window = tuple[datetime | None, datetime | None]


def day_key(when: datetime | date) -> str:
    """The partition key of the UTC day of ``when``.

    >>> day_key(datetime(2026, 11, 25, 23, 59, tzinfo=UTC))
    '2026-11-25'
    """
    if isinstance(when, datetime):
        when = when.astimezone(UTC).date() if when.tzinfo else when.date()
    return when.isoformat()


def extract_window(first: str, last: str, today: date) -> Window:
    """The dlt ``(start, end)`` of a run over partitions ``first``..``last`` (inclusive).

    >>> extract_window("2026-10-29", "2026-10-31", date(2026, 11, 25))
    (datetime.datetime(2026, 10, 29, 0, 0, tzinfo=datetime.timezone.utc), \
datetime.datetime(2026, 11, 1, 0, 0, tzinfo=datetime.timezone.utc))
    >>> extract_window("2026-11-25", "2026-11-25", date(2026, 11, 25))
    (None, None)
    """
    if first == last == today.isoformat():
        return None, None
    start = datetime.combine(date.fromisoformat(first), time(), UTC)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), time(), UTC)
    return start, end


def window_of(context: AssetExecutionContext, now: datetime | None = None) -> Window:
    """The dlt window of the running step: none for an unpartitioned asset or today's key."""
    # a one-partition run has a key, a single-run backfill a range: both give a range
    if not (context.has_partition_key or context.has_partition_key_range):
        return None, None
    keys = context.partition_key_range
    return extract_window(keys.start, keys.end, (now or datetime.now(UTC)).date())


def live_partition_key(now: datetime | None = None) -> str:
    """Today's (UTC) partition key: the live edge incremental runs target."""
    return day_key(now or datetime.now(UTC))
