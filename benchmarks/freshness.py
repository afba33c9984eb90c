"""Freshness: a customer change made in the shop reaches the golden record and the CRM.

The path a change travels, end to end, against a running sandbox (its rate limits on):
the shop sends a signed webhook → ``goldloop webhooks serve`` stores it in the inbox → the
``webhook_inbox_sensor`` asks for a run of the shop and what depends on it → the run extracts
the shop (dlt), builds the affected dbt models (tests included) and runs the syncs →
``sync/crm_contacts`` writes the new phone to the CRM. Latency = from the shop's API answering
the change to the CRM's API serving the new value.

The sensor is evaluated in this process on the daemon's cadence (every
``minimum_interval_seconds`` from a fixed origin, so a change waits for the next tick), and
its run request executes in this process on the same Dagster instance, as the dev instance's
one-run-at-a-time queue would run it (a daemon would also start a process that loads the code
location: not counted here). A poller reads the CRM contact in the background, so the moment
the value lands is measured, not the end of the run. The syncs' own writes make the CRM and the
ERP send webhooks too: after the first loop one round of those runs settles the world; during
the changes they are requested by the sensor but only run with ``--run-echoes``. The dbt
project is a parsed copy in the working folder, so edits to ``dbt_project/`` during a run do
not reach it.

    python -m benchmarks.freshness [--customers 500] [--changes 20] [--root DIR]

The sandbox serves on ports 19601-19604 and the webhook receiver on 19610 (``--ports``,
``--receiver-port``). Each change prints its latency and where it went; the end prints the
p50, the p95 and the median of each stage.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Figure, Timer, render, save
from goldloop.settings import patched_environ

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = {"crm": 19601, "erp": 19602, "shop": 19603, "hr": 19604}
RECEIVER_PORT = 19610
SENSOR = "webhook_inbox_sensor"
CRM_SYNC_STEP = "sync__crm_contacts"
STAGES = ("receive", "sensor", "launch", "extract", "dbt", "checks", "sync", "total")
DBT_STEPS = ("dbt_customers", "dbt_build")  # the first that ran feeds the customer syncs
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class Target:
    """A shop customer whose golden customer has a CRM contact (linked by e-mail)."""

    shop: str
    shop_customer_id: str
    customer_id: str
    crm_contact_id: str


@dataclass
class Change:
    """One change's timeline, in seconds since the shop answered the change."""

    target: Target
    phone: str
    receive: float | None = None  # webhook stored in the inbox
    sensor: float | None = None  # the sensor's run request
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)  # step: (start, end)
    seen: float | None = None  # the CRM serves the new phone
    run_end: float | None = None
    echoes: int = 0  # runs the same tick requested for other systems (the syncs' own echoes)
    load: float = 0.0  # the machine's 1-minute load average when the CRM served the value

    def stages(self) -> dict[str, float | None]:
        """Seconds spent in each stage of the path (None: not reached).

        launch: sensor → first step; checks: dbt step end → the CRM sync's start (the checks
        the sync waits for); sync: the CRM sync's start → the CRM serving the value.
        """
        extract = self.steps.get("ingest_shop")
        dbt = next((self.steps[s] for s in DBT_STEPS if s in self.steps), None)
        sync = self.steps.get(CRM_SYNC_STEP)
        first = min((start for start, _ in self.steps.values()), default=None)
        return {
            "receive": self.receive,
            "sensor": _minus(self.sensor, self.receive),
            "launch": _minus(first, self.sensor),
            "extract": None if extract is None else extract[1] - extract[0],
            "dbt": None if dbt is None else dbt[1] - dbt[0],
            "checks": _minus(sync[0] if sync else None, dbt[1] if dbt else None),
            "sync": _minus(self.seen, sync[0] if sync else None),
            "total": self.seen,
        }


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``.

    >>> percentile([float(v) for v in range(1, 21)], 0.95), percentile([3.0, 1.0, 2.0], 0.5)
    (19.0, 2.0)
    """
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def new_phone(index: int, rng: random.Random) -> str:
    """A fresh US number in E.164 that no other record shares (exchange 555, line 01xx-09xx).

    >>> new_phone(7, random.Random(1)).startswith("+1") and len(new_phone(7, random.Random(1)))
    12
    """
    area = rng.choice((212, 312, 415, 617, 702, 808))
    return f"+1{area}555{(100 + index * 37 + rng.randrange(37)) % 900 + 100:04d}"


def step_windows(entries: Sequence[Any], origin: float) -> dict[str, tuple[float, float]]:
    """Each step's (start, end) from a run's event log entries, in seconds since ``origin``."""
    windows: dict[str, tuple[float, float]] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or not event.step_key or event.event_type_value not in (
                "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
            continue
        at = entry.timestamp - origin
        start, end = windows.get(event.step_key, (at, at))
        windows[event.step_key] = (start, at) if event.event_type_value != "STEP_START" else (
            at, end)
    return windows


# -- the sandbox, the receiver, the warehouse ------------------------------------------------




@contextmanager
def running_receiver(port: int, env: dict[str, str], log: Path) -> Iterator[str]:
    """``goldloop webhooks serve --sandbox`` in its own process; yields its webhook URL."""
    binary = Path(sys.executable).with_name("goldloop")
    command = [str(binary), "webhooks", "serve", "--port", str(port), "--sandbox"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the webhook receiver exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not answer on {url}")
            time.sleep(0.2)
        yield f"{url}/webhooks"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def targets(warehouse: Path, count: int, rng: random.Random) -> list[Target]:
    """Shop customers linked to a CRM contact by e-mail (a new phone cannot unlink them) whose
    golden customer the crm_contacts sync feeds to that contact, one shop record each."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("""
            with shop_records as (
                select customer_id, min(record_id) as record_id, count(*) as records
                from marts.customer_xref where system = 'shop' and object = 'customers'
                group by customer_id
            )
            select s.record_id, c.customer_id, sync.crm_record_id
            from marts.customers c
            join shop_records s on s.customer_id = c.customer_id and s.records = 1
            join marts.sync_crm__contacts sync on sync.sync_key = c.customer_id
            join staging.stg_shop__customers sc on sc.customer_record_id = s.record_id
            join staging.stg_crm__contacts cc on cc.contact_id = sync.crm_record_id
            where sync.crm_record_id is not null and not sc.is_deleted
              and sc.email is not null and sc.email = cc.email
            order by c.customer_id""").fetchall()
    finally:
        con.close()
    if len(rows) < count:
        raise RuntimeError(f"only {len(rows)} shop customers are linked to a CRM contact by "
                           f"e-mail; run with more --customers")
    chosen = rng.sample(rows, count)
    return [Target(str(r).split("/", 1)[0], str(r).split("/", 1)[1], str(c), str(k))
            for r, c, k in chosen]


class CrmWatcher:
    """Polls one CRM contact in the background; records when it first serves ``phone``."""

    def __init__(self, base_url: str, token: str, contact_id: str, phone: str,
                 origin: float) -> None:
        self.url = f"{base_url}/crm/v3/objects/contacts/{contact_id}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.phone = phone
        self.origin = origin
        self.seen: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url, params={"properties": "phone"},
                                          headers=self.headers)
                    phone = response.json().get("properties", {}).get("phone") \
                        if response.status_code == 200 else None
                except (httpx.HTTPError, ValueError):
                    phone = None
                if phone == self.phone:
                    self.seen = time.time() - self.origin
                    return
                self._stop.wait(0.1)

    def wait(self, timeout: float) -> float | None:
        """Seconds from the change until the CRM served the phone (None: not within timeout)."""
        self._thread.join(timeout)
        self._stop.set()
        return self.seen


def frozen_project(root: Path) -> Path:
    """A copy of ``dbt_project/`` (parsed) for this benchmark, and the code location set to it.

    The copy keeps the run's models equal to the manifest its definitions loaded, whatever is
    edited in the repository meanwhile (dagster-dbt fails on a node it does not know).
    """
    import orchestration.transform.project as project_module

    source = REPO / "dbt_project"
    copy = root / "dbt_project"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("target", "logs", ".user.yml"))
    subprocess.run([str(Path(sys.executable).with_name("dbt")), "parse", "--quiet",
                    "--project-dir", str(copy), "--profiles-dir", str(copy)],
                   cwd=copy, check=True, timeout=1800)
    if "orchestration.definitions" in sys.modules:
        raise RuntimeError("freeze the dbt project before the code location loads")
    project_module.DBT_PROJECT_DIR = copy  # read when orchestration.definitions loads
    return copy


# -- the loop ----------------------------------------------------------------------------------


class Daemon:
    """The inbox sensor on the daemon's cadence and its runs, in this process."""

    def __init__(self, instance: Any, interval: float) -> None:
        from orchestration.definitions import defs

        self.defs = defs
        self.instance = instance
        self.sensor = defs.get_sensor_def(SENSOR)
        self.interval = interval or float(self.sensor.minimum_interval_seconds or 30)
        self.origin = time.time()
        self.cursor: str | None = None

    def next_tick(self, after: float) -> float:
        """The first tick at or after ``after`` (epoch seconds)."""
        ticks = math.ceil((after - self.origin) / self.interval)
        return self.origin + max(ticks, 0) * self.interval

    def tick(self) -> list[Any]:
        """Evaluate the sensor once; returns its run requests (the cursor moves on)."""
        from dagster import SensorResult, build_sensor_context

        from orchestration.resources import GoldloopResource

        context = build_sensor_context(instance=self.instance, cursor=self.cursor,
                                       repository_def=self.defs.get_repository_def(),
                                       resources={"goldloop": GoldloopResource()})
        result = self.sensor(context)
        if not isinstance(result, SensorResult):
            return []
        self.cursor = result.cursor or self.cursor
        return list(result.run_requests or [])

    def wait_for(self, system: str, after: float, deadline: float) -> tuple[float, Any, list[Any]]:
        """Tick until a run for ``system`` is requested; (when, that request, the others)."""
        others: list[Any] = []
        when = after
        while time.time() < deadline:
            when = self.next_tick(when)
            time.sleep(max(0.0, when - time.time()))
            requests = self.tick()
            mine = [r for r in requests if r.tags.get("goldloop/system") == system]
            others += [r for r in requests if r not in mine]
            if mine:
                return time.time(), mine[0], others
            when += self.interval
        raise RuntimeError(f"the sensor requested no {system} run before the deadline")

    def execute(self, request: Any) -> Any:
        """Run a request as the daemon would launch it (raises when the run fails)."""
        from dagster._core.storage.tags import SENSOR_NAME_TAG

        job = self.defs.resolve_job_def(request.job_name or "goldloop_loop")
        tags = {**request.tags, SENSOR_NAME_TAG: SENSOR}
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        return job.execute_in_process(
            instance=self.instance, asset_selection=request.asset_selection,
            partition_key=request.partition_key, tags=tags, raise_on_error=True,
            run_config=QUIET)

    def run_loop(self) -> Any:
        """The whole loop on today's partition, as ``goldloop demo`` runs it."""
        from orchestration.partitions import live_partition_key

        return self.defs.resolve_job_def("goldloop_loop").execute_in_process(
            instance=self.instance, partition_key=live_partition_key(),
            tags={"goldloop/trigger": "manual"}, raise_on_error=True, run_config=QUIET)

    def settle(self, rounds: int = 1, wait: float = 3.0) -> int:
        """Run what the sensor asks for until it asks for nothing (the syncs' echoes)."""
        runs = 0
        for _ in range(rounds):
            time.sleep(wait)  # webhooks of the last run's writes arrive
            requests = self.tick()
            if not requests:
                break
            for request in requests:
                self.execute(request)
                runs += 1
        return runs


def inbox_received(warehouse: Path, object_id: str, after_epoch: float) -> float | None:
    """When the inbox stored a webhook of ``object_id`` (epoch), if it has."""
    from goldloop.settings import Settings
    from orchestration.state import connect_state

    with connect_state(Settings(warehouse=warehouse)) as state:
        rows = state.rows("SELECT received_at FROM webhook_inbox WHERE system = 'shop' AND "
                          "object_id = ? ORDER BY seq DESC LIMIT 1", (object_id,))
    if not rows:
        return None
    at = datetime.fromisoformat(str(rows[0][0])).timestamp()
    return at if at >= after_epoch - 1 else None


def change_phone(config: Any, target: Target, phone: str) -> None:
    """``PUT customers/<id>.json`` on the shop with a new phone (the shop signs a webhook)."""
    base = config.base_url("shop", target.shop)
    token = config.credentials.shop_tokens[target.shop]
    response = httpx.put(f"{base}/customers/{target.shop_customer_id}.json",
                         json={"customer": {"id": int(target.shop_customer_id), "phone": phone}},
                         headers={"X-Shopify-Access-Token": token}, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"the shop refused the change: {response.status_code} "
                           f"{response.text[:300]}")


def measure(daemon: Daemon, config: Any, warehouse: Path, target: Target, phone: str, *,
            timeout: float, run_echoes: bool) -> Change:
    """One change through the whole path."""
    change = Change(target, phone)
    origin = time.time()
    change_phone(config, target, phone)
    watcher = CrmWatcher(config.base_url("crm"), config.credentials.crm_token,
                         target.crm_contact_id, phone, origin)
    deadline = origin + timeout
    object_id = f"{target.shop}/{target.shop_customer_id}"
    received = None
    while received is None and time.time() < deadline:
        received = inbox_received(warehouse, object_id, origin)
        if received is None:
            time.sleep(0.05)
    if received is None:
        raise RuntimeError(f"no webhook for shop customer {object_id} reached the inbox")
    change.receive = received - origin
    requested, request, others = daemon.wait_for("shop", received, deadline)
    change.sensor = requested - origin
    result = daemon.execute(request)
    change.run_end = time.time() - origin
    change.steps = step_windows(daemon.instance.all_logs(result.run_id), origin)
    change.seen = watcher.wait(max(1.0, deadline - time.time()))
    change.load = os.getloadavg()[0]
    change.echoes = len(others)
    if run_echoes:
        for other in others:
            daemon.execute(other)
    return change


def report_line(index: int, change: Change) -> str:
    """One printed line per change."""
    parts = [f"{name} {value:6.2f}s" if value is not None else f"{name}   n/a "
             for name, value in change.stages().items()]
    return f"change {index + 1:2d}  " + "  ".join(parts) + f"  load {change.load:4.1f}"


def summary(changes: Sequence[Change]) -> tuple[list[Figure], list[str]]:
    """p50, p95 and each stage's median, as figures and printed lines."""
    totals = [c.seen for c in changes if c.seen is not None]
    lines: list[str] = []
    figures: list[Figure] = []
    missing = len(changes) - len(totals)
    if totals:
        p50, p95 = percentile(totals, 0.5), percentile(totals, 0.95)
        load = statistics.median(c.load for c in changes)
        note = f"{len(totals)} changes, load {load:.1f} on {os.cpu_count()} cores" + (
            f", {missing} never reached the CRM" if missing else "")
        figures += [Figure("freshness", "p50 shop→CRM", p50, "s", note=note),
                    Figure("freshness", "p95 shop→CRM", p95, "s", p95 / 30.0,
                           "budget 30 s", note)]
        lines.append(f"p50 {p50:.2f}s  p95 {p95:.2f}s  max {max(totals):.2f}s  ({note})")
    for stage in STAGES[:-1]:
        values = [v for c in changes if (v := c.stages()[stage]) is not None]
        if values:
            median = statistics.median(values)
            figures.append(Figure("freshness", f"median {stage}", median, "s"))
            lines.append(f"  {stage:8s} median {median:6.2f}s  max {max(values):6.2f}s")
    return figures, lines


def run(customers: int = 500, changes: int = 20, root: Path | None = None, *,
        ports: dict[str, int] | None = None, receiver_port: int = RECEIVER_PORT, seed: int = 7,
        interval: float = 0.0, timeout: float = 600.0, run_echoes: bool = False,
        threads: int | None = None, progress: Any = print) -> list[Figure]:
    """Seed, serve, run the loop once, then time ``changes`` shop changes to the CRM.

    ``root`` keeps the sandbox, warehouse and logs (default: a temporary folder, removed after).
    """
    if root is None:
        scratch = Path(tempfile.mkdtemp(prefix="goldloop-freshness-"))
        try:
            return run(customers, changes, scratch, ports=ports, receiver_port=receiver_port,
                       seed=seed, interval=interval, timeout=timeout, run_echoes=run_echoes,
                       threads=threads, progress=progress)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    ports = ports or DEFAULT_PORTS
    from dagster import DagsterInstance

    from benchmarks.extract import sandbox_env
    from sandbox import control

    root.mkdir(parents=True, exist_ok=True)
    project = frozen_project(root)
    warehouse = root / "warehouse.duckdb"
    sandbox_dir = root / "sandbox"
    dbt_target = root / "dbt_target"
    dbt_target.mkdir(exist_ok=True)
    partial = project / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy(partial, dbt_target / partial.name)
    rng = random.Random(seed)
    receiver_url = f"http://127.0.0.1:{receiver_port}/webhooks"
    with Timer() as seeding:
        config = control.up(sandbox_dir, customers=customers, seed=seed, ports=ports,
                            limits_enabled=True, webhook_url=receiver_url, timeout=180)
    progress(f"sandbox: {customers:,} customers on ports {sorted(ports.values())} "
             f"({seeding.seconds:.1f}s)")
    env = {**sandbox_env(config, warehouse, unlimited=False),
           "GOLDLOOP_SANDBOX_DIR": str(sandbox_dir), "DBT_TARGET_PATH": str(dbt_target)}
    if threads:
        env["GOLDLOOP_DBT_THREADS"] = str(threads)
    cwd = os.getcwd()
    figures: list[Figure] = []
    try:
        with patched_environ(env), running_receiver(receiver_port, env, root / "receiver.log"):
            os.chdir(root)  # dlt's working folders land under root
            daemon = Daemon(DagsterInstance.ephemeral(), interval)
            with Timer() as first:
                daemon.run_loop()
            progress(f"initial loop run: {first.seconds:.1f}s")
            with Timer() as settling:
                echoes = daemon.settle()
            progress(f"settled: {echoes} echo runs of the syncs' own writes "
                     f"({settling.seconds:.1f}s); sensor every {daemon.interval:g}s")
            chosen = targets(warehouse, changes, rng)
            done: list[Change] = []
            for index, target in enumerate(chosen):
                change = measure(daemon, config, warehouse, target, new_phone(index, rng),
                                 timeout=timeout, run_echoes=run_echoes)
                done.append(change)
                progress(report_line(index, change) + (
                    f"  (+{change.echoes} echo runs)" if change.echoes else ""))
            figures, lines = summary(done)
            for line in lines:
                progress(line)
            figures.append(Figure("freshness", "initial loop run", first.seconds, "s",
                                  note=f"{customers:,} customers"))
    finally:
        os.chdir(cwd)
        control.down(sandbox_dir)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--root", type=Path, default=None,
                        help="working folder (sandbox, warehouse, logs); default a temp folder")
    parser.add_argument("--ports", type=int, default=DEFAULT_PORTS["crm"],
                        help="first of the four sandbox ports")
    parser.add_argument("--receiver-port", type=int, default=RECEIVER_PORT)
    parser.add_argument("--interval", type=float, default=0.0,
                        help="sensor cadence in seconds (default: the sensor's own minimum)")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds one change may take before the benchmark gives up")
    parser.add_argument("--run-echoes", action="store_true",
                        help="between changes, run what the syncs' own writes trigger (the "
                             "CRM's and ERP's webhooks); by default they are requested, not run")
    parser.add_argument("--threads", type=int, default=None, help="dbt threads")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    ports = {system: args.ports + i for i, system in enumerate(DEFAULT_PORTS)}
    figures = run(args.customers, args.changes, args.root, ports=ports,
                  receiver_port=args.receiver_port, interval=args.interval,
                  timeout=args.timeout, run_echoes=args.run_echoes,
                  threads=args.threads)
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")


if __name__ == "__main__":
    main()
