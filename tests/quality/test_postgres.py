"""The same suites on Postgres (database goldloop_h3), through Great Expectations' SQL datasource:
good data passes, a bad row fails, results are appended, dbt's results join them, and a
blocking failure stops the sync.

Skips only when Postgres at 127.0.0.1:5432 is unreachable and GOLDLOOP_REQUIRE_POSTGRES is unset.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from goldloop.quality.dbt_results import record_dbt_results
from goldloop.quality.run import run_suites
from goldloop.settings import Settings
from goldloop.warehouse import connect
from tests.quality.conftest import execute
from tests.quality.test_dbt_results import write_build

pytestmark = pytest.mark.postgres


def test_suites_record_and_guard_on_postgres(postgres_marts: Settings, tmp_path: Path) -> None:
    from reverse_etl.guards import GuardStop, evaluate, quality_checks
    from reverse_etl.plan import Plan
    from reverse_etl.spec import find_spec

    good = run_suites(postgres_marts, ["customers", "sync_crm__contacts"])
    assert not good.blocked and {o.status for o in good.outcomes()} == {"pass"}

    execute(postgres_marts, "insert into marts.sync_crm__contacts values "
            "('c4', 'ann@example.com', null, 'maybe'), ('c5', null, null, 'true')")
    execute(postgres_marts, "insert into marts.customers values ('c1', 'no-at-sign', true)")
    bad = run_suites(postgres_marts, ["customers", "sync_crm__contacts"])
    failing = sorted((o.model_name, o.check_name, o.status, o.failing_rows)
                     for o in bad.outcomes() if o.status != "pass")
    assert failing == [
        ("customers", "gx_email_format_email", "warn", 1),
        ("customers", "gx_unique_customer_id", "fail", 2),
        ("sync_crm__contacts", "gx_in_set_hs_email_optout", "fail", 1),
        ("sync_crm__contacts", "gx_not_null_match_key", "fail", 1),
        ("sync_crm__contacts", "gx_unique_email", "fail", 2)]

    assert record_dbt_results(postgres_marts, write_build(tmp_path / "target", "inv-pg", [
        ("unique_sync_crm__contacts_sync_key", "pass", 0)])) == 1
    counted = execute(postgres_marts, "select source, count(distinct run_id), count(*) "
                      "from quality.check_results group by 1 order by 1")
    assert counted == [("dbt", 1, 1), ("gx", 2, len(good.outcomes()) + len(bad.outcomes()))]

    spec = find_spec("crm_contacts")
    with connect(postgres_marts) as con:
        stopped = sorted(c.name for c in quality_checks(con, "postgres", spec) or []
                         if c.failing and c.blocking)
        assert stopped == ["gx_in_set_hs_email_optout", "gx_not_null_match_key",
                           "gx_unique_email"]
        with pytest.raises(GuardStop, match="gx_unique_email"):
            evaluate(con, "postgres", spec, Plan("crm_contacts", {}, [], 5, 0, 0.0),
                     approve=True)
