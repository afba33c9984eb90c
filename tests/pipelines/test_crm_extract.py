"""The HubSpot connector against the CRM emulator: complete, incremental, delete-aware, robust."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldloop.errors import SourceError
from goldloop.settings import Settings
from pipelines.common.incremental import iso_ms, to_epoch_ms
from pipelines.common.summary import SystemSummary
from pipelines.crm.objects import CONTACTS
from pipelines.run import extract
from sandbox.config import Limits
from sandbox.crm.associations import remove_links
from sandbox.world.model import World
from tests.pipelines.sandbox_server import Rewrite, RunningSystem, serve_system, small_world
from tests.pipelines.warehouses import duckdb_settings, postgres_settings, rows, scalar

OBJECTS = ("contacts", "companies", "deals", "line_items", "products", "owners")


@functools.lru_cache(maxsize=1)
def crm_world() -> World:
    return small_world("crm")


@contextmanager
def serving_crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                rewrite: Rewrite | None = None) -> Iterator[RunningSystem]:
    """The CRM emulator, with the connector pointed at it through env config."""
    monkeypatch.chdir(tmp_path)
    with serve_system("crm", crm_world(), tmp_path / "sandbox", rewrite=rewrite) as running:
        monkeypatch.setenv("SOURCES__CRM__BASE_URL", running.base_url)
        monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", running.credentials.crm_token)
        monkeypatch.setenv("SOURCES__CRM__BACKOFF_FACTOR", "0.01")
        monkeypatch.setenv("SOURCES__CRM__REQUESTS_PER_SECOND", "0")  # the emulator's are off
        monkeypatch.setenv("SOURCES__CRM__SEARCH_REQUESTS_PER_SECOND", "0")
        # these tests check deletes after every run: sweep the archived lists each time
        monkeypatch.setenv("SOURCES__CRM__ARCHIVED_SWEEP_EVERY_HOURS", "0")
        yield running


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSystem]:
    with serving_crm(tmp_path, monkeypatch) as running:
        yield running


def run(settings: Settings, **kwargs: Any) -> SystemSummary:
    (summary,) = extract(["crm"], settings=settings, **kwargs)
    return summary


def loaded(summary: SystemSummary) -> dict[str, int]:
    return {t.table: t.rows_loaded for t in summary.tables}


def assert_equals_sandbox(settings: Settings, crm: RunningSystem) -> None:
    """Every record of the emulator is in the warehouse once, flagged iff archived."""
    counts = crm.counts()
    for obj in OBJECTS:
        total, flagged, distinct = rows(settings, f"SELECT count(*), count(*) FILTER (WHERE "
                                        f"_goldloop_deleted), count(DISTINCT id) FROM "
                                        f"raw_crm.{obj}")[0]
        assert (total, flagged, distinct) == (counts[obj]["total"], counts[obj]["archived"],
                                              counts[obj]["total"]), obj


def changed_since(crm: RunningSystem, since_ms: int) -> dict[str, set[str]]:
    """Ids per object the emulator changed (or archived) at or after ``since_ms``."""
    changed: dict[str, set[str]] = {}
    for obj in OBJECTS:
        ids = set()
        for doc in crm.ctx.store.iter_all(obj):
            archived_at = doc.body.get("archivedAt")
            if doc.updated_ms >= since_ms or (archived_at and
                                              to_epoch_ms(archived_at) >= since_ms):
                ids.add(doc.id)
        changed[obj] = ids
    return changed


def create(crm: RunningSystem, obj: str, properties: dict[str, str]) -> str:
    response = httpx.post(
        f"{crm.base_url}/crm/v3/objects/{obj}",
        json={"properties": properties, "associations": []},
        headers={"Authorization": f"Bearer {crm.credentials.crm_token}"}, timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def test_full_load_then_nothing_then_exactly_the_changed_records(crm: RunningSystem,
                                                                 tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    first = run(settings)
    assert_equals_sandbox(settings, crm)
    assert loaded(first)["contacts"] == crm.counts()["contacts"]["total"]
    assert first.requests > 0

    second = run(settings)
    assert sum(loaded(second).values()) == 0

    since = int(time.time() * 1000) - 1
    changes = crm.mutate(0.05)
    assert sum(changes.values()) > 0
    third = run(settings)
    expected = changed_since(crm, since)
    for obj in OBJECTS:
        got = {r[0] for r in rows(settings, f"SELECT id FROM raw_crm.{obj} WHERE _dlt_load_id "
                                            f"IN ({', '.join(repr(i) for i in third.load_ids)})")}
        assert got == expected[obj], obj
    assert_equals_sandbox(settings, crm)


def archived_listings(crm: RunningSystem, since: int) -> int:
    """How many archived record lists reached the emulator after request ``since`` (owners, a
    single page, are listed every run)."""
    return sum(1 for r in crm.requests[since:] if r.url.params.get("archived") == "true"
               and r.url.path.startswith("/crm/v3/objects/"))


def test_archived_records_are_swept_on_the_first_run_then_on_the_cadence(
        crm: RunningSystem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__CRM__ARCHIVED_SWEEP_EVERY_HOURS")  # the default: 24 hours
    settings = duckdb_settings(tmp_path)
    run(settings)
    assert archived_listings(crm, 0) >= 5  # one sweep of each object's archived list
    assert_equals_sandbox(settings, crm)

    contact = next(doc.id for doc in crm.ctx.store.iter_all("contacts") if not doc.archived)
    httpx.delete(f"{crm.base_url}/crm/v3/objects/contacts/{contact}", timeout=10,
                 headers={"Authorization": f"Bearer {crm.credentials.crm_token}"}
                 ).raise_for_status()
    sent = len(crm.requests)
    run(settings)  # inside the cadence: no archived lists, the delete is not seen yet
    assert archived_listings(crm, sent) == 0
    assert rows(settings, f"SELECT _goldloop_deleted FROM raw_crm.contacts "
                          f"WHERE id = '{contact}'") == [(False,)]

    monkeypatch.setenv("SOURCES__CRM__ARCHIVED_SWEEP_EVERY_HOURS", "0")  # the cadence is due
    sent = len(crm.requests)
    swept = run(settings)
    assert archived_listings(crm, sent) >= 5
    assert loaded(swept)["contacts"] == 1
    assert rows(settings, f"SELECT _goldloop_deleted FROM raw_crm.contacts "
                          f"WHERE id = '{contact}'") == [(True,)]
    assert_equals_sandbox(settings, crm)


def test_values_round_trip_and_associations_match(crm: RunningSystem, tmp_path: Path) -> None:
    contact = create(crm, "contacts", {"email": "zoë.núñez@example.com", "firstname": "Zoë",
                                       "lastname": "Núñez 山田", "city": "Zürich"})
    deal = create(crm, "deals", {"dealname": "Ünïcode deal", "amount": "1234.56",
                                 "closedate": "2025-03-04T05:06:07.089Z"})
    settings = duckdb_settings(tmp_path)
    run(settings)

    assert rows(settings, f"SELECT email, firstname, lastname, city FROM raw_crm.contacts "
                          f"WHERE id = '{contact}'") == [
        ("zoë.núñez@example.com", "Zoë", "Núñez 山田", "Zürich")]
    assert rows(settings, f"SELECT dealname, amount, closedate FROM raw_crm.deals "
                          f"WHERE id = '{deal}'") == [
        ("Ünïcode deal", "1234.56", "2025-03-04T05:06:07.089Z")]

    stored = {doc.id: doc.body for doc in crm.ctx.store.iter_all("contacts")}
    loaded_rows = rows(settings, "SELECT id, email, firstname, lastname, phone, country, "
                                 "created_at, updated_at FROM raw_crm.contacts")
    assert len(loaded_rows) == len(stored)
    for rid, email, first, last, phone, country, created, updated in loaded_rows:
        props = stored[rid]["properties"]
        assert (email, first, last, phone, country) == (
            props.get("email"), props.get("firstname"), props.get("lastname"),
            props.get("phone"), props.get("country")), rid
        assert to_epoch_ms(created) == to_epoch_ms(stored[rid]["createdAt"])
        assert to_epoch_ms(updated) == to_epoch_ms(stored[rid]["updatedAt"])

    links = crm.ctx.store.conn.execute(
        "SELECT from_type, from_id, to_type, to_id FROM crm_associations "
        "WHERE from_type IN ('contacts', 'deals')").fetchall()
    expected = {(f, str(a), t, str(b)) for f, a, t, b in links
                if (f, t) in {("contacts", "companies"), ("deals", "companies"),
                              ("deals", "contacts"), ("deals", "line_items")}}
    got = set(rows(settings, "SELECT DISTINCT from_type, from_id, to_type, to_id "
                             "FROM raw_crm.associations"))
    assert got == expected
    assert rows(settings, "SELECT count(*) FROM raw_crm.associations "
                          "WHERE _goldloop_replaced OR to_id = ''") == [(0,)]


def sandbox_links(crm: RunningSystem) -> set[tuple[str, str, str, str]]:
    """The (from type, from id, to type, to id) links the connector reads, in the emulator."""
    links = crm.ctx.store.conn.execute(
        "SELECT from_type, from_id, to_type, to_id FROM crm_associations").fetchall()
    return {(f, str(a), t, str(b)) for f, a, t, b in links
            if (f, t) in {("contacts", "companies"), ("deals", "companies"),
                          ("deals", "contacts"), ("deals", "line_items")}}


def test_a_link_removed_at_the_source_disappears_with_the_next_run(crm: RunningSystem,
                                                                    tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    run(settings)  # the first load appends the links (no marker rows)
    contact = rows(settings, "SELECT from_id FROM raw_crm.associations WHERE from_type = "
                             "'contacts' AND to_type = 'companies' LIMIT 1")[0][0]
    remove_links(crm.ctx.store, "contacts", contact, "companies")
    httpx.patch(f"{crm.base_url}/crm/v3/objects/contacts/{contact}",
                json={"properties": {"jobtitle": "Moved on"}}, timeout=10,
                headers={"Authorization": f"Bearer {crm.credentials.crm_token}"}
                ).raise_for_status()

    run(settings)
    assert rows(settings, f"SELECT count(*) FROM raw_crm.associations WHERE from_type = "
                          f"'contacts' AND from_id = '{contact}'") == [(0,)]
    got = set(rows(settings, "SELECT DISTINCT from_type, from_id, to_type, to_id "
                             "FROM raw_crm.associations"))
    assert got == sandbox_links(crm)
    assert rows(settings, "SELECT count(*) FROM raw_crm.associations "
                          "WHERE _goldloop_replaced OR to_id = ''") == [(0,)]


def test_faults_are_retried_and_the_data_is_complete(crm: RunningSystem, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CRM__REQUEST_TIMEOUT", "0.5")
    crm.faults(burst_429=2, error_rate=0.1, truncate_rate=0.1, timeout_rate=0.03,
               timeout_seconds=1.5, seed=11)
    settings = duckdb_settings(tmp_path)
    summary = run(settings)
    assert summary.retries >= 2 and summary.throttled >= 2
    crm.faults()
    assert_equals_sandbox(settings, crm)


def test_a_persistent_failure_fails_clearly_and_the_next_run_completes(
        crm: RunningSystem, tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    crm.faults(error_rate=1.0)
    with pytest.raises(SourceError) as failure:
        run(settings)
    message = str(failure.value)
    assert "crm" in message and "/crm/v3/" in message and "503" in message
    assert "run again" in message
    crm.faults()
    run(settings)
    assert_equals_sandbox(settings, crm)


def test_a_wrong_token_names_the_secret_to_fix(crm: RunningSystem, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", "pat-wrong")
    with pytest.raises(SourceError) as failure:
        run(duckdb_settings(tmp_path))
    assert "401" in str(failure.value)
    assert "sources.crm.access_token" in str(failure.value)
    assert "pat-wrong" not in str(failure.value)


def test_schema_drift_is_loaded_recorded_and_reported(crm: RunningSystem,
                                                     tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    run(settings)
    crm.faults(drift="new_field")
    crm.mutate(0.05, seed=1)
    added = run(settings)
    assert ("contacts", "sandbox_drift_note", "new_column") in {
        (c.table_name, c.column_name, c.change) for c in added.schema_changes}
    assert any("sandbox_drift_note" in w for w in added.warnings)

    crm.faults(drift="changed_type")
    crm.mutate(0.05, seed=2)
    retyped = run(settings)
    assert ("contacts", "email", "type_changed") in {
        (c.table_name, c.column_name, c.change) for c in retyped.schema_changes}
    recorded = rows(settings, "SELECT table_name, column_name, change "
                              "FROM raw_crm._goldloop_schema_changes")
    assert ("contacts", "sandbox_drift_note", "new_column") in recorded
    assert ("contacts", "email", "type_changed") in recorded
    crm.faults()


def test_search_windows_restart_under_the_result_cap(crm: RunningSystem, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.crm import client

    monkeypatch.setattr(client, "SEARCH_LIMIT", 7)
    monkeypatch.setattr(client, "SEARCH_CAP", 21)
    settings = duckdb_settings(tmp_path)
    run(settings, start=datetime(1970, 1, 2, tzinfo=UTC))  # a backfill: search from the start
    assert_equals_sandbox(settings, crm)


def test_the_pace_stays_within_the_published_limit_with_few_429s(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.crm import client

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(client, "LIST_LIMIT", 8)  # many small pages: enough requests to measure
    limits = Limits(crm_burst=20, crm_interval_ms=1000)  # the emulator enforces 20 per second
    with serve_system("crm", crm_world(), tmp_path / "sandbox", limits=limits) as running:
        monkeypatch.setenv("SOURCES__CRM__BASE_URL", running.base_url)
        monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", running.credentials.crm_token)
        monkeypatch.setenv("SOURCES__CRM__REQUESTS_PER_SECOND", "20")
        monkeypatch.setenv("SOURCES__CRM__BURST", "20")
        summary = run(duckdb_settings(tmp_path))
        arrivals = running.arrivals
    assert len(arrivals) > 60
    # Never over the limit (at most a handful of 429s); how close to it is a benchmark figure.
    worst = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert worst <= 20 + 3, f"{worst} requests within one second (limit 20)"
    assert summary.throttled <= 3


@pytest.mark.postgres
def test_postgres_full_then_incremental(crm: RunningSystem) -> None:
    with postgres_settings() as settings:
        run(settings)
        assert_equals_sandbox(settings, crm)
        assert sum(loaded(run(settings)).values()) == 0
        since = int(time.time() * 1000) - 1
        crm.mutate(0.05)
        third = run(settings)
        expected = changed_since(crm, since)
        assert loaded(third)["contacts"] == len(expected["contacts"])
        assert_equals_sandbox(settings, crm)
        assert scalar(settings, "SELECT count(*) FROM raw_crm.associations") > 0


def test_a_backfill_window_loads_only_records_modified_inside_it(crm: RunningSystem,
                                                                tmp_path: Path) -> None:
    stamps = sorted(doc.updated_ms for doc in crm.ctx.store.iter_all("contacts")
                    if not doc.archived)
    start_ms, end_ms = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    start = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    end = datetime.fromtimestamp(end_ms / 1000, tz=UTC)
    settings = duckdb_settings(tmp_path)
    run(settings, start=start, end=end)
    expected = {doc.id for doc in crm.ctx.store.iter_all("contacts")
                if not doc.archived and start_ms <= doc.updated_ms < end_ms}
    got = {r[0] for r in rows(settings, "SELECT id FROM raw_crm.contacts WHERE NOT archived")}
    assert got == expected and expected


def test_full_refresh_reloads_everything(crm: RunningSystem, tmp_path: Path) -> None:
    settings = duckdb_settings(tmp_path)
    run(settings)
    again = run(settings, full_refresh=True)
    assert loaded(again)["contacts"] == crm.counts()["contacts"]["total"]
    assert_equals_sandbox(settings, crm)


class ListedTwice:
    """Add one live contact, archived, to the first archived-contacts page of a run.

    HubSpot lists a record restored (or archived) while a first load reads the lists in both the
    live and the archived list. ``archived_is_newer``: the archived copy is the later version.
    """

    def __init__(self, record: dict[str, Any], archived_is_newer: bool) -> None:
        shift = timedelta(minutes=1 if archived_is_newer else -1)
        moment = datetime.fromisoformat(record["updatedAt"].replace("Z", "+00:00")) + shift
        wanted = set(CONTACTS.all_properties())
        self.copy = {**record, "archived": True, "archivedAt": iso_ms(moment),
                     "updatedAt": iso_ms(moment),
                     "properties": {k: v for k, v in record["properties"].items() if k in wanted}}
        self.done = False

    def __call__(self, path: str, query: str, body: bytes) -> bytes:
        if self.done or path != "/crm/v3/objects/contacts" or "archived=true" not in query:
            return body
        payload = json.loads(body)
        payload["results"].append(self.copy)
        self.done = True
        return json.dumps(payload).encode()


@pytest.mark.parametrize("archived_is_newer", [False, True], ids=["restored", "archived"])
def test_a_record_listed_live_and_archived_in_the_first_load_is_stored_once_newest(
        tmp_path: Path, warehouse: Settings, monkeypatch: pytest.MonkeyPatch,
        archived_is_newer: bool) -> None:
    record = next(d.body for d in crm_world_docs(tmp_path) if not d.archived)
    twice = ListedTwice(record, archived_is_newer)
    said: list[str] = []
    with serving_crm(tmp_path, monkeypatch, rewrite=twice) as crm:
        (first,) = extract(["crm"], settings=warehouse, progress=said.append)
        assert twice.done
        stored = rows(warehouse, "SELECT updated_at, _goldloop_deleted FROM raw_crm.contacts "
                                 f"WHERE id = '{record['id']}'")
        newest = max(to_epoch_ms(record["updatedAt"]), to_epoch_ms(twice.copy["updatedAt"]))
        assert [(to_epoch_ms(at), flagged) for at, flagged in stored] == [
            (newest, archived_is_newer)]
        assert any("came twice in the first load" in line for line in said)
        assert first.warnings == []
        counts = crm.counts()["contacts"]
        assert rows(warehouse, "SELECT count(*), count(DISTINCT id), count(*) FILTER "
                               "(WHERE _goldloop_deleted) FROM raw_crm.contacts") == [
            (counts["total"], counts["total"], counts["archived"] + archived_is_newer)]
        assert sum(loaded(run(warehouse)).values()) == 0  # later runs merge as before


def crm_world_docs(tmp_path: Path) -> list[Any]:
    """The contacts the emulator will serve (seeded into a scratch store)."""
    from sandbox.crm.seed import seed
    from sandbox.store import Store

    store = Store(tmp_path / "scratch.sqlite")
    try:
        seed(crm_world(), store)
        return store.query("contacts", "archived = 0", limit=5)
    finally:
        store.close()
