"""The lag window as a row filter: a declarative resource's step that skips already-loaded rows.

Shopify lists come in id order, not change order, so the window cannot be pruned page by page
while an incremental run reads it (a pruned pair could still be met later in the run). It is
pruned when a run starts (against the previous run's newest change) and, during a first full load
only, every few thousand rows.
"""

from __future__ import annotations

from typing import Any

import dlt

from pipelines.common.incremental import SeenWindow, to_epoch_ms

PRUNE_EVERY_ROWS = 5000


class WindowFilter:
    """``filter`` step of one resource: True for rows not loaded before in this version.

    Binds to the resource's dlt state on the first row of each run.
    """

    def __init__(self, resource_name: str, id_key: str, cursor_key: str,
                 lag_seconds: float) -> None:
        self.resource_name = resource_name
        self.id_key = id_key
        self.cursor_key = cursor_key
        self.lag_seconds = lag_seconds
        self._state: dict[str, Any] | None = None
        self._window: SeenWindow | None = None
        self._first_load = False
        self._since_prune = 0

    def _bind(self) -> SeenWindow:
        state = dlt.current.resource_state(self.resource_name)
        if self._window is None or state is not self._state:
            self._state = state
            self._window = SeenWindow(state, self.lag_seconds)
            self._first_load = self._window.max_ms is None
            self._window.prune()
            self._since_prune = 0
        return self._window

    def __call__(self, row: dict[str, Any]) -> bool:
        window = self._bind()
        cursor = row.get(self.cursor_key)
        if cursor is None:
            return True
        ms = to_epoch_ms(cursor)
        if not window.is_new(row[self.id_key], ms):
            return False
        window.remember(row[self.id_key], ms)
        self._since_prune += 1
        if self._first_load and self._since_prune >= PRUNE_EVERY_ROWS:
            window.prune()  # nothing was loaded before: no earlier pair can be met again
            self._since_prune = 0
        return True
