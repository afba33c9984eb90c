"""``goldloop sync list | plan | run | replay | status`` as a user runs them (``--json`` too)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from goldloop.commands.sync import app
from goldloop.errors import ConfigError
from goldloop.settings import Settings
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import ERP_COLUMNS, create_model, sandbox_env, unique


@pytest.fixture
def env(sandbox: SandboxConfig, warehouse: Settings,
        monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in {**sandbox_env(sandbox), "GOLDLOOP_TARGET": "duckdb",
                        "GOLDLOOP_WAREHOUSE": str(warehouse.warehouse),
                        "SOURCES__ERP__REQUESTS_PER_SECOND": "0"}.items():
        monkeypatch.setenv(name, value)
    return warehouse


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_list_names_the_four_syncs() -> None:
    code, out = invoke("list", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and set(rows) == {"crm_contacts", "erp_contacts", "shop_customers",
                                       "deal_invoices"}
    assert rows["deal_invoices"]["destination"] == "erp invoices"
    assert "marts.sync_crm__contacts" in invoke("list")[1]


def test_plan_run_status_and_replay(env: Settings) -> None:
    tag = unique("c")
    rows = [{"sync_key": f"{tag}-{i}", "name": f"Cli {tag} {i}", "first_name": "Cli",
             "contact_number": f"{tag}-{i}", "email_address": f"{tag}.{i}@example.com"}
            for i in range(5)]
    rows[4]["email_address"] = "broken@"
    create_model(env, "sync_erp__contacts", ERP_COLUMNS, rows)

    code, out = invoke("plan", "erp_contacts", "--json")
    planned = json.loads(out)
    assert code == 0 and planned["counts"] == {"insert": 5}
    assert planned["samples"]["insert"][0]["fields"][0] == {
        "field": "Name", "before": None, "after": f"Cli {tag} 0"}
    code, text = invoke("plan", "erp_contacts")
    assert "insert               5" in text and f"Name: ∅ → 'Cli {tag} 0'" in text

    code, out = invoke("run", "erp_contacts", "--json")
    summary = json.loads(out)
    assert code == 1  # a rejected record makes the run exit non-zero
    assert (summary["inserted"], summary["rejected"], summary["status"]) == (4, 1, "partial")

    code, out = invoke("status", "erp_contacts", "--json")
    status = json.loads(out)
    assert status["records"] == {"rejected": 1, "synced": 4}
    assert status["runs"][0]["summary"]["inserted"] == 4
    code, text = invoke("status")
    assert "erp_contacts: rejected 1, synced 4; dead letters 0" in text
    assert "crm_contacts: never run" in text

    code, text = invoke("replay", "erp_contacts")
    assert code == 0 and "nothing to replay" in text


def test_an_unknown_sync_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown sync 'crm' \\(known: crm_contacts"):
        invoke("plan", "crm")
