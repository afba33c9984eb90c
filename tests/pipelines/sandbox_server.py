"""Serve one seeded sandbox emulator on a free loopback port for pipeline tests.

The connectors are tested the way they run: real HTTP to ``127.0.0.1`` (uvicorn in a thread),
credentials through dlt's env-var secrets, a DuckDB warehouse in ``tmp_path``.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from sandbox.config import Credentials, Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.serve import build_app
from sandbox.store import Store
from sandbox.world.model import World


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def small_world(system: str, customers: int = 500, seed: int = 1) -> World:
    """The generated world when the generator exists, else the emulator's own sample world."""
    try:
        from sandbox.world.generate import generate
    except ImportError:
        if system == "hr":
            from sandbox.hr.sample import sample_world

            return sample_world(60)
        from tests.sandbox.test_crm_seed import small_world as crm_world

        return crm_world(150)
    return generate(customers, seed=seed)


@dataclass
class RunningSystem:
    """One emulator answering on ``base_url`` (the connector's base URL for the system)."""

    system: str
    ctx: SystemContext
    root: str
    base_url: str
    credentials: Credentials
    arrivals: list[float]  # monotonic arrival time of every vendor request
    requests: list[httpx.Request]  # every vendor request as sent (for spec checks)

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call a ``/_sandbox/...`` endpoint and return its JSON."""
        response = httpx.request(method, f"{self.root}/_sandbox/{path}", json=json, timeout=30)
        response.raise_for_status()
        return response.json()

    def counts(self) -> dict[str, dict[str, int]]:
        """``{object: {"total": n, "archived": m}}`` from the emulator's store."""
        result: dict[str, dict[str, int]] = self.admin("GET", "counts")
        return result

    def faults(self, **knobs: Any) -> None:
        self.admin("POST", "faults", knobs)

    def mutate(self, fraction: float = 0.01, seed: int = 7) -> dict[str, int]:
        result: dict[str, int] = self.admin("POST", "mutate", {"fraction": fraction,
                                                               "seed": seed})
        return result


Rewrite = Callable[[str, str, bytes], bytes]
"""(path, query string, response body) -> the body to send instead."""


def _rewriting(send: Any, path: str, query: str, rewrite: Rewrite) -> Any:
    """An ASGI ``send`` that buffers the response and sends ``rewrite``'s body instead."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = rewrite(path, query, b"".join(chunks))
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped


@contextmanager
def serve_system(system: str, world: World, data_dir: Path, *,
                 limits: Limits | None = None,
                 rewrite: Rewrite | None = None) -> Iterator[RunningSystem]:
    """Seed ``system`` from ``world`` into ``data_dir`` and serve it until the block ends.

    ``rewrite`` edits every vendor response body (not ``/_sandbox``) before it is sent: a way
    to make the emulator misbehave as the real vendor may (e.g. serve a record twice).
    """
    port = free_port()
    config = SandboxConfig(limits=limits or Limits(enabled=False),
                           ports={"crm": port, "erp": port, "shop": port, "hr": port})
    store = Store(data_dir / f"{system}.sqlite")
    importlib.import_module(f"sandbox.{system}.seed").seed(world, store)
    ctx = SystemContext(system, data_dir, config, store)
    arrivals: list[float] = []
    captured: list[httpx.Request] = []
    app = build_app(ctx)

    async def timed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await app(scope, receive, send)
            return
        arrivals.append(time.monotonic())
        chunks: list[bytes] = []
        more = True
        while more:  # read the body here, then replay it to the app
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode()
        captured.append(httpx.Request(
            scope["method"], f"http://127.0.0.1:{port}{scope['path']}" + (f"?{query}" if query
                                                                         else ""),
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]], content=body))
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        out = send if rewrite is None else _rewriting(send, scope["path"], query, rewrite)
        await app(scope, replay, out)

    server = uvicorn.Server(uvicorn.Config(timed, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name=f"sandbox-{system}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the {system} emulator did not start on port {port}")
        time.sleep(0.02)
    try:
        yield RunningSystem(system, ctx, f"http://127.0.0.1:{port}", config.base_url(system),
                            config.credentials, arrivals, captured)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
