"""The shop source: Shopify customers, orders (+ line items) and products (+ variants) per shop.

Several shops load into the same tables; every row carries ``shop`` and ``record_id``
(``<shop>/<id>``, the merge key). Reads are incremental on ``updated_at`` (``updated_at_min`` with a
lag window, ``Link``-header paging). Cancelled orders and archived products are flagged with
``_goldloop_deleted``; customers Shopify deletes for real are found by an id sweep
(:mod:`pipelines.shop.sweep`). Configuration (``sources.shop.*``): ``shops`` = list of
``{name, base_url}``, ``access_tokens`` = ``{name: token}`` (secret), ``page_size``,
``lag_seconds``, ``delete_sweep``, ``sweep_every_hours``; the defaults are the sandbox's shops.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import dlt
from dlt.common.typing import SecretSentinel
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.rest_api import rest_api_resources

from pipelines.common.deletes import DELETED_COLUMNS
from pipelines.common.incremental import DEFAULT_LAG_SECONDS, as_utc
from pipelines.common.pacing import paced_session
from pipelines.shop.endpoints import (
    MAX_PAGE_SIZE,
    PRIMARY_KEY,
    TOKEN_HEADER,
    Reads,
    shop_config,
)
from pipelines.shop.shops import SANDBOX_SHOPS, SANDBOX_TOKENS, Shop, resolve_shops
from pipelines.shop.sweep import LAST_SWEEP, deleted_customers, sweep_due

Secret = Annotated[dict[str, str], SecretSentinel]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dlt.source(name="shop", max_table_nesting=1)
def source(
    shops: list[dict[str, str]] | None = None,
    access_tokens: Secret | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page_size: int = MAX_PAGE_SIZE,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
    delete_sweep: bool | None = None,
    sweep_every_hours: float = 24.0,
) -> list[DltResource]:
    """Every configured shop's records; ``start``/``end`` bound a backfill window (UTC)."""
    resolved = resolve_shops(list(shops if shops is not None else SANDBOX_SHOPS),
                             access_tokens if access_tokens is not None else SANDBOX_TOKENS)
    # a backfill window needs a start: with only an end it starts at the epoch
    begin = as_utc(start) or (EPOCH if end is not None else None)
    reads = Reads(page_size, begin, as_utc(end), lag_seconds)
    resources: list[DltResource] = []
    for shop in resolved:
        # Shopify's bucket is per shop: each shop gets its own pace
        session = paced_session("shop", bucket=f"shop:{shop.name}")
        resources.extend(rest_api_resources(shop_config(shop, session, reads)))
        if end is None:
            resources.append(customer_deletes(shop, session, page_size, delete_sweep,
                                              sweep_every_hours))
    return resources


def customer_deletes(shop: Shop, session: Any, page_size: int, enabled: bool | None,
                     every_hours: float) -> DltResource:
    """``<shop>_customer_deletes``: customers the shop deleted, re-loaded flagged (an id sweep).

    A full pass by design (no cursor: a deleted record has no change time to follow).
    """
    client = RESTClient(base_url=shop.base_url + "/", session=session,
                        auth=APIKeyAuth(name=TOKEN_HEADER, api_key=shop.token,
                                        location="header"))

    @dlt.resource(name=f"{shop.name}_customer_deletes", table_name="customers",
                  primary_key=PRIMARY_KEY, write_disposition="merge", columns=DELETED_COLUMNS)
    def sweep() -> Iterator[dict[str, Any]]:
        state = dlt.current.resource_state()
        now = datetime.now(UTC)
        if not sweep_due(state, enabled, every_hours, now):
            return
        # no record of an earlier sweep: a new pipeline, or a full refresh about to replace the
        # tables, so customers flagged before must be carried over too
        fresh_state = LAST_SWEEP not in state
        yield from deleted_customers(client, shop.name, page_size, include_flagged=fresh_state)
        state[LAST_SWEEP] = now.isoformat()

    return sweep
