"""The shop connector when Shopify misbehaves: 429s, 5xx, cut bodies, drift, its rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldloop.errors import SourceError
from goldloop.settings import Settings
from sandbox.config import Limits
from sandbox.shop.shops import table
from tests.pipelines.sandbox_server import serve_system
from tests.pipelines.test_shop_extract import (
    SHOPS,
    ShopRun,
    shop,
    shop_config_env,
    world,
)

__all__ = ["shop"]  # fixtures used here


def assert_matches_sandbox(run: ShopRun) -> None:
    """Every served record is in the warehouse exactly once, with the right delete flags."""
    counts = run.sandbox.counts()
    for obj in ("customers", "orders", "products"):
        expected = sum(counts[table(n, obj)]["total"] for n in SHOPS)
        if obj == "customers":  # deleted customers are not served
            expected -= sum(counts[table(n, obj)]["archived"] for n in SHOPS)
        rows = run.sql(f"SELECT count(*), count(DISTINCT record_id) FROM raw_shop.{obj}")
        assert rows[0] == (expected, expected), obj
    flagged = run.sql("SELECT count(*) FROM raw_shop.orders WHERE _goldloop_deleted")
    assert flagged[0][0] == sum(counts[table(n, "orders")]["archived"] for n in SHOPS)


def test_429_bursts_5xx_and_cut_bodies_still_load_everything(shop: ShopRun) -> None:
    shop.sandbox.faults(burst_429=3, error_rate=0.1, truncate_rate=0.2, seed=5)
    summary = shop.extract()
    assert_matches_sandbox(shop)
    assert summary.throttled >= 3 and summary.retries >= 3


def test_a_system_that_keeps_failing_fails_clearly_and_the_next_run_completes(
        shop: ShopRun) -> None:
    shop.sandbox.faults(error_rate=1.0)
    with pytest.raises(SourceError) as failure:
        shop.extract()
    message = str(failure.value)
    assert "shop:" in message and "503" in message and ".json" in message
    assert "run again later" in message
    # nothing half-extracted was reported or loaded
    assert not Path(shop.settings.warehouse).exists() or not shop.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_shop' "
        "AND table_name = 'customers'")

    shop.sandbox.faults(error_rate=0.0)
    shop.extract()
    assert_matches_sandbox(shop)


def test_schema_drift_is_loaded_and_recorded(shop: ShopRun) -> None:
    shop.extract()
    shop.sandbox.faults(drift="new_field")
    shop.sandbox.mutate(0.01, seed=2)  # only changed records are read again
    summary = shop.extract()
    changes = {(c.table_name, c.column_name, c.change) for c in summary.schema_changes}
    assert ("customers", "sandbox_drift_note", "new_column") in changes
    assert any("schema drift in raw_shop.customers" in w for w in summary.warnings)
    recorded = shop.sql("SELECT table_name, column_name, change "
                        "FROM raw_shop._goldloop_schema_changes")
    assert ("customers", "sandbox_drift_note", "new_column") in recorded
    noted = shop.sql("SELECT count(*) FROM raw_shop.customers WHERE sandbox_drift_note IS NOT NULL")
    assert noted[0][0] > 0


@pytest.fixture
def limited_shop(tmp_path: Path, duckdb_warehouse: Settings,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopRun]:
    # Shopify's bucket shrunk to 4 calls leaking 8/s so the test is quick
    limits = Limits(shop_bucket=4, shop_leak_per_second=8.0)
    with serve_system("shop", world(), tmp_path / "sandbox", limits=limits) as sandbox:
        shop_config_env(sandbox, monkeypatch)
        monkeypatch.setenv("SOURCES__SHOP__PAGE_SIZE", "50")
        yield ShopRun(sandbox, duckdb_warehouse, tmp_path / "dlt")


def test_the_pace_keeps_under_the_shops_bucket(limited_shop: ShopRun,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__SHOP__REQUESTS_PER_SECOND", "7.5")
    monkeypatch.setenv("SOURCES__SHOP__BURST", "4")
    summary = limited_shop.extract()
    assert_matches_sandbox(limited_shop)
    assert summary.requests >= 20  # enough calls to overflow a 4-call bucket unpaced
    assert summary.throttled <= 2
