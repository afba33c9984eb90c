"""End to end: the sandbox process as a user drives it through the CLI."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.config import SYSTEMS


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def goldloop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "goldloop.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    from sandbox import control

    data_dir = tmp_path_factory.mktemp("sandbox")
    ports = dict(zip(SYSTEMS, _free_ports(4), strict=True))
    control.up(data_dir, customers=300, seed=5, ports=ports, limits_enabled=False)
    try:
        yield data_dir, ports
    finally:
        control.down(data_dir)


def test_status_json_lists_each_system_with_counts(running: tuple[Path, dict],
                                                   tmp_path: Path) -> None:
    data_dir, ports = running
    out = goldloop("sandbox", "status", "--json", "--data-dir", str(data_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["running"] is True and info["customers"] == 300
    assert set(info["systems"]) == set(SYSTEMS)
    assert info["systems"]["crm"]["base_url"] == f"http://127.0.0.1:{ports['crm']}"
    assert info["systems"]["crm"]["counts"]["contacts"]["total"] > 150
    assert info["systems"]["erp"]["counts"]["invoices"]["total"] > 0
    assert info["systems"]["hr"]["counts"]["employees"]["total"] >= 25


def test_truth_and_breaks_agree_with_what_the_systems_serve(running: tuple[Path, dict],
                                                            tmp_path: Path) -> None:
    data_dir, ports = running
    out = goldloop("sandbox", "truth", "--out", str(tmp_path / "t.csv"),
                   "--data-dir", str(data_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert set(rows[0]) == {"system", "object", "record_id", "entity_id"}
    assert {r["system"] for r in rows} == set(SYSTEMS)
    crm_ids = {r["record_id"] for r in rows if r["system"] == "crm" and r["object"] == "contacts"}
    token = {"Authorization": "Bearer pat-sandbox-crm-full"}
    base = f"http://127.0.0.1:{ports['crm']}/crm/v3/objects/contacts"
    served: set[str] = set()
    for archived in ("false", "true"):
        params: dict[str, str] = {"limit": "100", "archived": archived}
        while True:
            body = httpx.get(base, params=params, headers=token).json()
            served |= {r["id"] for r in body["results"]}
            nxt = body.get("paging", {}).get("next", {}).get("after")
            if not nxt:
                break
            params["after"] = nxt
    assert served == crm_ids
    shop_ids = [r["record_id"] for r in rows if r["system"] == "shop"]
    assert all(rid.split("/", 1)[0] in ("northwind", "southwind") for rid in shop_ids)

    out = goldloop("sandbox", "breaks", "--out", str(tmp_path / "b.csv"),
                   "--data-dir", str(data_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    breaks = list(csv.DictReader((tmp_path / "b.csv").open()))
    kinds = {b["kind"] for b in breaks}
    assert {"order_missing_invoice", "leaver_active_owner", "customer_email_conflict"} <= kinds
    known = {(r["system"], r["record_id"]) for r in rows}
    missing = [b for b in breaks if (b["system"], b["record_id"]) not in known
               and b["kind"] not in ("order_missing_invoice",)]
    assert not [b for b in missing if b["system"] in ("crm", "hr")], missing[:5]


def test_mutate_changes_records_and_reports_counts(running: tuple[Path, dict],
                                                  tmp_path: Path) -> None:
    data_dir, _ = running
    out = goldloop("sandbox", "mutate", "--fraction", "0.05", "--seed", "3",
                   "--data-dir", str(data_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == set(SYSTEMS)
    assert sum(result["crm"].values()) > 0


def test_bad_input_gets_a_clear_error(tmp_path: Path) -> None:
    out = goldloop("sandbox", "status", "--data-dir", str(tmp_path / "nothing"), cwd=tmp_path)
    assert out.returncode == 2
    assert "no sandbox in" in out.stderr and "goldloop sandbox up" in out.stderr
    out = goldloop("sandbox", "up", "--customers", "5", "--data-dir", str(tmp_path / "x"),
                   cwd=tmp_path)
    assert out.returncode == 2 and "100 to 1,000,000" in out.stderr


def test_ports_named_by_vendor_are_refused_before_seeding(tmp_path: Path) -> None:
    from goldloop.errors import SandboxError
    from sandbox import control

    data_dir = tmp_path / "sandbox"
    with pytest.raises(SandboxError) as raised:
        control.up(data_dir, customers=100, ports={"hubspot": 19411, "erp": 19412})
    assert "hubspot" in str(raised.value) and "crm, erp, shop, hr" in raised.value.hint
    assert not control.is_seeded(data_dir)


def test_same_seed_same_world_byte_for_byte(tmp_path: Path) -> None:
    from sandbox.config import SandboxConfig
    from sandbox.control import truth_rows
    from sandbox.seeding import seed_data_dir
    from sandbox.store import Store

    dumps = []
    for name in ("a", "b"):
        seed_data_dir(tmp_path / name, SandboxConfig(customers=200, seed=11))
        lines: list[str] = []
        for system in SYSTEMS:
            store = Store(tmp_path / name / f"{system}.sqlite")
            lines += list(store.conn.iterdump())
            store.close()
        dumps.append("\n".join(lines))
    assert dumps[0] == dumps[1]
    assert truth_rows(tmp_path / "a") == truth_rows(tmp_path / "b")
