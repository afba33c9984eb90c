"""Links from an asset's materialisation to the report site's page about it.

The site's address comes from ``GOLDLOOP_REPORT_URL`` (default ``http://127.0.0.1:8780``, where
``goldloop report serve`` listens), read when a run records its metadata, never at import.
``{base}/{page}?params`` is the form the report server answers (``reports.links.ServerLinks``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlencode

from dagster import AssetKey, MetadataValue

REPORT_URL_ENV = "GOLDLOOP_REPORT_URL"
DEFAULT_REPORT_URL = "http://127.0.0.1:8780"
LINK_LABEL = "report"

# dbt model → the report page about it (and the page's filter for it, if any)
MODEL_PAGES: Mapping[str, tuple[str, dict[str, str]]] = {
    "orders_vs_invoices": ("reconciliation", {}),
    "deals_vs_invoices": ("reconciliation", {}),
    "reconciliation_breaks": ("reconciliation", {}),
    "customer_field_conflicts": ("conflicts", {}),
    "leavers_with_access": ("compliance", {}),
    "employees": ("compliance", {}),
    "customers": ("customers", {}),
    "customer_xref": ("customers", {}),
}


def page_url(base: str, page: str, params: Mapping[str, str | int | None]) -> str:
    """``{base}/{page}?params``; unset parameters are left out, the overview is ``{base}/``.

    >>> page_url("http://reports:8780/", "syncs", {"sync": "crm_contacts", "page": None})
    'http://reports:8780/syncs?sync=crm_contacts'
    >>> page_url("http://reports:8780", "index", {})
    'http://reports:8780/'
    """
    path = "" if page in ("", "index") else page.strip("/")
    query = urlencode(sorted((k, str(v)) for k, v in params.items() if v not in (None, "")))
    return f"{base.rstrip('/')}/{path}" + (f"?{query}" if query else "")


def report_url(page: str, **params: str | int | None) -> str:
    """The URL of a report page on the site ``GOLDLOOP_REPORT_URL`` names (read now)."""
    return page_url(os.environ.get(REPORT_URL_ENV) or DEFAULT_REPORT_URL, page, params)


def report_link(page: str, **params: str | int | None) -> dict[str, MetadataValue]:
    """``{"report": url}``: the metadata entry that shows as a link in the Dagster UI."""
    return {LINK_LABEL: MetadataValue.url(report_url(page, **params))}


def model_link(key: AssetKey) -> dict[str, MetadataValue]:
    """The report link of a dbt asset (``dbt/<model>``), or nothing when no page shows it.

    >>> sorted(model_link(AssetKey(["dbt", "customers"])))
    ['report']
    >>> model_link(AssetKey(["dbt", "stg_crm__contacts"]))
    {}
    """
    page = MODEL_PAGES.get(key.path[-1]) if key.path[0] == "dbt" else None
    return report_link(page[0], **page[1]) if page else {}


def check_link(key: AssetKey) -> dict[str, MetadataValue]:
    """The data-quality page, filtered to the checked model.

    >>> check_link(AssetKey(["dbt", "customers"]))["report"].value.rsplit("/", 1)[1]
    'quality?model=customers'
    """
    return report_link("quality", model=key.path[-1])


def sync_link(name: str) -> dict[str, MetadataValue]:
    """The sync-health page of one sync.

    >>> sync_link("crm_contacts")["report"].value.rsplit("/", 1)[1]
    'syncs?sync=crm_contacts'
    """
    return report_link("syncs", sync=name)
