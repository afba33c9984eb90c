"""A real browser on the Dagster UI that ``make dev`` serves: the asset graph, then a click on
Materialize and the run succeeding. Screenshots land in ``artifacts/orchestration/``.

Runs ``dagster dev`` on a free port with the dev instance file (``orchestration/dagster.dev.yaml``)
and headless Chromium (``apt-get install -y chromium chromium-driver``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.orchestration.support import dbt_target_dir
from tests.support import free_ports

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "orchestration"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId status } } } }"


@dataclass
class DevServer:
    url: str
    warehouse: Path
    log: Path

    def graphql(self, query: str) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/graphql", json={"query": query}, timeout=10)
        response.raise_for_status()
        data: dict[str, Any] = response.json()["data"]
        return data


def _wait_loaded(server: DevServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 900  # the dev instance allows the code server 600 s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"dagster dev exited: {log.read_text()[-3000:]}")
        try:
            entries = server.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
        except (httpx.HTTPError, KeyError, TypeError):
            time.sleep(1)
            continue
        location = next((e for e in entries if e["name"] == "goldloop"), None)
        if location and location["loadStatus"] == "LOADED":
            error = location["locationOrLoadError"]
            assert error["__typename"] == "RepositoryLocation", error.get("message")
            return
        time.sleep(1)
    raise AssertionError(f"the code location did not load: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path
               ) -> Iterator[DevServer]:
    """``dagster dev`` on the goldloop code location, as ``make dev`` starts it."""
    root = tmp_path_factory.mktemp("dagster_dev")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.dev.yaml", home / "dagster.yaml")
    workspace = root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n      module_name: orchestration.definitions\n"
        f"      location_name: goldloop\n      working_directory: {REPO}\n")
    port = free_ports(1)[0]
    warehouse = root / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "GOLDLOOP_TARGET": "duckdb",
           "GOLDLOOP_WAREHOUSE": str(warehouse), "DBT_TARGET_PATH": dbt_target_dir(root),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = root / "dagster-dev.log"

    def default_signals() -> None:  # a backgrounded parent may ignore them
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(workspace),
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=default_signals)
    server = DevServer(f"http://127.0.0.1:{port}", warehouse, log)
    try:
        _wait_loaded(server, process, log)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium through Selenium (no network: a fresh profile, background off)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium is not installed: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="goldloop-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1600,1000",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait_for_text(driver: Any, *texts: str, timeout: float = 90) -> str:
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        body = driver.find_element(By.TAG_NAME, "body").text
        if all(text in body for text in texts):
            return str(body)
        time.sleep(0.5)
    raise AssertionError(f"page never showed {texts}: {body[:1000]}")


def _wait_until_gone(driver: Any, text: str, timeout: float = 120) -> None:
    """Wait until the page no longer shows ``text`` (e.g. a loading note)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text not in driver.find_element(By.TAG_NAME, "body").text:
            return
        time.sleep(0.5)
    raise AssertionError(f"the page still shows {text!r} after {timeout:.0f}s")


def _wait_for_run(server: DevServer, timeout: float) -> dict[str, Any]:
    """The newest run once it has finished (a busy machine may take minutes to start it)."""
    deadline = time.monotonic() + timeout
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = server.graphql(RUNS_QUERY)["runsOrError"]["results"]
        if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return runs[0]
        time.sleep(2)
    raise AssertionError(f"no run finished within {timeout:.0f}s: {runs[:1]}\n"
                         f"{server.log.read_text()[-3000:]}")


def _dismiss_welcome(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
        button.click()


def _close_dialogs(driver: Any) -> None:
    """Close whatever dialog the UI opened on its own (a welcome or a "what's new" note)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for label in ("Skip", "Close", "Dismiss", "Got it", "Done"):
        in_dialog = f"//*[contains(@class, 'bp5-overlay')]//button[normalize-space()='{label}']"
        for button in driver.find_elements(By.XPATH, in_dialog):
            with contextlib.suppress(WebDriverException):
                button.click()
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def _click(driver: Any, xpath: str, timeout: float = 60) -> None:
    """Click the button at ``xpath`` once no dialog lies over it.

    The UI may open a dialog (with a backdrop that takes the click) a moment after the page
    shows, so a click it intercepts closes the dialog and tries again.
    """
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    deadline = time.monotonic() + timeout
    while True:
        button = WebDriverWait(driver, max(1.0, deadline - time.monotonic())).until(
            expected_conditions.element_to_be_clickable((By.XPATH, xpath)))
        try:
            button.click()
            return
        except ElementClickInterceptedException:
            if time.monotonic() > deadline:
                raise
            _close_dialogs(driver)
            time.sleep(1)


def test_the_ui_shows_the_asset_graph_and_a_materialisation_succeeds(
        dev_server: DevServer, browser: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{dev_server.url}/asset-groups")
    _wait_for_text(browser, "Global asset lineage", "ingest", "transform", "activate")
    _dismiss_welcome(browser)
    _wait_until_gone(browser, "fetching statuses")
    time.sleep(1)
    browser.save_screenshot(str(ARTIFACTS / "dagster-asset-groups.png"))

    browser.get(f"{dev_server.url}/assets/dbt/customers?view=lineage&lineageScope=upstream"
                "&lineageDepth=3")
    _wait_for_text(browser, "stg_crm__contacts", "ingest", "transform")
    time.sleep(2)  # let the graph finish its layout before the picture
    browser.save_screenshot(str(ARTIFACTS / "dagster-asset-graph.png"))

    # a dbt seed: the one asset that needs no sandbox to materialise
    browser.get(f"{dev_server.url}/assets/dbt/email_domain_corrections")
    _wait_for_text(browser, "email_domain_corrections", "Materialize")
    _dismiss_welcome(browser)
    _click(browser, "//button[normalize-space()='Materialize']")
    _wait_for_text(browser, "Launched run")
    # the run's own process loads the code location and parses dbt: minutes on a busy machine
    run = _wait_for_run(dev_server, timeout=900)
    browser.get(f"{dev_server.url}/runs/{run['runId']}")
    if run["status"] != "SUCCESS":
        time.sleep(2)
        browser.save_screenshot(str(ARTIFACTS / "dagster-run-failed.png"))
    assert run["status"] == "SUCCESS", dev_server.log.read_text()[-3000:]
    _wait_for_text(browser, "Success")
    time.sleep(2)
    browser.save_screenshot(str(ARTIFACTS / "dagster-run-succeeded.png"))
    con = duckdb.connect(str(dev_server.warehouse), read_only=True)
    try:
        tables = {row[0] for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'seeds'").fetchall()}
    finally:
        con.close()
    assert "email_domain_corrections" in tables
