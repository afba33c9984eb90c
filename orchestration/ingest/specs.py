"""The shape of each system's dlt source (resources, tables), for Dagster's asset specs.

Built once when the definitions load, from ``pipelines.<system>.source`` with placeholder
connection values: building a source opens no connection, and placeholders keep the definitions
loading where no credentials are configured. The run itself builds the real source through
:func:`pipelines.run.extract_system`.
"""

from __future__ import annotations

import importlib
from typing import Any

import dlt
from dlt.extract.source import DltSource

from pipelines.common.destination import dataset_name, pipeline_name

PLACEHOLDER_URL = "http://placeholder.invalid"

# Enough arguments that no source looks anything up (config, secrets, the ERP tenant).
_PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "crm": {"base_url": PLACEHOLDER_URL, "access_token": "placeholder"},
    "erp": {"base_url": PLACEHOLDER_URL, "access_token": "placeholder",
            "tenant_id": "placeholder", "connections_url": PLACEHOLDER_URL},
    "shop": {"shops": [{"name": "placeholder", "base_url": PLACEHOLDER_URL}],
             "access_tokens": {"placeholder": "placeholder"}},
    "hr": {"base_url": PLACEHOLDER_URL, "api_key": "placeholder"},
}


def _table(resource: Any) -> str:
    table = resource.table_name
    return str(resource.name if callable(table) else table)


def spec_source(system: str) -> DltSource:
    """``pipelines.<system>.source`` narrowed to one resource per destination table.

    Several resources may load one table (live and archived records, one resource per shop);
    the first of them stands for the table.
    """
    module = importlib.import_module(f"pipelines.{system}")
    source: DltSource = module.source(**_PLACEHOLDERS[system])
    first_per_table: dict[str, str] = {}
    for name, resource in source.resources.items():
        first_per_table.setdefault(_table(resource), name)
    return source.with_resources(*first_per_table.values())


def spec_pipeline(system: str) -> dlt.Pipeline:
    """The dlt pipeline's name and dataset (no destination: that is chosen at run time)."""
    return dlt.pipeline(pipeline_name=pipeline_name(system), dataset_name=dataset_name(system))
