"""Extract + load speed against the raw-fetch floor, incremental cost, and pace under limits.

Each extract runs in a child process (peak RSS is the child's ``ru_maxrss``) that records every
HTTP request it sends. The floor replays exactly those requests with a plain keep-alive session
and decodes the JSON, storing nothing: the same pages, with no dlt, measured in the same run.

    python -m benchmarks.extract --systems crm --customers 100000 --sandbox-dir DIR \
        --ports 19501 --work-dir /tmp/x [--no-incremental] [--profile] [--pace]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import requests

from benchmarks.harness import Figure, Timer, render, save
from sandbox import control
from sandbox.config import SandboxConfig

BENCH_PORTS = {"crm": 18301, "erp": 18302, "shop": 18303, "hr": 18304}

_CHILD = r"""
import json, os, sys, threading, time, resource
from datetime import datetime
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
import dlt
phases = {}
for step in ("extract", "normalize", "load"):
    original = getattr(dlt.Pipeline, step)
    def timed(self, *a, __step=step, __original=original, **kw):
        began = time.perf_counter()
        try:
            return __original(self, *a, **kw)
        finally:
            phases[__step] = phases.get(__step, 0.0) + time.perf_counter() - began
    setattr(dlt.Pipeline, step, timed)
profile_to = sys.argv[4] if len(sys.argv) > 4 else ""
if profile_to:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
t = time.perf_counter()
start = os.environ.get("GOLDLOOP_BENCH_START")
summary = extract_system(sys.argv[1], settings=load_settings(),
                         full_refresh=sys.argv[3] == "full",
                         start=datetime.fromisoformat(start) if start else None)
wall = time.perf_counter() - t
if profile_to:
    profiler.disable()
    profiler.dump_stats(profile_to)
log.close()
print(json.dumps({"wall": wall, "rows": summary.rows_loaded, "requests": summary.requests,
                  "retries": summary.retries, "throttled": summary.throttled,
                  "phases": phases,
                  "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu,
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
        # as the project's .dlt/config.toml says (the child runs outside the project folder)
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    if unlimited:
        for system in ("CRM", "ERP", "SHOP", "HR"):
            env[f"SOURCES__{system}__REQUESTS_PER_SECOND"] = "0"
        env["SOURCES__CRM__SEARCH_REQUESTS_PER_SECOND"] = "0"
    return env


def run_extract(system: str, env: dict[str, str], log: Path, *, full: bool,
                cwd: Path, profile: Path | None = None) -> dict[str, Any]:
    """One extract in a child process; returns its figures (wall, rows, requests, rss_mb,
    phases: seconds spent in dlt's extract, normalize and load). ``profile``: write the child's
    cProfile stats (main thread) there."""
    args = [sys.executable, "-c", _CHILD, system, str(log), "full" if full else "incremental"]
    if profile is not None:
        args.append(str(profile))
    out = subprocess.run(args, env={**os.environ, **env}, cwd=cwd, capture_output=True,
                         text=True, timeout=7200)
    if out.returncode != 0:
        raise RuntimeError(f"extract {system} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def recorded_calls(log: Path) -> list[list[Any]]:
    """The vendor requests an extract sent (method, url, headers, body, unix time)."""
    return [call for call in (json.loads(line) for line in log.read_text().splitlines() if line)
            if call[1].startswith("http://127.0.0.1")]


def replay_floor(log: Path) -> tuple[float, int]:
    """Replay the recorded requests with a plain session, JSON-decoding each body."""
    seconds, calls, _cpu = replay_floor_cpu(log)
    return seconds, calls


def replay_floor_cpu(log: Path) -> tuple[float, int, float]:
    """:func:`replay_floor`, also returning the CPU seconds the replaying client used."""
    calls = recorded_calls(log)
    session = requests.Session()
    cpu = time.process_time()
    with Timer() as t:
        for method, url, headers, body, _sent in calls:
            resp = session.request(method, url, headers=headers, data=body)
            if resp.content:
                resp.json()
    return t.seconds, len(calls), time.process_time() - cpu


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when unknown (not Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's 1-minute load average (0 where the OS does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def _loads(run: dict[str, Any]) -> str:
    """The 1-minute load averages noted after a run's extract and its floor.

    >>> _loads({"load_extract": 3.14, "load_floor": 2.0})
    '1-min load 3.1 after the extract, 2.0 after the floor'
    >>> _loads({"load_extract": 1.0})
    '1-min load 1.0 after the extract'
    """
    text = f"1-min load {run.get('load_extract', 0.0):.1f} after the extract"
    if "load_floor" in run:
        text += f", {run['load_floor']:.1f} after the floor"
    return text


def achieved_rate(times: list[float]) -> float:
    """Requests per second between the first and the last request sent.

    >>> achieved_rate([0.0, 0.5, 1.0, 2.0])
    1.5
    """
    if len(times) < 2:
        return 0.0
    ordered = sorted(times)
    return (len(ordered) - 1) / max(ordered[-1] - ordered[0], 1e-9)


def _start(data_dir: Path, customers: int, limits: bool,
           ports: dict[str, int] | None = None) -> SandboxConfig:
    return control.up(data_dir, customers=customers, seed=7, ports=ports or BENCH_PORTS,
                      limits_enabled=limits, timeout=600)


def _set_limits(config: SandboxConfig, enabled: bool) -> None:
    for system in config.ports:
        limits = config.limits.model_copy(update={"enabled": enabled}).model_dump()
        httpx.post(f"http://{config.host}:{config.ports[system]}/_sandbox/limits", json=limits,
                   timeout=10).raise_for_status()


@contextmanager
def _workspace(work_dir: Path | None) -> Iterator[Path]:
    """``work_dir`` (emptied of an earlier run's warehouse and logs) or a temporary folder."""
    if work_dir is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp)
        return
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    yield work_dir


def _sandbox_at(root: Path, sandbox_dir: Path | None) -> Path:
    """Where the world lives: a link to an already seeded ``sandbox_dir``, else a new folder."""
    if sandbox_dir is not None:
        (root / "sandbox").symlink_to(sandbox_dir.resolve())
    return root / "sandbox"


def run_systems(customers: int, systems: tuple[str, ...] = ("crm", "erp", "shop", "hr"),
                sandbox_dir: Path | None = None, *, ports: dict[str, int] | None = None,
                work_dir: Path | None = None, incremental: bool = True,
                profile: bool = False, repeat: int = 1) -> list[Figure]:
    """Full extract vs floor per system, then 1 % mutate and the incremental run.

    ``sandbox_dir``: reuse an already seeded world (a 1M world takes minutes to seed; note that
    the incremental part mutates it). ``work_dir``: keep warehouse, request logs and profiles.
    ``repeat``: pairs of (full extract, floor) per system (later ones full refreshes); the
    figure is the median pair, every pair's ratio in the note (a shared machine is noisy).
    """
    figures: list[Figure] = []
    with _workspace(work_dir) as root:
        data_dir = _sandbox_at(root, sandbox_dir)
        running = control.running_pid(data_dir) is not None  # left up for the next run
        config = _start(data_dir, customers, limits=False, ports=ports)
        _set_limits(config, enabled=False)
        try:
            env = sandbox_env(config, root / "wh.duckdb", unlimited=True)
            fulls: dict[str, dict[str, Any]] = {}
            server = control.running_pid(data_dir)
            for system in systems:
                pairs = []
                for attempt in range(max(repeat, 1)):
                    served = process_cpu(server)
                    log = root / f"{system}.{attempt}.log"
                    run = run_extract(system, env, log, full=True, cwd=root,
                                      profile=root / f"{system}.prof" if profile else None)
                    served_extract = process_cpu(server) - served
                    run["load_extract"] = load_average()
                    floor, calls, floor_cpu = replay_floor_cpu(log)
                    served_floor = process_cpu(server) - served - served_extract
                    run["load_floor"] = load_average()
                    pairs.append((run["wall"] / floor, run, floor, calls, floor_cpu,
                                  served_extract, served_floor))
                pairs.sort(key=lambda pair: pair[0])
                ratio, full, floor, calls, floor_cpu, served_extract, served_floor = (
                    pairs[len(pairs) // 2])
                fulls[system] = full
                name = f"extract {system} {customers:,}"
                phases = ", ".join(f"{k} {v:.1f}s" for k, v in full.get("phases", {}).items())
                phases += f"; {_loads(full)}"
                if len(pairs) > 1:
                    phases += "; ratios " + ", ".join(f"{pair[0]:.2f} ({_loads(pair[1])})"
                                                      for pair in pairs)
                figures += [
                    Figure(name, "full wall", full["wall"], "s", ratio,
                           f"raw-fetch floor {floor:.1f}s ({calls} requests)", note=phases),
                    Figure(name, "client CPU", full["cpu"], "s", full["cpu"] / max(floor_cpu, 1e-9),
                           f"floor client CPU {floor_cpu:.1f}s"),
                    Figure(name, "server CPU", served_extract, "s",
                           served_extract / max(served_floor, 1e-9),
                           f"server CPU during the floor {served_floor:.1f}s"),
                    Figure(name, "rows/s", full["rows"] / full["wall"], "1/s",
                           note=f"{full['rows']:,} rows"),
                    Figure(name, "requests", full["requests"], "requests"),
                    Figure(name, "peak RSS", full["rss_mb"], "MiB"),
                ]
            if incremental:
                control.mutate(data_dir, 0.01, seed=3)
                for system in systems:
                    inc = run_extract(system, env, root / f"{system}.inc.log", full=False,
                                      cwd=root)
                    inc["load_extract"] = load_average()
                    full = fulls[system]
                    name = f"incremental {system} (1% changed)"
                    figures += [
                        Figure(name, "wall", inc["wall"], "s", inc["wall"] / full["wall"],
                               "full run wall", note=_loads(inc)),
                        Figure(name, "requests", inc["requests"], "requests",
                               inc["requests"] / max(full["requests"], 1), "full run requests"),
                        Figure(name, "rows", inc["rows"], "rows"),
                    ]
        finally:
            if not running:
                control.down(data_dir)
    return figures


# The published rates the pace benchmark compares with (requests per second, sustained) and
# the burst the server allows at once (its window's worth).
ALLOWED_RATES: dict[str, float] = {"crm": 19.0, "erp": 1.0, "shop": 2.0, "hr": 10.0,
                                   "crm search": 4.0}
BURSTS: dict[str, int] = {"crm": 190, "erp": 60, "shop": 40, "hr": 10, "crm search": 4}
SEARCH_FROM = "1970-01-02T00:00:00+00:00"  # a backfill from the start reads through search
# Xero pages of 300 (not 1,000): a 20k-customer world then needs ~180 calls, three minutes at 60
# a minute, instead of fitting in the first minute's 60 (where the limit never binds).
PACE_PAGE_SIZE = 300


def pace_figure(name: str, sent: list[float], allowed: float, burst: int,
                note: str) -> Figure:
    """The sustained request rate after the first burst, against the allowed rate.

    >>> pace_figure("x", [0.0, 0.0, 1.0, 2.0, 3.0], 1.0, 2, "").value
    1.0
    """
    ordered = sorted(sent)
    tail = ordered[burst:] if len(ordered) > burst + 1 else ordered
    rate = achieved_rate(tail)
    span = ordered[-1] - ordered[0] if ordered else 0.0
    return Figure(f"pace {name}", "requests/s", rate, "1/s", rate / allowed,
                  f"published limit {allowed:g}/s",
                  note=f"{len(ordered)} requests over {span:.0f}s, overall "
                       f"{achieved_rate(ordered):.2f}/s; {note}")


def run_pace(customers: int, systems: tuple[str, ...] = ("crm", "erp"), *,
             sandbox_dir: Path | None = None, ports: dict[str, int] | None = None,
             work_dir: Path | None = None, page_size: int | None = PACE_PAGE_SIZE,
             search: bool = False) -> list[Figure]:
    """Full extracts with the published limits on: achieved request rate vs the allowed rate.

    The rate is measured from the first to the last request the connector sent (retries
    included), so a run of a few minutes shows the sustained pace, not the first burst (Xero
    allows 60 calls at once, then one a second: a run needs well over 60 calls; ``page_size``
    sets ``sources.<system>.page_size`` where a source has it, for more, smaller pages).
    ``search``: also a CRM backfill from 1970, read through HubSpot's search (4 requests/s).
    The figure is the rate after the server's first burst (a window's worth at once).
    """
    figures: list[Figure] = []
    with _workspace(work_dir) as root:
        data_dir = _sandbox_at(root, sandbox_dir)
        running = control.running_pid(data_dir) is not None  # left up for the next run
        config = _start(data_dir, customers, limits=True, ports=ports)
        _set_limits(config, enabled=True)
        try:
            env = sandbox_env(config, root / "wh.duckdb", unlimited=False)
            if page_size is not None:
                env.update({f"SOURCES__{s.upper()}__PAGE_SIZE": str(page_size) for s in systems})
            runs: list[tuple[str, dict[str, str]]] = [(system, {}) for system in systems]
            if search and "crm" in systems:
                runs.append(("crm search", {"GOLDLOOP_BENCH_START": SEARCH_FROM}))
            for name, extra in runs:
                system = name.split()[0]
                # start with an empty server-side window (earlier runs used it up)
                time.sleep(config.limits.crm_interval_ms / 1000 if system == "crm" else 61)
                slug = name.replace(" ", "_")
                log = root / f"{slug}.log"
                fresh = {"GOLDLOOP_WAREHOUSE": str(root / f"{slug}.duckdb")}  # a first run each
                result = run_extract(system, {**env, **extra, **fresh}, log, full=True, cwd=root)
                calls = recorded_calls(log)
                if name == "crm search":
                    calls = [c for c in calls if c[1].split("?")[0].endswith("/search")]
                figures.append(pace_figure(
                    name, [call[4] for call in calls], ALLOWED_RATES[name], BURSTS[name],
                    f"{result['throttled']} x 429, {result['retries']} retries, "
                    f"1-min load {load_average():.1f}"))
        finally:
            if not running:
                control.down(data_dir)
    return figures


def _ports(base: int) -> dict[str, int]:
    """Four consecutive ports from ``base`` (crm, erp, shop, hr).

    >>> _ports(19501)
    {'crm': 19501, 'erp': 19502, 'shop': 19503, 'hr': 19504}
    """
    return {system: base + i for i, system in enumerate(("crm", "erp", "shop", "hr"))}


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.extract``: the extract and pace benchmarks with their own knobs."""
    parser = argparse.ArgumentParser(description="goldloop extract benchmarks")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--systems", default="crm,erp,shop,hr")
    parser.add_argument("--sandbox-dir", type=Path, default=None,
                        help="reuse this seeded sandbox world")
    parser.add_argument("--ports", type=int, default=BENCH_PORTS["crm"],
                        help="first of four consecutive sandbox ports")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep warehouse, request logs and profiles here (emptied first)")
    parser.add_argument("--no-incremental", action="store_true",
                        help="skip the 1 %% mutate and the incremental run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="pairs of (full extract, floor) per system; the median is shown")
    parser.add_argument("--profile", action="store_true",
                        help="write <system>.prof (cProfile of the extract's main thread)")
    parser.add_argument("--pace", action="store_true",
                        help="run the pace-under-limits benchmark instead")
    parser.add_argument("--page-size", type=int, default=PACE_PAGE_SIZE,
                        help="pace: sources.<system>.page_size (more, smaller pages)")
    parser.add_argument("--search", action="store_true",
                        help="pace: also a CRM backfill read through search (4/s)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    systems = tuple(args.systems.split(","))
    if args.pace:
        figures = run_pace(args.customers, systems, sandbox_dir=args.sandbox_dir,
                           ports=_ports(args.ports), work_dir=args.work_dir,
                           page_size=args.page_size, search=args.search)
    else:
        figures = run_systems(args.customers, systems, args.sandbox_dir,
                              ports=_ports(args.ports), work_dir=args.work_dir,
                              incremental=not args.no_incremental, profile=args.profile,
                              repeat=args.repeat)
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")


if __name__ == "__main__":
    main()
