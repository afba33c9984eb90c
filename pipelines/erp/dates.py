"""Xero's dates: MS-JSON ``/Date(ms+zone)/`` in, UTC timestamps out, and the header form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_MS_JSON = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_ms_json(value: str) -> datetime | None:
    """The UTC instant of an MS-JSON date, or None when ``value`` is not one.

    The number is milliseconds since the Unix epoch in UTC; the ``+zone`` suffix only says which
    zone the writer was in and does not shift the instant.

    >>> parse_ms_json("/Date(1573755038314+0000)/")
    datetime.datetime(2019, 11, 14, 18, 10, 38, 314000, tzinfo=datetime.timezone.utc)
    >>> parse_ms_json("/Date(1573755038314+1300)/") == parse_ms_json("/Date(1573755038314)/")
    True
    >>> parse_ms_json("/Date(-86400000)/").isoformat()
    '1969-12-31T00:00:00+00:00'
    >>> parse_ms_json("2019-11-14") is None
    True
    """
    match = _MS_JSON.match(value)
    if match is None:
        return None
    return _EPOCH + timedelta(milliseconds=int(match.group(1)))


def to_ms_json(instant: datetime) -> str:
    """The MS-JSON form of an instant (naive datetimes are taken as UTC).

    >>> to_ms_json(datetime(2019, 11, 14, 18, 10, 38, 314000, tzinfo=UTC))
    '/Date(1573755038314+0000)/'
    """
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    return f"/Date({(aware - _EPOCH) // timedelta(milliseconds=1)}+0000)/"


def convert_dates(node: Any) -> Any:
    """A copy of a JSON tree with every MS-JSON string turned into a UTC datetime.

    >>> convert_dates({"A": ["/Date(0+0000)/", {"B": "x"}]})
    {'A': [datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), {'B': 'x'}]}
    """
    if isinstance(node, dict):
        return {key: convert_dates(value) for key, value in node.items()}
    if isinstance(node, list):
        return [convert_dates(value) for value in node]
    if isinstance(node, str) and node.startswith("/Date("):
        parsed = parse_ms_json(node)
        return node if parsed is None else parsed
    return node


def if_modified_since(instant: datetime) -> str:
    """The ``If-Modified-Since`` header value for an instant: ISO 8601 in UTC with milliseconds.

    The spec types the header as ``date-time`` (its example is ``2020-02-06T12:17:43.202-08:00``).

    >>> if_modified_since(datetime(2020, 2, 6, 20, 17, 43, 202000, tzinfo=UTC))
    '2020-02-06T20:17:43.202+00:00'
    >>> if_modified_since(datetime(2020, 2, 6, 12, 0))
    '2020-02-06T12:00:00.000+00:00'
    """
    aware = instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
    return aware.isoformat(timespec="milliseconds")
