"""The erp connector when Xero misbehaves: 429 bursts, 5xx, cut bodies, schema drift."""

from __future__ import annotations

import pytest

from goldloop.errors import SourceError
from tests.pipelines.test_erp_extract import KEYS, ErpRun, erp

__all__ = ["erp"]  # fixtures used here


def assert_matches_sandbox(run: ErpRun) -> None:
    """Every served record is in the warehouse exactly once, with the right delete flags."""
    counts = run.sandbox.counts()
    for table, key in KEYS.items():
        rows = run.sql(f"SELECT count(*), count(DISTINCT {key}), "
                       "sum(CASE WHEN _goldloop_deleted THEN 1 ELSE 0 END) "
                       f"FROM raw_erp.{table}")
        expected = (counts[table]["total"], counts[table]["total"], counts[table]["archived"])
        assert rows[0] == expected, table


def test_429_bursts_5xx_and_cut_bodies_still_load_everything(erp: ErpRun) -> None:
    erp.sandbox.faults(burst_429=3, error_rate=0.1, truncate_rate=0.2, seed=5)
    summary = erp.extract()
    assert_matches_sandbox(erp)
    assert summary.throttled >= 3 and summary.retries >= 3


def test_a_system_that_keeps_failing_fails_clearly_and_the_next_run_completes(
        erp: ErpRun) -> None:
    erp.sandbox.faults(error_rate=1.0)
    with pytest.raises(SourceError) as failure:
        erp.extract()
    message = str(failure.value)
    assert message.startswith("erp: GET /api.xro/2.0/") and "503" in message
    assert "run again later" in message

    erp.sandbox.faults(error_rate=0.0)
    erp.extract()
    assert_matches_sandbox(erp)


def test_schema_drift_is_loaded_and_recorded(erp: ErpRun) -> None:
    erp.extract()
    erp.sandbox.faults(drift="changed_type")  # EmailAddress turns from text into an object
    erp.sandbox.mutate(0.05, seed=2)  # only changed records are read again
    summary = erp.extract()
    assert summary.schema_changes, "the changed type was not reported"
    changed = {(c.table_name, c.change) for c in summary.schema_changes}
    assert ("contacts", "new_column") in changed or ("contacts", "type_changed") in changed
    assert any("schema drift in raw_erp.contacts" in w for w in summary.warnings)
    recorded = erp.sql("SELECT count(*) FROM raw_erp._goldloop_schema_changes "
                       "WHERE table_name = 'contacts'")
    assert recorded[0][0] == sum(1 for c in summary.schema_changes if c.table_name == "contacts")
    # the run still loaded every changed contact
    assert_matches_sandbox(erp)
