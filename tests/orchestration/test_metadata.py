"""What the materialisations show besides the data: links to the report site, the breaks open
and the match rate on the marts, and the dbt parse each run hands on to the next."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, Output

from goldloop.settings import Settings
from orchestration.links import REPORT_URL_ENV, model_link, report_url, sync_link
from orchestration.transform.metadata import enrich
from orchestration.transform.project import PARTIAL_PARSE, keep_partial_parse


def test_report_links_use_the_configured_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REPORT_URL_ENV, raising=False)
    assert report_url("reconciliation", kind="duplicate_invoice") == (
        "http://127.0.0.1:8780/reconciliation?kind=duplicate_invoice")
    monkeypatch.setenv(REPORT_URL_ENV, "https://reports.example.com/goldloop/")
    assert sync_link("crm_contacts")["report"].value == (
        "https://reports.example.com/goldloop/syncs?sync=crm_contacts")
    assert model_link(AssetKey(["dbt", "employees"]))["report"].value == (
        "https://reports.example.com/goldloop/compliance")
    assert str(model_link(AssetKey(["dbt", "customer_xref"]))["report"].value).endswith(
        "/customers")
    assert str(model_link(AssetKey(["dbt", "orders_vs_invoices"]))["report"].value).endswith(
        "/reconciliation")


def _fake_counts(_settings: Settings, model: str) -> dict[str, Any]:
    return {"breaks_open": 3} if model == "orders_vs_invoices" else {"match_rate": 0.5}


def test_counted_marts_carry_their_counts_and_dbts_order_is_kept() -> None:
    keys = {"o_stg": AssetKey(["dbt", "stg_shop__orders"]),
            "o_breaks": AssetKey(["dbt", "orders_vs_invoices"]),
            "o_customers": AssetKey(["dbt", "customers"])}
    events = [
        Output(None, output_name="o_stg"),
        Output(None, output_name="o_breaks"),
        AssetCheckResult(asset_key=keys["o_breaks"], check_name="unique_break_id", passed=True,
                         severity=AssetCheckSeverity.ERROR),
        Output(None, output_name="o_customers", metadata={"dagster/row_count": 5}),
    ]
    seen: list[str] = []

    def name(event: Any) -> str:
        return str(event.output_name if isinstance(event, Output) else event.check_name)

    def stream() -> Iterator[Any]:
        for event in events:
            seen.append(name(event))
            yield event

    out = enrich(stream(), keys.__getitem__, Settings(), counter=_fake_counts)
    assert next(out).output_name == "o_stg" and seen == ["o_stg"]  # streamed at once
    rest = list(out)
    assert [name(e) for e in rest] == [
        "o_breaks", "unique_break_id", "o_customers"]  # dbt's order: dependencies first
    breaks, check, customers = rest
    assert str(customers.metadata["report"].value).endswith("/customers")
    assert customers.metadata["dagster/row_count"].value == 5
    assert breaks.metadata["breaks_open"].value == 3
    assert str(breaks.metadata["report"].value).endswith("/reconciliation")
    assert str(check.metadata["report"].value).endswith("/quality?model=orders_vs_invoices")


def test_a_runs_dbt_parse_is_kept_for_the_next_run(tmp_path: Path) -> None:
    run_target, shared = tmp_path / "run-1", tmp_path / "shared"
    assert not keep_partial_parse(run_target, shared)  # a failed run left nothing
    run_target.mkdir()
    (run_target / PARTIAL_PARSE).write_bytes(b"parsed with this profile")
    (shared).mkdir()
    (shared / PARTIAL_PARSE).write_bytes(b"parsed with another profile")

    assert keep_partial_parse(run_target, shared)
    assert (shared / PARTIAL_PARSE).read_bytes() == b"parsed with this profile"
    assert sorted(p.name for p in shared.iterdir()) == [PARTIAL_PARSE]  # no temporary left
