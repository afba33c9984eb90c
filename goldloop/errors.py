"""The one root exception of goldloop and its few subclasses.

Every message says what was wrong, where (file, line, record key) and what to do about it.
"""

from __future__ import annotations


class GoldloopError(Exception):
    """Root of every error goldloop raises on purpose.

    >>> str(GoldloopError("bad thing", hint="do this"))
    'bad thing (fix: do this)'
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (fix: {hint})" if hint else message)


class ConfigError(GoldloopError):
    """A setting, a sync spec or a command-line option is invalid."""


class SandboxError(GoldloopError):
    """The local sandbox could not be started, reached or seeded."""


class SourceError(GoldloopError):
    """An operational system answered in a way the connector cannot use."""


class WarehouseError(GoldloopError):
    """The warehouse could not be reached or holds unexpected data."""


class SyncError(GoldloopError):
    """A reverse-ETL sync could not plan or run."""
