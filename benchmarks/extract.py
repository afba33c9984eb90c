"""Extract + load speed against the raw-fetch floor, incremental cost, and pace under limits.

Each extract runs in a child process (peak RSS is the child's ``ru_maxrss``) that records every
HTTP request it sends. The floor replays exactly those requests with a plain keep-alive session
and decodes the JSON, storing nothing: the same pages, with no dlt, measured in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import requests

from benchmarks.harness import Figure, Timer
from sandbox import control
from sandbox.config import SandboxConfig

BENCH_PORTS = {"crm": 18301, "erp": 18302, "shop": 18303, "hr": 18304}

_CHILD = r"""
import json, sys, threading, time, resource
import requests
log = open(sys.argv[2], "w")
lock = threading.Lock()
_send = requests.Session.send
def send(self, request, **kw):
    line = json.dumps([request.method, request.url, dict(request.headers),
                       (request.body.decode() if isinstance(request.body, bytes)
                        else request.body), time.time()]) + "\n"
    with lock:
        log.write(line)
    return _send(self, request, **kw)
requests.Session.send = send
from goldloop.settings import load_settings
from pipelines.run import extract_system
t = time.perf_counter()
summary = extract_system(sys.argv[1], settings=load_settings(),
                         full_refresh=sys.argv[3] == "full")
wall = time.perf_counter() - t
log.close()
print(json.dumps({"wall": wall, "rows": summary.rows_loaded, "requests": summary.requests,
                  "retries": summary.retries, "throttled": summary.throttled,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def sandbox_env(config: SandboxConfig, warehouse: Path, *, unlimited: bool) -> dict[str, str]:
    """Environment that points every connector at the sandbox of ``config``."""
    creds = config.credentials
    env = {
        "GOLDLOOP_TARGET": "duckdb",
        "GOLDLOOP_WAREHOUSE": str(warehouse),
        "SOURCES__CRM__BASE_URL": config.base_url("crm"),
        "SOURCES__CRM__ACCESS_TOKEN": creds.crm_token,
        "SOURCES__ERP__BASE_URL": config.base_url("erp"),
        "SOURCES__ERP__CONNECTIONS_URL": f"http://{config.host}:{config.ports['erp']}/connections",
        "SOURCES__ERP__ACCESS_TOKEN": creds.erp_token,
        "SOURCES__ERP__TENANT_ID": creds.erp_tenant_id,
        "SOURCES__SHOP__SHOPS": json.dumps(
            [{"name": s, "base_url": config.base_url("shop", s)} for s in creds.shop_tokens]),
        "SOURCES__SHOP__ACCESS_TOKENS": json.dumps(creds.shop_tokens),
        "SOURCES__HR__BASE_URL": config.base_url("hr"),
        "SOURCES__HR__API_KEY": creds.hr_api_key,
    }
    if unlimited:
        for system in ("CRM", "ERP", "SHOP", "HR"):
            env[f"SOURCES__{system}__REQUESTS_PER_SECOND"] = "0"
        env["SOURCES__CRM__SEARCH_REQUESTS_PER_SECOND"] = "0"
    return env


def run_extract(system: str, env: dict[str, str], log: Path, *, full: bool,
                cwd: Path) -> dict[str, Any]:
    """One extract in a child process; returns its figures (wall, rows, requests, rss_mb)."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, system, str(log), "full" if full else "incremental"],
        env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True, timeout=7200,
    )
    if out.returncode != 0:
        raise RuntimeError(f"extract {system} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def replay_floor(log: Path) -> tuple[float, int]:
    """Replay the recorded requests with a plain session, JSON-decoding each body."""
    calls = [call for call in (json.loads(line) for line in log.read_text().splitlines() if line)
             if call[1].startswith("http://127.0.0.1")]
    session = requests.Session()
    with Timer() as t:
        for method, url, headers, body, _sent in calls:
            resp = session.request(method, url, headers=headers, data=body)
            if resp.content:
                resp.json()
    return t.seconds, len(calls)


def _start(data_dir: Path, customers: int, limits: bool) -> SandboxConfig:
    return control.up(data_dir, customers=customers, seed=7, ports=BENCH_PORTS,
                      limits_enabled=limits, timeout=600)


def _set_limits(config: SandboxConfig, enabled: bool) -> None:
    for system in config.ports:
        limits = config.limits.model_copy(update={"enabled": enabled}).model_dump()
        httpx.post(f"http://{config.host}:{config.ports[system]}/_sandbox/limits", json=limits,
                   timeout=10).raise_for_status()


def run_systems(customers: int, systems: tuple[str, ...] = ("crm", "erp", "shop", "hr"),
                sandbox_dir: Path | None = None) -> list[Figure]:
    """Full extract vs floor per system, then 1 % mutate and the incremental run.

    ``sandbox_dir``: reuse an already seeded world (a 1M world takes minutes to seed).
    """
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if sandbox_dir is not None:
            (root / "sandbox").symlink_to(sandbox_dir.resolve())
        config = _start(root / "sandbox", customers, limits=False)
        _set_limits(config, enabled=False)
        try:
            env = sandbox_env(config, root / "wh.duckdb", unlimited=True)
            fulls: dict[str, dict[str, Any]] = {}
            for system in systems:
                full = run_extract(system, env, root / f"{system}.log", full=True, cwd=root)
                floor, calls = replay_floor(root / f"{system}.log")
                fulls[system] = full
                name = f"extract {system} {customers:,}"
                figures += [
                    Figure(name, "full wall", full["wall"], "s", full["wall"] / floor,
                           f"raw-fetch floor {floor:.1f}s ({calls} requests)"),
                    Figure(name, "rows/s", full["rows"] / full["wall"], "1/s",
                           note=f"{full['rows']:,} rows"),
                    Figure(name, "requests", full["requests"], "requests"),
                    Figure(name, "peak RSS", full["rss_mb"], "MiB"),
                ]
            control.mutate(root / "sandbox", 0.01, seed=3)
            for system in systems:
                inc = run_extract(system, env, root / f"{system}.inc.log", full=False, cwd=root)
                full = fulls[system]
                name = f"incremental {system} (1% changed)"
                figures += [
                    Figure(name, "wall", inc["wall"], "s", inc["wall"] / full["wall"],
                           "full run wall"),
                    Figure(name, "requests", inc["requests"], "requests",
                           inc["requests"] / max(full["requests"], 1), "full run requests"),
                    Figure(name, "rows", inc["rows"], "rows"),
                ]
        finally:
            control.down(root / "sandbox")
    return figures


def run_pace(customers: int, systems: tuple[str, ...] = ("crm", "erp")) -> list[Figure]:
    """Full extracts with the published limits on: achieved request rate vs the allowed rate."""
    allowed = {"crm": 19.0, "erp": 1.0, "shop": 2.0, "hr": 10.0}
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = _start(root / "sandbox", customers, limits=True)
        try:
            env = sandbox_env(config, root / "wh.duckdb", unlimited=False)
            for system in systems:
                time.sleep(config.limits.crm_interval_ms / 1000 if system == "crm" else 1)
                log = root / f"{system}.log"
                result = run_extract(system, env, log, full=True, cwd=root)
                sent = [json.loads(line)[4] for line in log.read_text().splitlines() if line]
                rate = (len(sent) - 1) / max(sent[-1] - sent[0], 1e-9)
                figures += [
                    Figure(f"pace {system}", "requests/s", rate, "1/s", rate / allowed[system],
                           f"published limit {allowed[system]}/s",
                           note=f"{result['requests']} requests, {result['throttled']} x 429"),
                ]
        finally:
            control.down(root / "sandbox")
    return figures


