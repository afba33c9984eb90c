"""One small sandbox world per test session, extracted and built, shared by the report tests.

The world is built once even when pytest-xdist spreads these files over workers (a file lock
in the session's shared temporary folder); every test reads it, none writes to it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from filelock import FileLock
from starlette.testclient import TestClient

from goldloop.settings import Settings, Target

CUSTOMERS = 100
SEED = 42
REUSE_ENV = "GOLDLOOP_TEST_REPORT_WORLD"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "reports"


@dataclass(frozen=True)
class ReportWorld:
    """A built warehouse and dbt's target folder for it."""

    warehouse: Path
    dbt_target: Path

    @property
    def settings(self) -> Settings:
        """Settings pointing at this world's DuckDB file."""
        return Settings(warehouse=self.warehouse)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query against the warehouse (read-only), computed independently."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return [tuple(row) for row in con.execute(sql, list(params)).fetchall()]
        finally:
            con.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The single value of one aggregate query."""
        return self.query(sql, params)[0][0]

    def run_results(self) -> dict[str, Any]:
        """dbt's run_results.json of the build."""
        return dict(json.loads((self.dbt_target / "run_results.json").read_text()))


def _session_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder of this test session that every pytest-xdist worker shares."""
    base = tmp_path_factory.getbasetemp()
    # under pytest-xdist each worker has its own folder inside the session's: share that one
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> ReportWorld:
    """A 100-customer sandbox world extracted into DuckDB and built by ``dbt build``.

    Built once per session (the first worker builds, the others wait on the lock), with the
    dictionary's column lineage computed once into dbt's target folder for every worker.
    ``GOLDLOOP_TEST_REPORT_WORLD=<folder>`` reuses the world an earlier run built there (its
    ``reports_world`` folder under pytest's temporary folder); the tests never write to it.
    """
    from reports.db import open_reader
    from reports.lineage import lineage_for
    from tests.dbt.world import build_world

    reuse = os.environ.get(REUSE_ENV, "")
    if reuse:  # a world an earlier run built (iterating on the report tests)
        shared = Path(reuse)
        assert (shared / "built.json").exists(), f"{REUSE_ENV}={reuse} holds no built world"
        return ReportWorld(Path(json.loads((shared / "built.json").read_text())["warehouse"]),
                           shared / "target")
    shared = _session_folder(tmp_path_factory, "reports_world")
    done = shared / "built.json"
    with FileLock(str(shared / "build.lock")):
        if not done.exists():
            built = build_world(shared, customers=CUSTOMERS, seed=SEED)
            assert built.build.returncode == 0, built.build.stdout[-3000:]
            with open_reader(Settings(warehouse=built.warehouse)) as reader:
                assert lineage_for(reader, shared / "target") is not None
            done.write_text(json.dumps({"warehouse": str(built.warehouse)}))
    return ReportWorld(Path(json.loads(done.read_text())["warehouse"]), shared / "target")


@pytest.fixture(scope="session")
def client(world: ReportWorld) -> TestClient:
    """The report app in-process (no socket)."""
    from reports.app import create_app

    return TestClient(create_app(world.settings, dbt_target=world.dbt_target))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_url(world: ReportWorld) -> Iterator[str]:
    """The report app served by uvicorn on a free loopback port, in a background thread."""
    with serving(world.settings, world.dbt_target) as url:
        yield url


@contextmanager
def serving(settings: Settings, dbt_target: Path) -> Iterator[str]:
    """The report app on ``settings``' warehouse, served by uvicorn on a free loopback port in a
    background thread until the block ends; yields its URL."""
    import uvicorn

    from reports.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings, dbt_target=dbt_target), host="127.0.0.1", port=port,
        log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "report server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def synced(world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the world's warehouse plus the run log, audit, dead letters and conflicts of
    3 runs, written through reverse ETL's own state API."""
    from reverse_etl import state

    copy = tmp_path_factory.mktemp("synced") / "warehouse.duckdb"
    shutil.copy(world.warehouse, copy)
    con = duckdb.connect(str(copy))
    duck: Target = "duckdb"
    state.ensure_tables(con, duck)
    state.start_run(con, duck, "run-1", "crm_contacts", "run")
    state.finish_run(con, duck, "run-1", "ok", {"processed": 7, "inserted": 5, "updated": 2,
                                                "rejected": 0})
    state.start_run(con, duck, "run-2", "erp_contacts", "run")
    state.finish_run(con, duck, "run-2", "blocked", {}, "check unique_email failed")
    state.start_run(con, duck, "run-3", "shop_customers", "run")
    now = datetime(2026, 1, 2, 3, 4, 5)
    state.write_audit(con, duck, "shop_customers", [
        state.AuditRow("run-3", key, None, "insert", status, reason, None, 422, 3, None, now,
                       now)
        for key, status, reason in [("k1", "rejected", "email is invalid"),
                                    ("k2", "dead", "email is invalid"),
                                    ("k3", "rejected", "phone is invalid"),
                                    ("k4", "ok", None)]])
    state.write_dead_letters(con, duck, "shop_customers", "run-3", [
        state.DeadLetter("k2", None, "h", "{}", "email is invalid", 3)])
    state.write_conflicts(con, duck, "shop_customers", "run-3", [
        ("k5", "northwind/1", "changed_in_destination", "email changed in the shop")])
    state.finish_run(con, duck, "run-3", "partial", {"processed": 5, "inserted": 1,
                                                     "updated": 0, "rejected": 3})
    con.close()
    return copy


@dataclass(frozen=True)
class StaticSite:
    """What ``goldloop report build`` wrote, and what it printed."""

    out: Path
    output: str


@pytest.fixture(scope="session")
def static_site(world: ReportWorld, tmp_path_factory: pytest.TempPathFactory) -> StaticSite:
    """The static build, made once through the CLI command as a user runs it."""
    from typer.testing import CliRunner

    from goldloop.commands.report import app

    shared = _session_folder(tmp_path_factory, "reports_static")
    out, printed = shared / "site", shared / "output.txt"
    with FileLock(str(shared / "build.lock")):
        if not printed.exists():
            result = CliRunner().invoke(
                app, ["build", "--out", str(out), "--max-pages", "2", "--max-customers", "3",
                      "--dbt-target", str(world.dbt_target)],
                env={"GOLDLOOP_WAREHOUSE": str(world.warehouse), "GOLDLOOP_TARGET": "duckdb"})
            assert result.exit_code == 0, result.output
            printed.write_text(result.output)
    return StaticSite(out, printed.read_text())


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and timings go (kept after the run, for people to look at)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
