"""When to list HubSpot's archived records: on the first run, then on a cadence.

HubSpot's search never returns archived records, and ``archived=true`` lists cannot be filtered
by time: seeing deletes means listing every archived record of an object, which on a large
account is most of an incremental run's requests. The connector therefore sweeps the archived
lists on the first run (and after a full refresh, which drops the resource state), then once every
``archived_sweep_every_hours`` (default 24). A record archived between sweeps stays live in the
warehouse until the next sweep flags it; ``archived_sweep = true`` forces a sweep on every run,
``false`` turns it off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

DEFAULT_SWEEP_EVERY_HOURS = 24.0
LAST_SWEEP = "last_archived_sweep_at"


def sweep_due(state: dict[str, Any], forced: bool | None, every_hours: float,
              now: datetime) -> bool:
    """Whether this run lists the archived records.

    >>> from datetime import UTC
    >>> now = datetime(2026, 1, 2, tzinfo=UTC)
    >>> sweep_due({}, None, 24, now), sweep_due({}, False, 24, now)
    (True, False)
    >>> swept = {LAST_SWEEP: "2026-01-01T12:00:00+00:00"}
    >>> sweep_due(swept, None, 24, now), sweep_due(swept, None, 6, now)
    (False, True)
    >>> sweep_due(swept, True, 24, now), sweep_due(swept, None, 0, now)
    (True, True)
    """
    if forced is not None:
        return forced
    last = state.get(LAST_SWEEP)
    if last is None:
        return True
    return now - datetime.fromisoformat(last) >= timedelta(hours=max(every_hours, 0.0))


def mark_swept(state: dict[str, Any], at: datetime) -> None:
    """Remember that a sweep started at ``at`` (kept in the resource's dlt state).

    >>> from datetime import UTC
    >>> state: dict[str, Any] = {}
    >>> mark_swept(state, datetime(2026, 1, 1, tzinfo=UTC)); state[LAST_SWEEP]
    '2026-01-01T00:00:00+00:00'
    """
    state[LAST_SWEEP] = at.isoformat()
