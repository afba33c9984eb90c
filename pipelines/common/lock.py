"""One extract of a system per warehouse at a time.

A DuckDB warehouse is one file that a single process may write, so two runs cannot overlap.
Postgres accepts both: two runs of one system (a scheduled Dagster run and a manual
``goldloop extract``, say) would then merge into the same raw tables and share one staging
schema, and a merge can fail half way through the run of the other. :func:`exclusive_extract`
takes a session-level Postgres advisory lock per system for the whole run; a second run fails at
once with a clear error instead.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from goldloop.errors import SourceError
from goldloop.settings import Settings
from goldloop.warehouse import connect, redact_dsn

LOCK_CLASS = 0x60_1D  # first key of goldloop's advisory locks ("goldloop" in hex-speak)


def lock_key(system: str) -> int:
    """The second (int4) key of a system's advisory lock: stable across processes.

    >>> lock_key("crm") == lock_key("crm") != lock_key("erp")
    True
    >>> 0 <= lock_key("shop") < 2**31
    True
    """
    return zlib.crc32(f"goldloop:extract:{system}".encode()) & 0x7FFF_FFFF


@contextmanager
def exclusive_extract(system: str, settings: Settings) -> Iterator[None]:
    """Hold the warehouse's extract lock of ``system`` (Postgres) while the block runs."""
    if settings.target != "postgres":
        yield
        return
    with connect(settings) as con:
        cursor = con.cursor()
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, lock_key(system)))
        if not cursor.fetchone()[0]:
            raise SourceError(
                f"{system}: another extract of {system} is loading into "
                f"{redact_dsn(settings.postgres_dsn)} right now",
                hint="wait for it to finish, then run again (Dagster runs share it too)")
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, lock_key(system)))
