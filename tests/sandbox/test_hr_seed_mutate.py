"""Seeding the BambooHR emulator from a world, and mutating it the way an HR team would."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest

from sandbox.config import Limits, SandboxConfig
from sandbox.context import SystemContext
from sandbox.hr.fields import utc_date
from sandbox.hr.mutate import mutate, plan_counts
from sandbox.hr.records import OBJECT
from sandbox.hr.sample import sample_world
from sandbox.hr.seed import seed
from sandbox.serve import build_app
from sandbox.store import Store
from sandbox.webhooks import now_ms
from sandbox.world.model import Break, World

with warnings.catch_warnings():  # starlette asks for httpx2, which the project does not pin
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def make_client(tmp_path: Path, world: World) -> tuple[TestClient, SystemContext]:
    store = Store(tmp_path / "hr.sqlite")
    seed(world, store)
    ctx = SystemContext("hr", tmp_path, SandboxConfig(limits=Limits(enabled=False)), store)
    client = TestClient(build_app(ctx), base_url="http://127.0.0.1:18104")
    client.auth = (ctx.config.credentials.hr_api_key, "x")
    client.headers["Accept"] = "application/json"
    return client, ctx


def changed_since(client: TestClient, since: str) -> dict[str, dict[str, str]]:
    resp = client.get("/api/v1/employees/changed", params={"since": since})
    assert resp.status_code == 200
    return dict(resp.json()["employees"])


def watermark(client: TestClient) -> str:
    return str(client.get("/api/v1/employees/changed",
                          params={"since": "2000-01-01T00:00:00Z"}).json()["latest"])


def test_seed_writes_employees_truth_and_hr_breaks(tmp_path: Path) -> None:
    world = sample_world(40)
    world.breaks += [Break("leaver_active_owner", "crm", "501", "not ours"),
                     Break("stale_title", "hr", "105", "title differs from CRM")]
    store = Store(tmp_path / "hr.sqlite")
    seed(world, store)
    assert store.count(OBJECT) == 40
    assert store.count(OBJECT, "archived = 1") == sum(e.archived for e in world.hr.employees)
    assert store.truth_rows() == [(OBJECT, e.record_id, e.entity_id)
                                  for e in world.hr.employees]
    assert store.break_rows() == [("stale_title", "105", "title differs from CRM")]


def test_seed_is_fast_for_a_large_company(tmp_path: Path) -> None:
    import time

    world = sample_world(20_000)
    started = time.perf_counter()
    seed(world, Store(tmp_path / "hr.sqlite"))
    assert time.perf_counter() - started < 10


def test_deleted_employees_show_as_deleted_and_are_not_served(tmp_path: Path) -> None:
    world = sample_world(40)
    client, _ctx = make_client(tmp_path, world)
    deleted = [e for e in world.hr.employees if e.archived]
    assert deleted
    feed = changed_since(client, "2000-01-01T00:00:00Z")
    for record in deleted:
        assert feed[record.record_id]["action"] == "Deleted"
        assert client.get(f"/api/v1/employees/{record.record_id}").status_code == 404
    only_deleted = client.get("/api/v1/employees/changed",
                              params={"since": "2000-01-01T00:00:00Z", "type": "deleted"})
    assert set(only_deleted.json()["employees"]) == {e.record_id for e in deleted}
    listed = client.get("/api/v1/employees", params={"page[limit]": 2500}).json()["data"]
    assert not {r["employeeId"] for r in listed} & {e.record_id for e in deleted}


def test_mutate_changes_exactly_what_it_reports(tmp_path: Path) -> None:
    world = sample_world(200)
    client, ctx = make_client(tmp_path, world)
    mark = watermark(client)
    counts = mutate(ctx, 0.1, random.Random(7))
    live = sum(not e.archived for e in world.hr.employees)
    assert counts == plan_counts(live, 0.1) == {"updated": 18, "created": 3, "terminated": 3,
                                                "archived": 0}

    feed = changed_since(client, mark)
    assert len(feed) == sum(counts.values())
    actions = [change["action"] for change in feed.values()]
    assert actions.count("Inserted") == counts["created"]
    assert actions.count("Deleted") == counts["archived"]
    assert actions.count("Updated") == counts["updated"] + counts["terminated"]

    today = utc_date(now_ms())
    before = {e.record_id: e for e in world.hr.employees}
    fields = "status,terminationDate,jobTitle,department,hireDate,workEmail,supervisorEId"
    leavers = moved = 0
    for employee_id, change in feed.items():
        now = client.get(f"/api/v1/employees/{employee_id}", params={"fields": fields}).json()
        if change["action"] == "Inserted":
            assert (now["status"], now["hireDate"]) == ("Active", today)
            assert now["workEmail"].endswith("@goldloop.example")
        elif now["status"] == "Inactive":
            assert now["terminationDate"] == today
            leavers += 1
        else:
            old = before[employee_id]
            assert (now["jobTitle"], now["department"]) != (old.job_title, old.department)
            moved += 1
    assert (leavers, moved) == (counts["terminated"], counts["updated"])
    truth = {record_id for _obj, record_id, _entity in ctx.store.truth_rows()}
    assert {i for i, c in feed.items() if c["action"] == "Inserted"} <= truth

    # a second read from the new watermark is empty; a second mutate is seen on its own
    mark2 = watermark(client)
    assert changed_since(client, mark2) == {}
    counts2 = mutate(ctx, 0.02, random.Random(8))
    assert len(changed_since(client, mark2)) == sum(counts2.values())


def test_mutate_deletes_now_and_then_in_large_companies(tmp_path: Path) -> None:
    world = sample_world(1000)
    client, ctx = make_client(tmp_path, world)
    mark = watermark(client)
    counts = mutate(ctx, 0.2, random.Random(3))
    assert counts["archived"] >= 1
    deleted = [i for i, c in changed_since(client, mark).items() if c["action"] == "Deleted"]
    assert len(deleted) == counts["archived"]
    assert all(client.get(f"/api/v1/employees/{i}").status_code == 404 for i in deleted)


def test_mutate_through_the_admin_endpoint(tmp_path: Path) -> None:
    client, _ctx = make_client(tmp_path, sample_world(40))
    mark = watermark(client)
    resp = client.post("/_sandbox/mutate", json={"fraction": 0.05, "seed": 1})
    assert resp.status_code == 200
    counts = resp.json()
    assert counts["updated"] == 2 and counts["created"] == 1
    assert len(changed_since(client, mark)) == sum(counts.values())


def test_mutate_needs_a_seeded_store(tmp_path: Path) -> None:
    ctx = SystemContext("hr", tmp_path, SandboxConfig(), Store(tmp_path / "hr.sqlite"))
    with pytest.raises(ValueError, match="seed it first"):
        mutate(ctx, 0.1, random.Random(1))
