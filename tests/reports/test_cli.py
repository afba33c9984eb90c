"""``goldloop report serve`` and ``goldloop report build`` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from goldloop.commands.report import app
from goldloop.errors import ConfigError
from tests.reports.conftest import ReportWorld, StaticSite, free_port

SERVE = "from goldloop.commands.report import app; app()"


def test_serve_answers_on_loopback(world: ReportWorld) -> None:
    port = free_port()
    env = {**os.environ, "GOLDLOOP_WAREHOUSE": str(world.warehouse)}
    env.pop("GOLDLOOP_REPORT_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--dbt-target",
         str(world.dbt_target)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/reconciliation", timeout=10)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "report serve did not answer"
                time.sleep(0.2)
        assert response.status_code == 200
        assert "Reconciliation · goldloop reports" in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert f"goldloop reports: http://127.0.0.1:{port}/" in output


def test_serve_refuses_an_open_address_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOLDLOOP_REPORT_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert isinstance(result.exception, ConfigError)
    assert "GOLDLOOP_REPORT_TOKEN is not set" in str(result.exception)


def test_build_writes_a_site_that_opens_from_disk(static_site: StaticSite) -> None:
    out = static_site.out
    assert f"open {(out / 'index.html').resolve().as_uri()}" in static_site.output
    index = (out / "index.html").read_text()
    assert 'href="reconciliation.html"' in index
    assert not re.search(r'(href|src)="(https?:)?//', index)  # nothing off the disk
    assert (out / "csv" / "breaks.csv").read_text().startswith("break_kind,system,record_id")
    pages = {p.name for p in out.glob("*.html")}
    assert {"customers.html", "conflicts.html", "quality.html", "compliance.html",
            "dictionary.html", "reconciliation--kind-duplicate_invoice.html"} <= pages


def _free_port_in_range(first: int = 19740, last: int = 19799) -> int:
    """A free port of the range this project's report tests use."""
    import socket

    for port in range(first, last + 1):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {first}-{last}")


def test_serve_in_the_background_then_stop(world: ReportWorld, tmp_path: Path) -> None:
    port = _free_port_in_range()
    state = tmp_path / "state"
    env = {**os.environ, "GOLDLOOP_WAREHOUSE": str(world.warehouse)}
    env.pop("GOLDLOOP_REPORT_TOKEN", None)

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "goldloop.cli", "report", *args,
                               "--state-dir", str(state)], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    started = report("serve", "--background", "--port", str(port), "--dbt-target",
                     str(world.dbt_target))
    url = f"http://127.0.0.1:{port}/"
    try:
        assert started.returncode == 0, started.stderr
        assert f"goldloop reports: {url}" in started.stdout
        assert "started in the background" in started.stdout
        pid = json.loads((state / "report-server.json").read_text())["pid"]
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200 and "Overview · goldloop reports" in response.text
        again = report("serve", "--background", "--port", str(port))
        assert again.returncode == 0, again.stderr
        assert f"goldloop reports: {url}" in again.stdout
        assert f"already running, pid {pid}" in again.stdout
    finally:
        stopped = report("stop")
    assert stopped.returncode == 0
    assert f"stopped the server on {url} (pid {pid})" in stopped.stdout
    assert not (state / "report-server.json").exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=5)
    assert "no background server is running" in report("stop").stdout


def test_background_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    from reports.background import start

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", _free_port_in_range(19700, 19739)))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} on 127.0.0.1 is already in use"):
            start(tmp_path / "state", port=port)
    assert not (tmp_path / "state" / "report-server.json").exists()


def test_a_stale_pid_file_is_not_a_running_server(tmp_path: Path) -> None:
    from reports.background import running

    state = tmp_path / "state"
    state.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (state / "report-server.json").write_text(json.dumps({
        "pid": int(dead.stdout), "host": "127.0.0.1", "port": 1, "url": "http://x/",
        "log": "x", "started_at": "2026-01-01T00:00:00+00:00"}))
    assert running(state) is None
    assert not (state / "report-server.json").exists()
