"""What one emulator gets to work with: its store, its config, its fault state, its webhooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sandbox.config import Limits, SandboxConfig
from sandbox.faults import Faults
from sandbox.store import Store
from sandbox.webhooks import send_in_background

M = TypeVar("M")


@dataclass
class SystemContext:
    """Shared by an emulator's handlers, its admin endpoints and its mutate function."""

    system: str
    data_dir: Path
    config: SandboxConfig
    store: Store
    state: dict[str, Any] = field(default_factory=lambda: {"faults": Faults()})
    _meters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, system: str, data_dir: Path, config: SandboxConfig) -> SystemContext:
        return cls(system, data_dir, config, Store(data_dir / f"{system}.sqlite"))

    @property
    def limits(self) -> Limits:
        return self.config.limits

    def set_limits(self, limits: Limits) -> None:
        """Replace the limits at run time (meters restart empty)."""
        self.config = self.config.model_copy(update={"limits": limits})
        self._meters.clear()

    def meter(self, name: str, factory: Callable[[Limits], M]) -> M:
        """A rate meter built from the current limits, kept until they change."""
        if name not in self._meters:
            self._meters[name] = factory(self.limits)
        return self._meters[name]  # type: ignore[no-any-return]

    def emit_webhook(self, body: bytes, headers: Mapping[str, str], path: str = "") -> bool:
        """Send a signed webhook to the configured URL (if any) without waiting for it."""
        url = self.state.get("webhook_url") or self.config.webhook_url
        if not url:
            return False
        send_in_background(url.rstrip("/") + path, body, headers)
        return True
