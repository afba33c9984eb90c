"""What a user sees on a dbt model's materialisation besides dbt's own numbers.

- a link to the report page about the model (customers, reconciliation, compliance...) and,
  on every dbt test's check, a link to the data-quality page of its model;
- on the reconciliation marts, the breaks open (total and per kind);
- on ``customer_xref``, the match rate (share of golden customers found in 2+ systems).

The counts are read after ``dbt build`` has finished: on DuckDB the build's process holds the
warehouse file until then. Events stream as dbt reports them until the first counted model;
from there on they wait for the build's end (in dbt's order: Dagster wants a step's assets in
dependency order), and the counted models' materialisations carry the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from dagster import AssetCheckResult, AssetKey, Output

from goldloop.settings import Settings
from goldloop.warehouse import query
from orchestration.links import check_link, model_link

# reconciliation mart → the column its breaks are counted by
BREAK_COLUMNS: Mapping[str, str] = {
    "orders_vs_invoices": "break_kind", "deals_vs_invoices": "break_kind",
    "leavers_with_access": "break_kind", "customer_field_conflicts": "field_name",
    "reconciliation_breaks": "break_kind",
}
MATCHED = "customer_xref"

Counter = Callable[[Settings, str], dict[str, Any]]


def counted(name: str) -> bool:
    """Whether a model's materialisation carries counts read from the warehouse.

    >>> counted("orders_vs_invoices"), counted("customer_xref"), counted("customers")
    (True, True, False)
    """
    return name in BREAK_COLUMNS or name == MATCHED


def breaks_by(rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
    """``{group: count}`` of ``(group, count)`` rows, largest first.

    >>> breaks_by([("duplicate_invoice", 2), ("order_missing_invoice", 5)])
    {'order_missing_invoice': 5, 'duplicate_invoice': 2}
    """
    return {str(k): int(n) for k, n in sorted(rows, key=lambda row: (-int(row[1]), str(row[0])))}


def breaks_metadata(settings: Settings, mart: str) -> dict[str, Any]:
    """Breaks open in ``marts.<mart>``: the total and per kind (or per field, for conflicts)."""
    column = BREAK_COLUMNS[mart]
    counts = breaks_by(query(settings, f"select {column}, count(*) from marts.{mart} "
                                       "group by 1"))
    return {"breaks_open": sum(counts.values()), f"breaks_open_by_{column}": counts}


def match_metadata(settings: Settings, _model: str = MATCHED) -> dict[str, Any]:
    """Records, golden customers, and the match rate of ``marts.customer_xref``."""
    (records, customers, multi), = query(settings, """
        select count(*), count(distinct customer_id),
               (select count(*) from (select customer_id from marts.customer_xref
                                      group by customer_id having count(distinct system) > 1) m)
        from marts.customer_xref""")
    return {
        "customer_records": int(records),
        "golden_customers": int(customers),
        "records_per_customer": round(records / customers, 3) if customers else 0.0,
        "match_rate": round(multi / customers, 4) if customers else 0.0,
    }


def warehouse_metadata(settings: Settings, name: str) -> dict[str, Any]:
    """The counts of one counted model; a failed read is reported, never fatal."""
    try:
        if name in BREAK_COLUMNS:
            return breaks_metadata(settings, name)
        return match_metadata(settings, name)
    except Exception as exc:  # the build succeeded: a count we cannot read is only a note
        return {"counts_unavailable": f"{type(exc).__name__}: {exc}"[:500]}


def event_key(event: Any, key_of_output: Callable[[str], AssetKey]) -> AssetKey | None:
    """The asset an event of dbt's stream is about."""
    if isinstance(event, AssetCheckResult):
        return event.asset_key
    if isinstance(event, Output):
        return key_of_output(event.output_name)
    return getattr(event, "asset_key", None)


def with_links(event: Any, key: AssetKey | None) -> Any:
    """The event with its report link: the model's page, or the quality page for a check."""
    if key is None:
        return event
    if isinstance(event, AssetCheckResult):
        return event.with_metadata({**event.metadata, **check_link(key)})
    if isinstance(event, Output):
        link = model_link(key)
        return event.with_metadata({**event.metadata, **link}) if link else event
    return event


def enrich(events: Iterable[Any], key_of_output: Callable[[str], AssetKey],
           settings: Settings, counter: Counter = warehouse_metadata) -> Iterator[Any]:
    """dbt's events with links; from the first counted model on, events wait for the build's
    end (Dagster wants a step's assets in dependency order) and counted models get counts."""
    held: list[tuple[AssetKey | None, Any]] = []
    for event in events:
        key = event_key(event, key_of_output)
        event = with_links(event, key)
        if not held and not (key is not None and key.path[0] == "dbt" and counted(key.path[-1])
                             and isinstance(event, Output)):
            yield event
        else:
            held.append((key, event))
    for key, event in held:
        if key is not None and isinstance(event, Output) and counted(key.path[-1]):
            event = event.with_metadata({**event.metadata, **counter(settings, key.path[-1])})
        yield event
