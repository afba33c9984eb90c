"""``kill -9`` during extract and during load, then rerun: the warehouse equals the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.run import extract
from tests.pipelines.sandbox_server import serve_system
from tests.pipelines.test_crm_extract import assert_equals_sandbox, crm_world
from tests.pipelines.warehouses import duckdb_settings, rows

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from pathlib import Path
from goldloop.settings import Settings
from pipelines.run import extract
extract(["crm"], settings=Settings(warehouse=Path(sys.argv[1])),
        progress=lambda msg: print(msg, flush=True))
print("finished", flush=True)
"""


def _run_and_kill(env: dict[str, str], cwd: Path, warehouse: Path, when: str,
                  delay: float) -> bool:
    """Start an extract in a child process and SIGKILL it ``delay`` s after ``when`` prints.

    Returns whether the kill landed before the child finished.
    """
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, str(warehouse)], cwd=cwd, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.startswith(when):
                time.sleep(delay)
                break
            if line.startswith("finished"):
                return False
        killed = child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
        return killed
    finally:
        child.wait(timeout=30)


@pytest.mark.parametrize(("when", "delay"), [("crm: extracting", 0.4), ("crm: loading", 0.0)])
def test_kill_9_then_rerun_equals_the_source_without_duplicates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str, delay: float) -> None:
    monkeypatch.chdir(tmp_path)
    settings = duckdb_settings(tmp_path)
    with serve_system("crm", crm_world(), tmp_path / "sandbox") as crm:
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "SOURCES__CRM__BASE_URL": crm.base_url,
               "SOURCES__CRM__ACCESS_TOKEN": crm.credentials.crm_token,
               "SOURCES__CRM__REQUESTS_PER_SECOND": "0",
               # the rerun must see what mutate archived: sweep on every run
               "SOURCES__CRM__ARCHIVED_SWEEP_EVERY_HOURS": "0"}
        for key in ("SOURCES__CRM__BASE_URL", "SOURCES__CRM__ACCESS_TOKEN",
                    "SOURCES__CRM__REQUESTS_PER_SECOND",
                    "SOURCES__CRM__ARCHIVED_SWEEP_EVERY_HOURS"):
            monkeypatch.setenv(key, env[key])
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        crm.faults(latency_ms=25)  # slow enough for the kill to land mid-step
        assert _run_and_kill(env, tmp_path, settings.warehouse, when, delay), "kill came late"
        crm.faults()
        crm.mutate(0.05, seed=4)  # the source moves on while the extract was down
        extract(["crm"], settings=settings)
        assert_equals_sandbox(settings, crm)
        for table in ("contacts", "deals", "companies"):
            assert rows(settings, f"SELECT id FROM raw_crm.{table} GROUP BY id "
                                  "HAVING count(*) > 1") == []
