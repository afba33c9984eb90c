"""A real browser on the report site, served and static, with the network cut off but loopback.

Headless Chromium loads every page from the report server and from the static build: no console
message, every request to the report server or to local files, charts drawn (non-empty SVG), a
search through the form and a CSV export through the browser's own download. Full-page
screenshots and the page load times land in ``artifacts/reports/`` for people to look at.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from goldloop.settings import Settings
from tests.reports.conftest import ReportWorld, StaticSite, serving

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHARTED = {"index", "reconciliation", "conflicts", "quality", "compliance", "metrics", "syncs",
           "metric"}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium that can reach loopback only (every other host goes to a dead proxy)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail("headless Chromium is missing: apt-get install -y chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1440,1000", "--proxy-server=http://127.0.0.1:9",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: Any, path: Path) -> None:
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000),
                 "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))


def _requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _visit(driver: Any, url: str, name: str, shot: Path) -> float:
    """Load ``url``; check console, requests and charts; screenshot; return seconds."""
    driver.get_log("browser")
    driver.get_log("performance")
    started = time.perf_counter()
    driver.get(url)
    seconds = time.perf_counter() - started
    assert driver.title.endswith("· goldloop reports"), driver.title
    assert driver.get_log("browser") == []
    assert "Traceback" not in driver.page_source
    network = ("http:", "https:", "ws:", "wss:", "ftp:")  # not chrome:// (the browser's own)
    outside = [u for u in _requested_urls(driver)
               if u.startswith(network) and not u.startswith("http://127.0.0.1:")]
    assert outside == []
    if name.split("--")[0] in CHARTED:
        marks = driver.execute_script(
            "return Array.from(document.querySelectorAll('svg.chart')).map("
            "s => s.querySelectorAll('rect.bar, polyline').length)")
        assert marks and max(marks) > 0, f"{name}: no chart drawn"
    _screenshot(driver, shot)
    return seconds


def _pages(world: ReportWorld) -> dict[str, str]:
    customer_id = world.scalar("select customer_id from marts.customer_field_conflicts "
                               "order by customer_id limit 1")
    return {"index": "/", "reconciliation": "/reconciliation", "customers": "/customers",
            "conflicts": "/conflicts", "customer": f"/customer?id={customer_id}",
            "quality": "/quality", "compliance": "/compliance", "metrics": "/metrics",
            "metric": "/metrics?metric=revenue", "dictionary": "/dictionary"}


def test_every_served_page_loads_clean_with_its_charts(browser: Any, live_url: str,
                                                       world: ReportWorld,
                                                       artifacts: Path) -> None:
    timings = {}
    for name, path in _pages(world).items():
        timings[name] = round(_visit(browser, live_url + path, name,
                                     artifacts / f"served-{name}.png"), 3)
    menu = browser.find_elements("css selector", "nav.menu a")
    assert [a.text for a in menu] == ["Overview", "Reconciliation", "Customers", "Conflicts",
                                      "Data quality", "Compliance", "Metrics", "Data dictionary"]
    (artifacts / "served-page-seconds.json").write_text(json.dumps(timings, indent=2))


def test_the_sync_health_page_shows_runs_rejects_and_conflicts(browser: Any, synced: Path,
                                                               world: ReportWorld,
                                                               artifacts: Path) -> None:
    with serving(Settings(warehouse=synced), world.dbt_target) as url:
        _visit(browser, url + "/syncs", "syncs", artifacts / "served-syncs.png")
        menu = [a.text for a in browser.find_elements("css selector", "nav.menu a")]
        text = browser.find_element("css selector", "main").text
    assert "Sync health" in menu
    # the three runs' outcomes, the top reject reason and the conflict waiting for a person
    assert {"crm_contacts", "erp_contacts", "shop_customers"} <= set(text.split())
    assert "email is invalid" in text
    assert "email changed in the shop" in text


def test_the_breaks_trend_is_drawn(browser: Any, live_url: str) -> None:
    for path, title in (("/", "Breaks open at the end of each day"),
                        ("/reconciliation", "Open breaks at the end of each day"),
                        ("/reconciliation", "Amount at stake at the end of each day")):
        browser.get(live_url + path)
        marks = browser.execute_script(
            "return Array.from(document.querySelectorAll('svg.chart'))"
            ".filter(s => (s.getAttribute('aria-label') || '').startsWith(arguments[0]))"
            ".map(s => s.querySelectorAll('rect.bar').length)", title)
        assert marks and marks[0] > 0, f"{path}: {title!r} not drawn"
    # the Dagster links go to loopback's Dagster UI by default, and are never fetched
    links = browser.find_elements("css selector", "p.dagster a[data-dagster]")
    assert links and all(a.get_attribute("href").startswith("http://127.0.0.1:3000/assets/")
                         for a in links)
    assert browser.get_log("browser") == []


def test_search_in_the_browser_opens_the_customer(browser: Any, live_url: str,
                                                  world: ReportWorld, artifacts: Path) -> None:
    customer_id, email = world.query(
        "select customer_id, email from marts.customers where email is not null "
        "order by customer_id desc limit 1")[0]
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_url + "/customers")
    box = browser.find_element("css selector", "input[name=q]")
    box.send_keys(email)
    browser.find_element("css selector", "#search-button").click()
    WebDriverWait(browser, 20).until(lambda d: "q=" in d.current_url)
    found = browser.find_elements("css selector", "#t-customers td[data-col=customer_id] a")
    assert customer_id in [a.text for a in found]
    _screenshot(browser, artifacts / "served-search.png")
    next(a for a in found if a.text == customer_id).click()
    assert customer_id in browser.find_element("css selector", "[data-field=customer_id]").text
    assert browser.get_log("browser") == []


def test_csv_export_downloads_the_filtered_table(browser: Any, live_url: str,
                                                 world: ReportWorld,
                                                 tmp_path: Path) -> None:
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(live_url + "/reconciliation?kind=duplicate_invoice")
    browser.find_element("css selector", "a[data-csv=breaks]").click()
    target = tmp_path / "breaks.csv"
    deadline = time.monotonic() + 20
    while not target.exists() or list(tmp_path.glob("*.crdownload")):
        assert time.monotonic() < deadline, "the CSV did not download"
        time.sleep(0.1)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    expected = {r for (r,) in world.query(
        "select record_id from marts.orders_vs_invoices where break_kind = 'duplicate_invoice'")}
    assert {r["record_id"] for r in rows} == expected
    assert {r["break_kind"] for r in rows} <= {"duplicate_invoice"}


def test_static_build_opens_from_disk_clean(browser: Any, world: ReportWorld, artifacts: Path,
                                            static_site: StaticSite) -> None:
    out = static_site.out
    customer = sorted(out.glob("customer--id-*.html"))[0].name
    pages = {"index": "index.html", "reconciliation": "reconciliation.html",
             "customers": "customers.html", "conflicts": "conflicts.html",
             "customer": customer, "quality": "quality.html", "compliance": "compliance.html",
             "metrics": "metrics.html", "metric": "metrics--metric-revenue.html",
             "dictionary": "dictionary.html"}
    timings = {}
    for name, file in pages.items():
        timings[name] = round(_visit(browser, (out / file).as_uri(), name,
                                     artifacts / f"static-{name}.png"), 3)
    (artifacts / "static-page-seconds.json").write_text(json.dumps(timings, indent=2))
    # a filter chip goes to its pre-rendered page, and that page's CSV is on disk
    browser.get((out / "reconciliation.html").as_uri())
    browser.find_element("link text", "Duplicate invoice").click()
    assert browser.current_url.endswith("reconciliation--kind-duplicate_invoice.html")
    href = browser.find_element("css selector", "a[data-csv=breaks]").get_attribute("href")
    rows = list(csv.DictReader(io.StringIO(Path(href.removeprefix("file://")).read_text())))
    assert {r["record_id"] for r in rows} == {r for (r,) in world.query(
        "select record_id from marts.orders_vs_invoices where break_kind = 'duplicate_invoice'")}
    # the static copy filters the rows a page holds, in the browser
    browser.get((out / "customers.html").as_uri())
    last_name = browser.find_element(
        "css selector", "#t-customers td[data-col=last_name]").text
    browser.find_element("css selector", "input[data-filter-table]").send_keys(last_name)
    shown = [r for r in browser.find_elements("css selector", "#t-customers tbody tr[data-row]")
             if r.is_displayed()]
    assert shown and all(last_name.lower() in r.text.lower() for r in shown)
    assert browser.get_log("browser") == []
