"""Asset keys and groups, decided in one place for every domain.

Keys start with the system or the layer: ``crm/contacts`` (a raw table the dlt pipeline loads),
``dbt/customers`` (a dbt model or seed), ``sync/crm_contacts`` (a reverse-ETL sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dagster import AssetKey, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData

if TYPE_CHECKING:
    from dagster_dbt import DbtProject

INGEST = "ingest"
TRANSFORM = "transform"
QUALITY = "quality"
ACTIVATE = "activate"

# The golden marts a business user reads: stale after two hours (the hourly loop plus an hour's
# grace), a warning after 75 minutes. Evaluated by Dagster's freshness daemon.
GOLDEN_MARTS = frozenset({"customers", "customer_xref", "companies", "products", "product_xref",
                          "orders", "order_lines", "invoices", "payments", "deals", "employees"})
GOLDEN_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=2),
                                               warn_window=timedelta(minutes=75))

SYSTEM_KINDS: dict[str, str] = {"crm": "hubspot", "erp": "xero", "shop": "shopify",
                                "hr": "bamboohr"}


def ingest_key(system: str, table: str) -> AssetKey:
    """The key of a raw table; a dlt child table (``orders__line_items``) belongs to its root.

    >>> ingest_key("shop", "orders__line_items").to_user_string()
    'shop/orders'
    """
    return AssetKey([system, table.split("__", 1)[0]])


def dbt_key(name: str) -> AssetKey:
    """The key of a dbt model or seed.

    >>> dbt_key("customers").to_user_string()
    'dbt/customers'
    """
    return AssetKey(["dbt", name])


def sync_key(name: str) -> AssetKey:
    """The key of a reverse-ETL sync.

    >>> sync_key("crm_contacts").to_user_string()
    'sync/crm_contacts'
    """
    return AssetKey(["sync", name])


def _table_name(resource: Any) -> str:
    table = resource.table_name
    return str(resource.name if callable(table) else table)


class IngestTranslator(DagsterDltTranslator):
    """dlt resource → ``<system>/<table>`` in group ``ingest``, no upstream asset."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        resource = data.resource
        system = resource.source_name
        table = _table_name(resource)
        default = super().get_asset_spec(data)
        return default.replace_attributes(
            key=ingest_key(system, table),
            deps=[],
            group_name=INGEST,
            description=f"raw_{system}.{table} (and its child tables), loaded by "
                        f"pipelines/{system} with dlt: merged on the vendor's id, deletes "
                        "flagged `_goldloop_deleted`.",
            kinds={"dlt", SYSTEM_KINDS.get(system, system)},
            tags={"goldloop/system": system},
        )


class TransformTranslator(DagsterDbtTranslator):
    """dbt model/seed → ``dbt/<name>`` in group ``transform``; a dbt source → its raw table."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(
            enable_asset_checks=True,
            # shop.orders and shop.orders__line_items are one dlt asset: shop/orders
            enable_duplicate_source_asset_keys=True,
        ))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str,
                       project: DbtProject | None) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "model" and props["name"] in GOLDEN_MARTS:
            return spec.replace_attributes(freshness_policy=GOLDEN_FRESHNESS)
        return spec

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return ingest_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        return dbt_key(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return TRANSFORM
