"""``goldloop report serve`` and ``goldloop report build`` as a user runs them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

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
