"""Lag windows that never load the same record twice.

Incremental cursors re-read a lag window (e.g. the last minute) because sources commit records
late. dlt's ``incremental(lag=...)`` re-emits every record in that window and leaves the dedupe to
the merge; goldloop also wants "the second run loads nothing", so :class:`SeenWindow` remembers
which (id, cursor) pairs inside the window were already loaded, in the resource's own dlt state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_LAG_SECONDS = 60.0


def to_epoch_ms(value: Any) -> int:
    """Milliseconds since the epoch of an ISO-8601 string, a datetime or an epoch-ms number.

    >>> to_epoch_ms("2024-01-01T00:00:00.250Z")
    1704067200250
    >>> to_epoch_ms(datetime(2024, 1, 1, tzinfo=UTC))
    1704067200000
    >>> to_epoch_ms(1704067200250)
    1704067200250
    """
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    raise TypeError(f"not a timestamp: {value!r}")


def iso_ms(value: Any) -> str:
    """The UTC ISO-8601 form with milliseconds and ``Z`` that HubSpot and others accept.

    >>> iso_ms(1704067200250)
    '2024-01-01T00:00:00.250Z'
    >>> iso_ms("2024-01-01T01:00:00+01:00")
    '2024-01-01T00:00:00.000Z'
    """
    ms = to_epoch_ms(value)
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def as_utc(value: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime (naive values are taken as UTC).

    >>> as_utc(datetime(2024, 1, 1)).isoformat()
    '2024-01-01T00:00:00+00:00'
    """
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SeenWindow:
    """(record id → cursor ms) pairs already loaded inside the lag window of one resource.

    >>> w = SeenWindow({}, lag_seconds=60)
    >>> [r["id"] for r in w.fresh([{"id": 1, "t": 1000}, {"id": 2, "t": 2000}], "id", "t")]
    [1, 2]
    >>> [r["id"] for r in w.fresh([{"id": 1, "t": 1000}, {"id": 2, "t": 3000}], "id", "t")]
    [2]
    """

    def __init__(self, state: dict[str, Any], lag_seconds: float = DEFAULT_LAG_SECONDS,
                 name: str = "seen_window") -> None:
        self.lag_ms = int(lag_seconds * 1000)
        window = state.setdefault(name, {"max_ms": None, "seen": {}})
        self._window = window
        self._seen: dict[str, int] = window["seen"]

    @classmethod
    def of_resource(cls, lag_seconds: float = DEFAULT_LAG_SECONDS,
                    name: str = "seen_window") -> SeenWindow:
        """The window kept in the current resource's dlt state (call inside the resource)."""
        return cls(dlt.current.resource_state(), lag_seconds, name)

    @property
    def max_ms(self) -> int | None:
        """The highest cursor seen so far (epoch ms)."""
        value = self._window.get("max_ms")
        return int(value) if value is not None else None

    def is_new(self, record_id: Any, cursor_ms: int) -> bool:
        """False when this very version of the record was loaded before."""
        return self._seen.get(str(record_id)) != cursor_ms

    def remember(self, record_id: Any, cursor_ms: int) -> None:
        """Note that this version of the record is loaded (only if it falls in the window)."""
        top = self.max_ms
        if top is None or cursor_ms > top:
            self._window["max_ms"] = top = cursor_ms
        if cursor_ms >= top - self.lag_ms:
            self._seen[str(record_id)] = cursor_ms

    def fresh(self, records: Iterable[dict[str, Any]], id_key: str,
              cursor_key: str) -> list[dict[str, Any]]:
        """The records not yet loaded in this version; remembers them."""
        out = []
        for record in records:
            cursor = record.get(cursor_key)
            if cursor is None:
                out.append(record)
                continue
            ms = to_epoch_ms(cursor)
            if self.is_new(record[id_key], ms):
                self.remember(record[id_key], ms)
                out.append(record)
        return out

    def fresh_table(self, table: pa.Table, id_column: str, cursor_column: str) -> pa.Table:
        """The rows of an Arrow table not yet loaded in this version; remembers them.

        As :meth:`fresh`, with the cursor a timestamp column; only the rows that can be in the
        window (at or above the lowest remembered cursor or the new top minus the lag, and rows
        without a cursor) are looked at one by one, so a full load of millions of rows is not
        walked in Python. Rows below both were never remembered and fall out of the window.

        >>> from datetime import datetime, UTC
        >>> def t(*rows):
        ...     return pa.table({"id": [r[0] for r in rows], "at": pa.array(
        ...         [datetime.fromtimestamp(r[1], UTC) for r in rows], pa.timestamp("us", "UTC"))})
        >>> w = SeenWindow({}, lag_seconds=60)
        >>> w.fresh_table(t(("a", 0), ("b", 1000), ("c", 1030)), "id", "at")["id"].to_pylist()
        ['a', 'b', 'c']
        >>> sorted(w._seen), w.max_ms
        (['b', 'c'], 1030000)
        >>> w.fresh_table(t(("a", 0), ("b", 1000), ("c", 1031)), "id", "at")["id"].to_pylist()
        ['a', 'c']
        >>> w.fresh_table(t(("d", 5), ("d", 5), ("d", 6)), "id", "at")["id"].to_pylist()
        ['d', 'd']
        """
        if table.num_rows == 0:
            return table
        table = _first_of_each_version(table, id_column, cursor_column)
        ms = pc.divide(table.column(cursor_column).cast(pa.int64()), 1000)
        batch_top = pc.max(ms).as_py()
        if batch_top is not None and (self.max_ms is None or batch_top > self.max_ms):
            self._window["max_ms"] = batch_top
        top = self.max_ms
        threshold = top - self.lag_ms if top is not None else None
        if threshold is not None and self._seen:
            threshold = min(threshold, min(self._seen.values()))
        below = (pc.less(ms, threshold) if threshold is not None
                 else pa.nulls(table.num_rows, pa.bool_()))
        keep = pc.fill_null(below, False).to_numpy(zero_copy_only=False).copy()
        maybe = np.flatnonzero(~keep)
        if len(maybe):
            ids = table.column(id_column).take(pa.array(maybe)).to_pylist()
            cursors = ms.take(pa.array(maybe)).to_pylist()
            for index, record_id, cursor in zip(maybe, ids, cursors, strict=True):
                if cursor is None or self.is_new(record_id, cursor):
                    keep[index] = True
                    if cursor is not None:
                        self.remember(record_id, cursor)
        return table if keep.all() else table.filter(pa.array(keep))

    def prune(self) -> None:
        """Forget pairs that fell out of the window (call when the resource finishes)."""
        top = self.max_ms
        if top is None:
            return
        floor = top - self.lag_ms
        for key in [k for k, v in self._seen.items() if v < floor]:
            del self._seen[key]


def _first_of_each_version(table: pa.Table, id_column: str, cursor_column: str) -> pa.Table:
    """``table`` without rows repeating an earlier row's (id, cursor) (a page read twice).

    >>> t = pa.table({"id": ["a", "b", "a", "a"], "at": [1, 1, 1, 2]})
    >>> _first_of_each_version(t, "id", "at").to_pylist()  # doctest: +NORMALIZE_WHITESPACE
    [{'id': 'a', 'at': 1}, {'id': 'b', 'at': 1}, {'id': 'a', 'at': 2}]
    """
    ids = table.column(id_column)
    if pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    numbered = pa.table({"id": ids, "at": table.column(cursor_column),
                         "row": pa.array(np.arange(table.num_rows))})
    first = numbered.group_by(["id", "at"], use_threads=False).aggregate([("row", "min")])
    if first.num_rows == table.num_rows:
        return table
    return table.take(np.sort(first.column("row_min").to_numpy()))


def pages_with_window(pages: Iterable[list[dict[str, Any]]], window: SeenWindow, id_key: str,
                      cursor_key: str) -> Iterator[list[dict[str, Any]]]:
    """Filter each page through ``window``, skip empty pages, and prune when done."""
    try:
        for page in pages:
            kept = window.fresh(page, id_key, cursor_key)
            if kept:
                yield kept
    finally:
        window.prune()
