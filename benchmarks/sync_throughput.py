"""Reverse-ETL write throughput at the published limits: HubSpot contacts, Xero contacts.

The sandbox runs in its own process with its limits on (HubSpot Pro: 190 requests per rolling
10 s; Xero: 60 calls per minute per tenant). A DuckDB warehouse holds a sync model of N fresh
golden rows shaped like ``marts.sync_crm__contacts`` / ``marts.sync_erp__contacts``, and the
real engine (:func:`reverse_etl.runner.run_sync` with the shipped ``crm_contacts`` /
``erp_contacts`` specs at their default pace) writes them all.

Printed per system, all from the same run:

- sustained records/s: ``k`` whole windows' allowance (requests 1 to ``k*limit + 1``) over the
  time they took, and its ratio to the bound (limit x batch size per window: 1,900 records/s
  for HubSpot, 50 records/s for Xero). A client that never overruns the server's sliding window
  cannot exceed the bound here; the engine's own window is 3 % longer than the vendor's, so its
  ceiling is about 0.97.
- records/s (wall) over the whole write phase: a fresh client may send a whole window's
  allowance at once, so a run of few windows (Xero's default) reads above the bound.
- requests, retries, 429s received, and the most requests sent in any window vs the limit.
- the emulator's floor: the same kind of batch requests sent raw (no engine, limits lifted,
  the engine's concurrency), so a rate the emulator itself caps is visible as such.
- CPU per 1,000 records of the engine's process and of the sandbox's, and the cores both
  together need at the bound (on a shared 2-core machine, the rate a run reaches).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Figure, Timer, render
from goldloop.settings import Settings
from goldloop.warehouse import connect
from reverse_etl.connections import Connection
from reverse_etl.destinations import open_writer
from reverse_etl.runner import run_sync
from reverse_etl.spec import SyncSpec, find_spec
from sandbox import control
from sandbox.config import SYSTEMS, SandboxConfig

DEFAULT_PORT_BASE = 18401
EMAIL_DOMAIN = "goldloop-bench.example"


@dataclass(frozen=True)
class Bound:
    """A destination's published limit: ``limit`` requests per ``window`` seconds of
    ``batch`` records each."""

    sync: str
    label: str
    limit: int
    window: float
    batch: int

    @property
    def records_per_second(self) -> float:
        """The long-run ceiling.

        >>> BOUNDS["crm"].records_per_second, BOUNDS["erp"].records_per_second
        (1900.0, 50.0)
        """
        return self.limit * self.batch / self.window


BOUNDS: dict[str, Bound] = {
    "crm": Bound("crm_contacts", "HubSpot Pro burst", 190, 10.0, 100),
    "erp": Bound("erp_contacts", "Xero per-minute", 60, 60.0, 50),
}


@dataclass
class Throughput:
    """What one system's run measured."""

    system: str
    records: int
    synced: int
    rejected: int
    failed: int
    plan_seconds: float
    write_seconds: float
    records_per_second: float
    bound: float
    ratio: float
    sustained_per_second: float | None
    sustained_ratio: float | None
    requests: int
    retries: int
    throttled: int
    window_seconds: float
    limit: int
    max_in_window: int
    cpu_seconds: float
    emulator_cpu_seconds: float | None = None
    floor_records: int = 0
    floor_per_second: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sustained_rate(sent_at: list[float], limit: int, records_per_request: float,
                   ) -> float | None:
    """Records/s over whole windows: ``k·limit`` requests between request 1 and ``k·limit + 1``.

    None with too few requests to span one window (at most ``limit``).

    >>> sustained_rate([0.0, 0.1, 10.0, 10.1, 20.0], 2, 100)
    20.0
    >>> sustained_rate([0.0, 0.1], 2, 100) is None
    True
    """
    times = sorted(sent_at)
    whole = (len(times) - 1) // limit
    if whole < 1:
        return None
    span = times[whole * limit] - times[0]
    return whole * limit * records_per_request / span if span > 0 else None


def model_sql(system: str) -> str:
    """The sync model of ``records`` fresh golden rows (``?``), deterministic, as a DuckDB
    ``SELECT`` over ``range``."""
    key = "printf('bench-%07d', i) AS sync_key"
    email = f"printf('bench.%07d@{EMAIL_DOMAIN}', i)"
    phone = "printf('+1415555%04d', i % 10000)"
    street = "printf('%d Main St', i % 9000 + 1)"
    postal = "printf('%05d', 97000 + i % 1000)"
    if system == "crm":
        return (f"SELECT {key}, {email} AS email, 'Gold' AS firstname, "
                f"printf('Bench%07d', i) AS lastname, {phone} AS phone, {street} AS address, "
                f"'Portland' AS city, {postal} AS zip, 'United States' AS country, "
                f"'false' AS hs_email_optout, CAST(NULL AS VARCHAR) AS crm_record_id "
                f"FROM range(?) AS t(i)")
    return (f"SELECT {key}, CAST(NULL AS VARCHAR) AS contact_id, "
            f"printf('Bench Person %07d', i) AS name, 'Gold' AS first_name, "
            f"printf('Bench%07d', i) AS last_name, {email} AS email_address, {phone} AS phone, "
            f"{street} AS address_line1, 'Portland' AS city, {postal} AS postal_code, "
            f"'US' AS country, printf('GLB-%07d', i) AS contact_number FROM range(?) AS t(i)")


def add_missing_columns(con: Any, spec: SyncSpec) -> None:
    """Give the model every column the spec reads that :func:`model_sql` lacks, all null
    (e.g. the destination's last-modified time: unknown for records never written)."""
    src = spec.source
    have = {row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ?", [src.schema_name, src.model]).fetchall()}
    for column in spec.columns():
        if column not in have:
            kind = "TIMESTAMP" if column == src.destination_updated_at else "VARCHAR"
            con.execute(f'ALTER TABLE {src.schema_name}.{src.model} ADD COLUMN "{column}" {kind}')


def build_model(settings: Settings, system: str, records: int) -> str:
    """(Re)create the sync model of ``system`` with ``records`` rows; returns its name."""
    spec = find_spec(BOUNDS[system].sync)
    table = spec.source.model
    with connect(settings) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE marts.{table} AS {model_sql(system)}", [records])
        add_missing_columns(con, spec)
    return table


def connection(config: SandboxConfig, system: str) -> Connection:
    """The sandbox's connection, at the spec's default (published) pace."""
    creds = config.credentials
    if system == "crm":
        return Connection("crm", config.base_url("crm"), creds.crm_token)
    return Connection("erp", config.base_url("erp"), creds.erp_token, creds.erp_tenant_id)


def set_limits(config: SandboxConfig, system: str, enabled: bool) -> None:
    """Switch the emulator's published limits on or off (meters restart empty)."""
    limits = config.limits.model_copy(update={"enabled": enabled}).model_dump()
    httpx.post(f"http://{config.host}:{config.ports[system]}/_sandbox/limits", json=limits,
               timeout=10).raise_for_status()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int | None) -> float | None:
    """User+system CPU seconds of another process (Linux /proc), None when unreadable."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def sync_once(config: SandboxConfig, settings: Settings, system: str, records: int,
              emulator_pid: int | None = None) -> Throughput:
    """Write ``records`` fresh golden rows to ``system`` with the real engine."""
    bound = BOUNDS[system]
    build_model(settings, system, records)
    spec = find_spec(bound.sync)
    conn = connection(config, system)
    writer = open_writer(spec.with_pace(conn.requests_per_second, conn.burst), conn)
    cpu, served = _cpu(), process_cpu(emulator_pid)
    try:
        summary = run_sync(spec, settings, connection=conn, writer=writer)
    finally:
        writer.close()
    cpu = _cpu() - cpu
    served_after = process_cpu(emulator_pid)
    emulator_cpu = None if served is None or served_after is None else served_after - served
    stats = writer.pace_stats()[0]
    synced = summary.inserted + summary.updated
    per_request = synced / max(stats.requests - stats.retries, 1)
    sustained = sustained_rate(stats.sent_at, bound.limit, per_request)
    return Throughput(
        system=system, records=records, synced=synced, rejected=summary.rejected,
        failed=summary.failed, plan_seconds=float(summary.plan.get("plan_seconds", 0.0)),
        write_seconds=summary.write_seconds, records_per_second=summary.records_per_second,
        bound=bound.records_per_second,
        ratio=summary.records_per_second / bound.records_per_second,
        sustained_per_second=sustained,
        sustained_ratio=None if sustained is None else sustained / bound.records_per_second,
        requests=stats.requests, retries=stats.retries, throttled=stats.throttled,
        window_seconds=bound.window, limit=bound.limit,
        max_in_window=stats.max_in_window(bound.window), cpu_seconds=cpu,
        emulator_cpu_seconds=emulator_cpu)


def _floor_body(system: str, start: int, count: int) -> tuple[str, dict[str, Any]]:
    """One raw write request of ``count`` fresh records, shaped as the engine sends them."""
    if system == "crm":
        inputs = []
        for i in range(start, start + count):
            email = f"floor.{i:07d}@{EMAIL_DOMAIN}"
            inputs.append({"idProperty": "email", "id": email, "properties": {
                "email": email, "firstname": "Gold", "lastname": f"Floor{i:07d}",
                "phone": f"+1415555{i % 10000:04d}", "address": f"{i % 9000 + 1} Main St",
                "city": "Portland", "zip": f"{97000 + i % 1000:05d}",
                "country": "United States", "hs_email_optout": "false"}})
        return "/crm/v3/objects/contacts/batch/upsert", {"inputs": inputs}
    contacts = [{
        "Name": f"Floor Person {i:07d}", "FirstName": "Gold", "LastName": f"Floor{i:07d}",
        "EmailAddress": f"floor.{i:07d}@{EMAIL_DOMAIN}", "ContactNumber": f"GLF-{i:07d}",
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": f"+1415555{i % 10000:04d}"}],
        "Addresses": [{"AddressType": "STREET", "AddressLine1": f"{i % 9000 + 1} Main St",
                       "City": "Portland", "PostalCode": f"{97000 + i % 1000:05d}",
                       "Country": "US"}],
    } for i in range(start, start + count)]
    return "/Contacts?summarizeErrors=false", {"Contacts": contacts}


def emulator_floor(config: SandboxConfig, system: str, records: int) -> float:
    """Records/s the emulator takes raw: the engine's batch size and concurrency, limits off."""
    bound = BOUNDS[system]
    spec = find_spec(bound.sync)
    creds = config.credentials
    if system == "crm":
        base = config.base_url("crm")
        headers = {"Authorization": f"Bearer {creds.crm_token}"}
    else:
        base = config.base_url("erp")
        headers = {"Authorization": f"Bearer {creds.erp_token}",
                   "xero-tenant-id": creds.erp_tenant_id, "Accept": "application/json"}
    bodies = [_floor_body(system, start, min(bound.batch, records - start))
              for start in range(0, records, bound.batch)]
    set_limits(config, system, enabled=False)
    try:
        with httpx.Client(timeout=60.0) as client:

            def post(item: tuple[str, dict[str, Any]]) -> None:
                path, body = item
                client.post(base + path, json=body, headers=headers).raise_for_status()

            with Timer() as t, ThreadPoolExecutor(spec.concurrency()) as pool:
                list(pool.map(post, bodies))
    finally:
        set_limits(config, system, enabled=True)
    return records / t.seconds


def ports_from(base: int) -> dict[str, int]:
    """Four consecutive ports for the sandbox's systems.

    >>> ports_from(19100)
    {'crm': 19100, 'erp': 19101, 'shop': 19102, 'hr': 19103}
    """
    return {system: base + i for i, system in enumerate(SYSTEMS)}


def run(records: dict[str, int], work_dir: Path, ports: dict[str, int], *,
        floor_records: int = 20_000,
        progress: Callable[[str], None] = print) -> list[Throughput]:
    """Start a sandbox (limits on) in ``work_dir``, sync each system's records, measure the
    emulator's floor after each; the sandbox is stopped at the end."""
    data_dir = work_dir / "sandbox"
    control.down(data_dir, wipe=True)  # a fresh world: every record is a new contact
    (work_dir / "warehouse.duckdb").unlink(missing_ok=True)
    config = control.up(data_dir, customers=100, seed=7, ports=ports, limits_enabled=True,
                        timeout=120)
    settings = Settings(target="duckdb", warehouse=work_dir / "warehouse.duckdb")
    results: list[Throughput] = []
    try:
        for system, count in records.items():
            progress(f"sync {system}: {count:,} records at the published limit ...")
            result = sync_once(config, settings, system, count, control.running_pid(data_dir))
            if floor_records > 0:
                result.floor_records = min(floor_records, count)
                progress(f"emulator floor {system}: {result.floor_records:,} records raw ...")
                result.floor_per_second = emulator_floor(config, system, result.floor_records)
            results.append(result)
    finally:
        control.down(data_dir, timeout=2.0)
    return results


def problems(result: Throughput) -> list[str]:
    """What makes a run wrong (not slow): records not synced, a 429, a window overrun."""
    found = []
    if result.synced != result.records:
        found.append(f"{result.system}: synced {result.synced:,} of {result.records:,} "
                     f"({result.rejected} rejected, {result.failed} failed)")
    if result.throttled:
        found.append(f"{result.system}: {result.throttled} x 429 from the destination")
    if result.max_in_window > result.limit:
        found.append(f"{result.system}: {result.max_in_window} requests in one "
                     f"{result.window_seconds:g} s window (limit {result.limit})")
    return found


def figures(results: list[Throughput]) -> list[Figure]:
    """The printed table: rates and their ratios to the bound and to the emulator's floor."""
    out: list[Figure] = []
    for r in results:
        bound = BOUNDS[r.system]
        name = f"sync {r.system} {r.records:,}"
        limit_note = f"{bound.limit}/{bound.window:g}s x {bound.batch}"
        if r.sustained_per_second is not None:
            out.append(Figure(name, "sustained records/s", r.sustained_per_second, "1/s",
                              r.sustained_ratio, f"bound {r.bound:,.0f}/s ({limit_note})",
                              note=f"whole windows: requests 1 to k*{bound.limit}+1"))
        out.append(Figure(name, "records/s (wall)", r.records_per_second, "1/s", r.ratio,
                          f"bound {r.bound:,.0f}/s",
                          note=f"{r.synced:,} in a {r.write_seconds:.1f}s write phase, "
                               "incl. the first window's burst"))
        if r.floor_per_second:
            out.append(Figure(name, "records/s vs emulator floor", r.records_per_second, "1/s",
                              r.records_per_second / r.floor_per_second,
                              f"floor {r.floor_per_second:,.0f}/s (raw, limits off, "
                              f"{r.floor_records:,} records)"))
            out.append(Figure(name, "bound vs emulator floor", r.bound, "1/s",
                              r.bound / r.floor_per_second, "emulator floor"))
        out += [
            Figure(name, "requests", r.requests, "requests",
                   note=f"{r.retries} retries, {r.throttled} x 429"),
            Figure(name, f"max requests in {r.window_seconds:g}s", r.max_in_window, "requests",
                   r.max_in_window / r.limit, f"published limit {r.limit}"),
            Figure(name, "plan", r.plan_seconds, "s"),
            Figure(name, "engine CPU per 1k records", 1000 * r.cpu_seconds / max(r.synced, 1),
                   "s", note="user+sys of the engine's process (plan, requests, commits)"),
        ]
        if r.emulator_cpu_seconds is not None:
            both = (r.cpu_seconds + r.emulator_cpu_seconds) / max(r.synced, 1)
            out += [
                Figure(name, "emulator CPU per 1k records",
                       1000 * r.emulator_cpu_seconds / max(r.synced, 1), "s",
                       note="user+sys of the sandbox process during the sync"),
                Figure(name, "cores needed at the bound", both * r.bound, "cores",
                       note=f"engine + emulator CPU per record x {r.bound:,.0f}/s "
                            f"(this machine: {os.cpu_count()} cores, "
                            f"load {os.getloadavg()[0]:.1f})"),
            ]
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This benchmark's flags (shared with ``python -m benchmarks``)."""
    parser.add_argument("--records", type=int, default=100_000, help="HubSpot upserts")
    parser.add_argument("--xero-records", type=int, default=6_000, help="Xero contacts")
    parser.add_argument("--destinations", default="crm,erp", help="comma list of: crm, erp")
    parser.add_argument("--floor-records", type=int, default=20_000,
                        help="records for the emulator's raw floor (0: skip)")
    parser.add_argument("--port-base", type=int, default=DEFAULT_PORT_BASE,
                        help="first of four consecutive ports for the sandbox")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the sandbox and warehouse go (default: a temp dir)")


def bench(args: argparse.Namespace) -> tuple[list[Figure], list[str]]:
    """Run with parsed flags: the figures, and what went wrong (empty when nothing did)."""
    sizes = {"crm": args.records, "erp": args.xero_records}
    chosen = {s: sizes[s] for s in args.destinations.split(",") if s}
    results = measure(chosen, args.work_dir, ports_from(args.port_base), args.floor_records)
    return figures(results), [p for r in results for p in problems(r)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reverse-ETL throughput at the published "
                                                 "limits (HubSpot, Xero)")
    add_arguments(parser)
    found, wrong = bench(parser.parse_args(argv))
    print(render(found))
    for line in wrong:
        print(f"WRONG: {line}", file=sys.stderr)
    return 1 if wrong else 0


def measure(records: dict[str, int], work_dir: Path | None, ports: dict[str, int],
            floor_records: int) -> list[Throughput]:
    """:func:`run` in ``work_dir`` (or a temporary directory removed afterwards)."""
    started = time.perf_counter()
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        results = run(records, work_dir, ports, floor_records=floor_records)
    else:
        with tempfile.TemporaryDirectory(prefix="goldloop-sync-bench-") as tmp:
            results = run(records, Path(tmp), ports, floor_records=floor_records)
    print(f"(benchmark wall {time.perf_counter() - started:.0f}s)")
    return results


if __name__ == "__main__":
    sys.exit(main())
