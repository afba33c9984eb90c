"""The world's clock: a fixed "now" and fast epoch-millisecond <-> ISO date helpers.

Every seeded timestamp lies at or before :data:`NOW_MS`; records are created on or after
:data:`START_MS`. Dates before :data:`EPOCH_MS` (2010-01-01) are not supported.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

NOW_MS = 1_793_491_200_000  # 2026-11-01T00:00:00Z
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
EPOCH_MS = 1_262_304_000_000  # 2010-01-01T00:00:00Z, first day of the date table
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

_EPOCH_DAY = date(2010, 1, 1)
_DAYS = (NOW_MS - EPOCH_MS) // DAY_MS + 400
_DATES: tuple[str, ...] = tuple((_EPOCH_DAY + timedelta(days=i)).isoformat() for i in range(_DAYS))


def iso_date(ms: int) -> str:
    """The UTC calendar date of an epoch-millisecond time.

    >>> iso_date(NOW_MS), iso_date(NOW_MS - 1)
    ('2026-11-01', '2026-10-31')
    """
    return _DATES[(ms - EPOCH_MS) // DAY_MS]


def date_ms(iso: str) -> int:
    """Midnight UTC of an ISO date, in epoch milliseconds.

    >>> date_ms("2024-01-01") == START_MS
    True
    """
    day = date.fromisoformat(iso)
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def add_days(iso: str, days: int) -> str:
    """An ISO date ``days`` later (or earlier).

    >>> add_days("2026-10-20", 14)
    '2026-11-03'
    """
    return _DATES[(date_ms(iso) - EPOCH_MS) // DAY_MS + days]


def iso_datetime(ms: int) -> str:
    """An epoch-millisecond time as ISO-8601 UTC with milliseconds (for messages).

    >>> iso_datetime(START_MS)
    '2024-01-01T00:00:00.000Z'
    """
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )
