"""Retries with backoff on transient failures; none on failures a retry cannot fix.

A step that fails for a transient reason (a timeout, a 5xx, a 429 that outlasted the
connector's own retries, a locked warehouse) is retried by Dagster with exponential backoff.
A configuration or permission problem fails at once with the fix in the message.
"""

from __future__ import annotations

from collections.abc import Iterator

from dagster import Backoff, Failure, Jitter, RetryPolicy

from goldloop.errors import ConfigError, GoldloopError

EXTRACT_RETRY = RetryPolicy(max_retries=3, delay=15, backoff=Backoff.EXPONENTIAL,
                            jitter=Jitter.PLUS_MINUS)
SYNC_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL,
                         jitter=Jitter.PLUS_MINUS)

_PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 422})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "exception", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the step may help.

    >>> is_transient(ConfigError("bad setting"))
    False
    >>> is_transient(TimeoutError("read timed out"))
    True
    """
    for current in _chain(exc):
        if isinstance(current, ConfigError):
            return False
        if type(current).__name__ == "ConfigFieldMissingException":
            return False
        response = getattr(current, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and status in _PERMANENT_STATUSES:
            return False
    return True


def as_failure(exc: GoldloopError) -> Failure:
    """A Dagster failure that shows goldloop's message and fix, retried only when transient."""
    return Failure(description=str(exc), allow_retries=is_transient(exc),
                   metadata={"error": type(exc).__name__, "fix": exc.hint or ""})
