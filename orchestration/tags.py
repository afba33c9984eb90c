"""Run tags goldloop reads and writes (shown in the Dagster UI's run list)."""

from __future__ import annotations

from collections.abc import Mapping

FULL_REFRESH = "goldloop/full_refresh"  # "true": every dlt source reloads from scratch
TRIGGER = "goldloop/trigger"  # schedule | webhook | backfill | manual
SYSTEM = "goldloop/system"  # the system a webhook run is for
EVENTS = "goldloop/webhook_events"  # how many inbox events a webhook run covers


def is_full_refresh(tags: Mapping[str, str]) -> bool:
    """Whether a run's tags ask for a full refresh.

    >>> is_full_refresh({FULL_REFRESH: "true"}), is_full_refresh({})
    (True, False)
    """
    return tags.get(FULL_REFRESH, "").lower() in ("true", "1", "yes")
