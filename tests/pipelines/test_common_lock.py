"""One extract of a system per Postgres warehouse at a time: a second one fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldloop.errors import SourceError
from goldloop.warehouse import connect
from pipelines.common.lock import LOCK_CLASS, lock_key
from tests.pipelines.test_shop_extract import running_shop
from tests.pipelines.warehouses import postgres_settings


@pytest.mark.postgres
def test_a_second_extract_of_a_system_into_postgres_fails_while_one_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with postgres_settings() as settings, running_shop(tmp_path, settings, monkeypatch) as shop:
        with connect(settings) as other:  # another run holds the shop extract lock
            other.cursor().execute("SELECT pg_advisory_lock(%s, %s)",
                                   (LOCK_CLASS, lock_key("shop")))
            with pytest.raises(SourceError) as refused:
                shop.extract()
            assert "another extract of shop is loading into" in str(refused.value)
            assert "wait for it to finish" in str(refused.value)
            assert shop.sandbox.arrivals == []  # refused before a single request
        # the other run ended (its session closed): this one runs
        assert shop.extract().rows_loaded > 0
