"""Pace under the sandbox's real limits (tightened so the test is short) and 429 storms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goldloop.settings import Settings
from reverse_etl.destinations.crm import CrmContactsWriter
from reverse_etl.runner import run_sync
from reverse_etl.spec import find_spec
from sandbox.config import SandboxConfig
from tests.reverse_etl.helpers import (
    CRM_COLUMNS,
    SandboxReader,
    connection,
    create_model,
    unique,
)


@pytest.fixture
def crm_limits(reader: SandboxReader) -> Iterator[dict[str, Any]]:
    """The CRM's burst limit on, at 20 requests per 2 s; lifted again afterwards."""
    original = reader.admin("crm", "GET", "limits")
    tight = {**original, "enabled": True, "crm_burst": 20, "crm_interval_ms": 2000}
    reader.admin("crm", "POST", "limits", tight)
    try:
        yield tight
    finally:
        reader.admin("crm", "POST", "limits", original)


def contacts(tag: str, n: int) -> list[dict[str, Any]]:
    return [{"sync_key": f"{tag}-{i:03d}", "email": f"{tag}.{i}@example.com",
             "firstname": "Paced", "lastname": str(i), "hs_email_optout": "true"}
            for i in range(n)]


def test_paced_at_the_limit_never_exceeds_it(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings,
        crm_limits: dict[str, Any]) -> None:
    tag = unique("p")
    create_model(warehouse, "sync_crm__contacts", CRM_COLUMNS, contacts(tag, 400))
    spec = find_spec("crm_contacts").with_pace(10, 20)
    spec = spec.model_copy(update={"pace": spec.pace.model_copy(update={"batch_size": 10})})
    writer = CrmContactsWriter(spec, connection(sandbox, "crm"))
    summary = run_sync(spec, warehouse, writer=writer)
    writer.close()
    stats = writer.pacer.stats
    # every record lands once; the server may stamp a burst's requests late when this machine is
    # busy (its 2 s window then overlaps the next burst by a few ms): a handful of 429s at most,
    # each retried after its Retry-After
    assert summary.inserted == 400
    assert summary.throttled <= 2
    assert stats.requests == 40 + summary.throttled
    assert stats.max_in_window(2.0) <= crm_limits["crm_burst"]
    # the rate achieved against the limit is measured in benchmarks/sync_throughput.py


def test_a_429_storm_completes_and_every_record_lands(
        sandbox: SandboxConfig, reader: SandboxReader, warehouse: Settings) -> None:
    tag = unique("s")
    create_model(warehouse, "sync_crm__contacts", CRM_COLUMNS, contacts(tag, 250))
    reader.faults("crm", burst_429=6)
    summary = run_sync(find_spec("crm_contacts"), warehouse,
                       connection=connection(sandbox, "crm"))
    assert (summary.inserted, summary.failed, summary.status) == (250, 0, "ok")
    assert summary.throttled == 6 and summary.request_retries == 6
    assert len(reader.crm_contacts(f"{tag}.249@example.com")) == 1
