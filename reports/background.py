"""The report server as a background process: ``goldloop report serve --background`` / ``stop``.

The server runs detached (its own session, so closing the terminal or ending ``make demo`` does
not stop it), logs to ``<state dir>/report-server.log`` and is described by
``<state dir>/report-server.json`` (pid, host, port, URL). Starting again while it runs only
returns the running server; stopping checks the pid still belongs to a report server before
signalling it, so a stale file never stops somebody else's process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from goldloop.errors import ConfigError, GoldloopError
from goldloop.processes import pid_alive

DEFAULT_STATE_DIR = Path(".goldloop")
STATE_FILE = "report-server.json"
LOG_FILE = "report-server.log"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Server:
    """A report server running in the background."""

    pid: int
    host: str
    port: int
    url: str
    log: str
    started_at: str


def server_url(host: str, port: int) -> str:
    """The URL to open for a server listening on ``host:port`` (any-address as loopback).

    >>> server_url("127.0.0.1", 8780), server_url("::1", 8780), server_url("0.0.0.0", 80)
    ('http://127.0.0.1:8780/', 'http://[::1]:8780/', 'http://127.0.0.1:80/')
    """
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


    return True


def _is_report_server(pid: int) -> bool:
    """Whether ``pid`` runs ``goldloop report serve`` (where the OS says; else assume so)."""
    if not Path("/proc").is_dir():
        return True  # no /proc (macOS): trust the state file
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return b"report" in args and b"serve" in args


def running(state_dir: Path = DEFAULT_STATE_DIR) -> Server | None:
    """The background report server of ``state_dir``, if one runs (a stale file is removed)."""
    path = state_dir / STATE_FILE
    try:
        server = Server(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: nothing we can stop safely
        return None
    if pid_alive(server.pid) and _is_report_server(server.pid):
        return server
    path.unlink(missing_ok=True)
    return None


def _port_taken(host: str, port: int) -> bool:
    """Whether something accepts connections on ``host:port`` (any-address: on loopback)."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host.strip("[]"))
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((target, port)) == 0


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(state_dir: Path = DEFAULT_STATE_DIR, *, host: str = "127.0.0.1", port: int = 8780,
          dbt_target: Path | None = None,
          timeout: float = START_TIMEOUT) -> tuple[Server, bool]:
    """Start ``goldloop report serve`` detached, or find the one already running.

    Returns the server and whether this call started it. The server inherits this process's
    environment (warehouse settings, ``GOLDLOOP_REPORT_TOKEN``) and working directory.
    Raises :class:`ConfigError` when the port is taken by something else, and
    :class:`GoldloopError` (with the log's last lines) when the server does not come up.
    """
    found = running(state_dir)
    if found is not None:
        return found, False
    if _port_taken(host, port):
        raise ConfigError(f"port {port} on {host} is already in use by another program",
                          hint="pick another one with --port, or stop what listens there")
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / LOG_FILE
    command = [sys.executable, "-m", "goldloop.cli", "report", "serve", "--host", host,
               "--port", str(port)]
    if dbt_target is not None:
        command += ["--dbt-target", str(dbt_target.resolve())]
    with log.open("w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(pid=process.pid, host=host, port=port, url=server_url(host, port),
                    log=str(log.resolve()), started_at=datetime.now(UTC).isoformat())
    deadline = time.monotonic() + timeout
    while not _port_taken(host, port):
        if process.poll() is not None:
            raise GoldloopError(f"the report server stopped at once:\n{_log_tail(log)}",
                                hint=f"read {log}")
        if time.monotonic() > deadline:
            _terminate(process.pid)
            raise GoldloopError(f"the report server did not answer on {server.url} within "
                                f"{timeout:.0f} s:\n{_log_tail(log)}", hint=f"read {log}")
        time.sleep(0.1)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(server), indent=2) + "\n")
    return server, True


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the server's process group, SIGKILL it if it is still there after ``timeout``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return


def stop(state_dir: Path = DEFAULT_STATE_DIR) -> Server | None:
    """Stop the background report server of ``state_dir``; the one stopped, or ``None``."""
    server = running(state_dir)
    if server is None:
        return None
    _terminate(server.pid)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return server
