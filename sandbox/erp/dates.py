"""Xero's date forms: MS-JSON ``/Date(ms+0000)/``, date strings, and the If-Modified-Since header.

Xero serialises every timestamp as MS-JSON (milliseconds since the epoch, UTC) and sends dates
(invoice ``Date``, ``DueDate``) as MS-JSON of midnight UTC plus a ``DateString`` twin
(``2019-11-13T00:00:00``). Requests may carry dates as ``YYYY-MM-DD``, ISO 8601 or MS-JSON.

>>> ms_json(1573755038314)
'/Date(1573755038314+0000)/'
>>> parse_ms_json(ms_json(1573755038314))
1573755038314
>>> date_fields("2019-11-13")
('/Date(1573603200000+0000)/', '2019-11-13T00:00:00')
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

_MS_JSON = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_json(ms: int) -> str:
    """A timestamp as Xero's record fields carry it (``UpdatedDateUTC``).

    >>> ms_json(0)
    '/Date(0+0000)/'
    """
    return f"/Date({int(ms)}+0000)/"


def ms_json_bare(ms: int) -> str:
    """A timestamp as Xero's envelopes carry it (``DateTimeUTC``: no offset).

    >>> ms_json_bare(1551399323399)
    '/Date(1551399323399)/'
    """
    return f"/Date({int(ms)})/"


def parse_ms_json(text: str) -> int:
    """Epoch milliseconds of an MS-JSON string; the offset is informational (the number is UTC).

    >>> parse_ms_json("/Date(1551399323399)/"), parse_ms_json("/Date(-1000-0500)/")
    (1551399323399, -1000)
    >>> parse_ms_json("2020-01-01")
    Traceback (most recent call last):
    ...
    ValueError: not an MS-JSON date: '2020-01-01'
    """
    match = _MS_JSON.match(text.strip())
    if not match:
        raise ValueError(f"not an MS-JSON date: {text!r}")
    return int(match.group(1))


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of a datetime (naive means UTC, as Xero reads it).

    >>> to_ms(datetime(1970, 1, 1, 0, 0, 1))
    1000
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso_date_ms(day: str) -> int:
    """Epoch milliseconds of midnight UTC on ``YYYY-MM-DD``.

    >>> iso_date_ms("1970-01-02")
    86400000
    """
    return to_ms(datetime.combine(date.fromisoformat(day), datetime.min.time()))


@functools.lru_cache(maxsize=8192)
def date_fields(day: str) -> tuple[str, str]:
    """The ``(Date, DateString)`` pair Xero serves for an ISO date (cached: dates repeat)."""
    return ms_json(iso_date_ms(day)), f"{day}T00:00:00"


def parse_timestamp(text: str) -> int:
    """Epoch ms of an If-Modified-Since value: HTTP date, ISO 8601 (naive = UTC) or MS-JSON.

    Xero accepts both the RFC 1123 form and ISO 8601 in this header.

    >>> parse_timestamp("Thu, 01 Jan 1970 00:00:10 GMT")
    10000
    >>> parse_timestamp("1970-01-01T00:00:10.5")
    10500
    >>> parse_timestamp("1970-01-01T01:00:00+01:00")
    0
    >>> parse_timestamp("1970-01-01T00:00:01Z"), parse_timestamp("/Date(7)/")
    (1000, 7)
    """
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    if value.startswith("/Date("):
        return parse_ms_json(value)
    if value[0].isdigit():
        if value.endswith(("Z", "z")):
            value = value[:-1] + "+00:00"
        return to_ms(datetime.fromisoformat(value))
    try:
        return to_ms(parsedate_to_datetime(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not an HTTP date or ISO 8601 timestamp: {text!r}") from exc


def parse_request_date(value: str) -> str:
    """The ISO date of a date a client sent: ``YYYY-MM-DD``, ISO date-time or MS-JSON.

    >>> parse_request_date("2024-02-29"), parse_request_date("2024-02-29T00:00:00")
    ('2024-02-29', '2024-02-29')
    >>> parse_request_date("/Date(1573603200000+0000)/")
    '2019-11-13'
    """
    text = value.strip()
    if _DATE.match(text):
        return date.fromisoformat(text).isoformat()
    if text.startswith("/Date("):
        return datetime.fromtimestamp(parse_ms_json(text) / 1000, tz=UTC).date().isoformat()
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()


def date_string_of(ms: int) -> str:
    """Xero's ``UpdatedDateUTCString``-style text of a timestamp.

    >>> date_string_of(1573755038314)
    '2019-11-14T18:10:38'
    """
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_utc(ms: int) -> str:
    """An ISO 8601 UTC text with milliseconds (webhook ``eventDateUtc``).

    >>> iso_utc(1573755038314)
    '2019-11-14T18:10:38.314'
    """
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def today_iso(now_ms: int) -> str:
    """The UTC date of a timestamp.

    >>> today_iso(86400000)
    '1970-01-02'
    """
    return datetime.fromtimestamp(now_ms / 1000, tz=UTC).date().isoformat()


def add_days(day: str, days: int) -> str:
    """``day`` plus ``days``.

    >>> add_days("2024-02-28", 2)
    '2024-03-01'
    """
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
