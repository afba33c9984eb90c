"""Start, stop and inspect the sandbox process (what ``goldloop sandbox ...`` runs)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from goldloop.errors import SandboxError
from goldloop.processes import pid_alive
from sandbox.config import SYSTEMS, SandboxConfig
from sandbox.seeding import is_seeded, seed_data_dir
from sandbox.store import Store

PID_FILE = "sandbox.pid"
LOG_FILE = "sandbox.log"


def _admin(config: SandboxConfig, system: str) -> str:
    return f"http://{config.host}:{config.ports[system]}/_sandbox"


    return True


def running_pid(data_dir: Path) -> int | None:
    """The pid of the sandbox serving ``data_dir``, if it runs."""
    pid_file = data_dir / PID_FILE
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip() or 0)
    return pid if pid and pid_alive(pid) else None


def _answers(config: SandboxConfig, system: str) -> bool:
    try:
        return httpx.get(f"{_admin(config, system)}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def up(data_dir: Path, *, customers: int = 1000, seed: int = 42,
       order_lines: int | None = None, ports: dict[str, int] | None = None,
       limits_enabled: bool = True,
       webhook_url: str | None = None, progress: Callable[[str], None] = lambda _: None,
       timeout: float = 60.0) -> SandboxConfig:
    """Seed ``data_dir`` if it is empty, then serve the four systems in the background.

    Returns once every system answers. An existing data dir keeps its world: ``customers`` and
    ``seed`` (and ``order_lines``) apply only when seeding (``goldloop sandbox down --wipe``
    starts over).
    """
    if not 100 <= customers <= 1_000_000:
        raise SandboxError(f"--customers {customers} is out of range",
                           hint="choose a number from 100 to 1,000,000")
    unknown = sorted(set(ports or {}) - set(SYSTEMS))
    if unknown:
        raise SandboxError(f"ports given for {', '.join(unknown)}, which the sandbox does not "
                           "serve", hint=f"name the systems {', '.join(SYSTEMS)}")
    if running_pid(data_dir):
        config = SandboxConfig.load(data_dir)
        progress(f"sandbox already running for {data_dir}")
        return config
    if is_seeded(data_dir):
        config = SandboxConfig.load(data_dir)
    else:
        config = SandboxConfig(customers=customers, seed=seed, order_lines=order_lines)
        if ports:
            config.ports.update(ports)
        config.limits.enabled = limits_enabled
        seed_data_dir(data_dir, config, progress)
    changed = False
    if ports and ports != {k: config.ports[k] for k in ports}:
        config.ports.update(ports)
        changed = True
    if webhook_url is not None and webhook_url != config.webhook_url:
        config.webhook_url = webhook_url
        changed = True
    if changed:
        config.save(data_dir)
    busy = [s for s in SYSTEMS if _answers(config, s)]
    if busy:
        raise SandboxError(
            f"ports of {', '.join(busy)} already answer (another sandbox from a different "
            "data dir?)", hint="run `goldloop sandbox down --data-dir <that dir>` or pick ports")
    log = (data_dir / LOG_FILE).open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--data-dir", str(data_dir)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    (data_dir / PID_FILE).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox exited at start (code {proc.returncode})",
                               hint=f"read {data_dir / LOG_FILE}")
        if all(_answers(config, s) for s in SYSTEMS):
            progress("all four systems answer")
            return config
        time.sleep(0.1)
    down(data_dir)
    raise SandboxError(f"the sandbox did not answer within {timeout:.0f}s",
                       hint=f"read {data_dir / LOG_FILE}")


def down(data_dir: Path, *, wipe: bool = False, timeout: float = 10.0) -> bool:
    """Stop the sandbox of ``data_dir`` (True if one was running); ``wipe`` deletes its data."""
    pid = running_pid(data_dir)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    (data_dir / PID_FILE).unlink(missing_ok=True)
    if wipe and data_dir.exists():
        for path in data_dir.iterdir():
            if path.suffix.startswith(".sqlite") or path.name in ("config.json", LOG_FILE):
                path.unlink()
    return pid is not None


def status(data_dir: Path) -> dict[str, Any]:
    """Base URLs, credentials and record counts of each system (what ``status --json`` prints)."""
    if not is_seeded(data_dir):
        raise SandboxError(f"no sandbox in {data_dir}", hint="run `goldloop sandbox up`")
    config = SandboxConfig.load(data_dir)
    creds = config.credentials
    systems: dict[str, Any] = {
        "crm": {"base_url": config.base_url("crm"),
                "credentials": {"access_token": creds.crm_token,
                                "readonly_token": creds.crm_readonly_token,
                                "client_secret": creds.crm_client_secret}},
        "erp": {"base_url": config.base_url("erp"),
                "credentials": {"access_token": creds.erp_token,
                                "tenant_id": creds.erp_tenant_id,
                                "webhook_key": creds.erp_webhook_key}},
        "shop": {"base_url": config.base_url("shop").rsplit("/shops/", 1)[0],
                 "shops": {name: {"base_url": config.base_url("shop", name),
                                  "access_token": token}
                           for name, token in creds.shop_tokens.items()},
                 "credentials": {"webhook_secret": creds.shop_webhook_secret}},
        "hr": {"base_url": config.base_url("hr"), "credentials": {"api_key": creds.hr_api_key}},
    }
    running = running_pid(data_dir) is not None
    for system, info in systems.items():
        info["running"] = running and _answers(config, system)
        info["counts"] = _counts(config, system) if info["running"] else _offline_counts(
            data_dir, system)
    return {"data_dir": str(data_dir), "running": running, "seed": config.seed,
            "customers": config.customers, "limits": config.limits.model_dump(),
            "webhook_url": config.webhook_url, "systems": systems}


def _counts(config: SandboxConfig, system: str) -> dict[str, Any]:
    resp = httpx.get(f"{_admin(config, system)}/counts", timeout=30.0)
    resp.raise_for_status()
    return dict(resp.json())


def _offline_counts(data_dir: Path, system: str) -> dict[str, Any]:
    store = Store(data_dir / f"{system}.sqlite")
    try:
        return {obj: {"total": store.count(obj), "archived": store.count(obj, "archived = 1")}
                for obj in store.objects()}
    finally:
        store.close()


def _require_running(data_dir: Path) -> SandboxConfig:
    if not running_pid(data_dir):
        raise SandboxError(f"the sandbox of {data_dir} is not running",
                           hint="run `goldloop sandbox up` first")
    return SandboxConfig.load(data_dir)


def mutate(data_dir: Path, fraction: float, *, seed: int | None = None,
           webhook_url: str | None = None,
           systems: tuple[str, ...] = SYSTEMS) -> dict[str, dict[str, int]]:
    """Apply realistic changes to about ``fraction`` of every system's records."""
    if not 0 < fraction <= 1:
        raise SandboxError(f"--fraction {fraction} is out of range",
                           hint="give a fraction above 0 and at most 1, e.g. 0.01")
    config = _require_running(data_dir)
    result: dict[str, dict[str, int]] = {}
    for offset, system in enumerate(systems):
        body: dict[str, Any] = {"fraction": fraction}
        if seed is not None:
            body["seed"] = seed + offset
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        resp = httpx.post(f"{_admin(config, system)}/mutate", json=body, timeout=600.0)
        if resp.status_code != 200:
            raise SandboxError(f"mutate failed on {system}: {resp.status_code} {resp.text[:300]}",
                               hint=f"read {data_dir / LOG_FILE}")
        result[system] = resp.json()
    return result


def set_faults(data_dir: Path, system: str, faults: dict[str, Any]) -> dict[str, Any]:
    """Replace the fault knobs of one system (all off: pass {})."""
    if system not in SYSTEMS:
        raise SandboxError(f"unknown system {system!r}", hint=f"use one of {', '.join(SYSTEMS)}")
    config = _require_running(data_dir)
    resp = httpx.post(f"{_admin(config, system)}/faults", json=faults, timeout=10.0)
    if resp.status_code != 200:
        raise SandboxError(f"invalid faults for {system}: {resp.text[:500]}",
                           hint="see `goldloop sandbox faults --help`")
    return dict(resp.json())


def truth_rows(data_dir: Path) -> list[tuple[str, str, str, str]]:
    """Ground truth: ``(system, object, record_id, entity_id)`` for every record, all systems."""
    rows: list[tuple[str, str, str, str]] = []
    for system in SYSTEMS:
        store = Store(data_dir / f"{system}.sqlite")
        try:
            rows += [(system, obj, rid, ent) for obj, rid, ent in store.truth_rows()]
        finally:
            store.close()
    return rows


def break_rows(data_dir: Path) -> list[tuple[str, str, str, str]]:
    """Seeded breaks: ``(kind, system, record_id, detail)``."""
    rows: list[tuple[str, str, str, str]] = []
    for system in SYSTEMS:
        store = Store(data_dir / f"{system}.sqlite")
        try:
            rows += [(kind, system, rid, detail) for kind, rid, detail in store.break_rows()]
        finally:
            store.close()
    return rows


def write_csv(path: Path, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> int:
    """Write rows as CSV with a header; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def dlt_secrets_toml(data_dir: Path) -> str:
    """The sandbox's credentials in dlt's secrets.toml form (for ``.dlt/secrets.toml``)."""
    info = status(data_dir)["systems"]
    shops = info["shop"]["shops"]
    lines = [
        "# Written by `goldloop sandbox up`: the local sandbox's credentials.",
        "# Replace with real ones (or set SOURCES__<SYSTEM>__... env vars) to run against vendors.",
        "[sources.crm]", f'access_token = "{info["crm"]["credentials"]["access_token"]}"', "",
        "[sources.erp]", f'access_token = "{info["erp"]["credentials"]["access_token"]}"',
        f'tenant_id = "{info["erp"]["credentials"]["tenant_id"]}"', "",
        "[sources.shop.access_tokens]",
        *[f'{name} = "{shop["access_token"]}"' for name, shop in shops.items()], "",
        "[sources.hr]", f'api_key = "{info["hr"]["credentials"]["api_key"]}"', "",
    ]
    return "\n".join(lines)


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
