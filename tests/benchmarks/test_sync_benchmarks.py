"""The reverse-ETL benchmarks at a tiny size: their figures are right (never how fast they are).

Each script runs for real: the sandbox in its own process with the published limits on and the
engine writing through them; the planner against the bare join on a DuckDB file.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from benchmarks import sync_plan, sync_throughput
from benchmarks.__main__ import main as bench_main
from benchmarks.harness import render


def free_port_block(size: int = 4) -> int:
    """The first of ``size`` consecutive loopback ports nobody listens on right now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + size > 65_535:
            continue
        socks = [socket.socket() for _ in range(size)]
        try:
            for offset, sock in enumerate(socks):
                sock.bind(("127.0.0.1", first + offset))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no block of free loopback ports")


def test_throughput_syncs_every_record_within_the_published_limits(tmp_path: Path) -> None:
    results = sync_throughput.run({"crm": 500, "erp": 500}, tmp_path,
                                  sync_throughput.ports_from(free_port_block()),
                                  floor_records=200, progress=lambda _line: None)
    crm, erp = results
    assert (crm.system, crm.records, crm.synced, crm.rejected, crm.failed) == (
        "crm", 500, 500, 0, 0)
    assert (erp.system, erp.records, erp.synced, erp.rejected, erp.failed) == (
        "erp", 500, 500, 0, 0)
    # batches of the destination's maximum: 100 HubSpot inputs, 50 Xero contacts
    assert (crm.requests, erp.requests) == (5, 10)
    assert (crm.throttled, erp.throttled, crm.retries, erp.retries) == (0, 0, 0, 0)
    assert crm.max_in_window <= 190 and erp.max_in_window <= 60
    assert (crm.bound, erp.bound) == (1900.0, 50.0)
    assert crm.ratio == crm.records_per_second / 1900.0
    assert crm.sustained_per_second is None  # 5 requests do not span one window
    assert crm.floor_records == 200 and (crm.floor_per_second or 0) > 0
    assert sync_throughput.problems(crm) == [] == sync_throughput.problems(erp)
    table = render(sync_throughput.figures(results))
    assert "bound 1,900/s" in table and "bound 50/s" in table
    assert "published limit 190" in table and "published limit 60" in table


def test_problems_name_a_missed_record_a_429_and_a_window_overrun() -> None:
    result = sync_throughput.Throughput(
        system="crm", records=1000, synced=990, rejected=4, failed=6, plan_seconds=0.1,
        write_seconds=1.0, records_per_second=990.0, bound=1900.0, ratio=0.52,
        sustained_per_second=None, sustained_ratio=None, requests=12, retries=2, throttled=2,
        window_seconds=10.0, limit=190, max_in_window=191, cpu_seconds=0.5)
    assert sync_throughput.problems(result) == [
        "crm: synced 990 of 1,000 (4 rejected, 6 failed)",
        "crm: 2 x 429 from the destination",
        "crm: 191 requests in one 10 s window (limit 190)",
    ]


def test_plan_sends_exactly_the_changed_rows_beside_the_bare_join(tmp_path: Path) -> None:
    result = sync_plan.run(500, tmp_path)
    assert (result.rows, result.expected, result.planner_rows, result.join_rows) == (
        500, 5, 5, 5)
    assert result.exact
    assert result.planner_seconds > 0 and result.join_seconds > 0
    figures = {f.name: f for f in sync_plan.figures(result)}
    assert figures["rows to send"].value == 5
    assert figures["planning"].ratio == result.planner_seconds / result.join_seconds
    assert figures["planning"].baseline is not None
    assert figures["planning"].baseline.startswith("bare hash join")


def test_sync_plan_command_prints_the_table_and_saves_the_record(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = bench_main(["sync-plan", "--rows", "300", "--work-dir", str(tmp_path / "work"),
                       "--out", str(tmp_path / "results")])
    printed = capsys.readouterr().out
    assert code == 0
    assert "plan 300 (1% changed)" in printed and "expected exactly 3" in printed
    assert len(list((tmp_path / "results").glob("bench-*.json"))) == 1
