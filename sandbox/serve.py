"""Run the four emulators in one background process: ``python -m sandbox.serve --data-dir DIR``.

Each system package provides ``app.create_app(ctx)``, ``app.ERROR_BODY`` (its 5xx body),
``app.DRIFT_FIELD`` (the field schema drift edits) and ``mutate.mutate(ctx, fraction, rng)``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from sandbox.admin import mount_admin
from sandbox.config import SYSTEMS, SandboxConfig
from sandbox.context import SystemContext
from sandbox.faults import FaultMiddleware


def build_app(ctx: SystemContext) -> ASGIApp:
    """The full ASGI app of one system: vendor routes + admin routes, behind the fault knobs."""
    app_module = importlib.import_module(f"sandbox.{ctx.system}.app")
    mutate_module = importlib.import_module(f"sandbox.{ctx.system}.mutate")
    app = app_module.create_app(ctx)
    mount_admin(app, ctx, mutate_module.mutate)
    return FaultMiddleware(app, ctx.state, app_module.DRIFT_FIELD, app_module.ERROR_BODY)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`serve` (which stops all four at once)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(data_dir: Path, systems: tuple[str, ...] = SYSTEMS) -> None:
    """Serve every system of ``data_dir`` until SIGTERM/SIGINT stops them all."""
    config = SandboxConfig.load(data_dir)
    servers: list[uvicorn.Server] = []
    for system in systems:
        ctx = SystemContext.open(system, data_dir, config)
        uv_config = uvicorn.Config(
            build_app(ctx), host=config.host, port=config.ports[system],
            log_level="warning", access_log=False, timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )
        servers.append(_Server(uv_config))

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description="goldloop sandbox: the four emulators")
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(args.data_dir))


if __name__ == "__main__":
    main()
