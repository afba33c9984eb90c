"""Where a link goes: a URL on the report server, or a file name in the static build; and the
links between the report site and Dagster's UI, both ways.

Pages build every link through a :class:`Links`, so the same templates serve both. The static
flavour also remembers each page and CSV it handed out, which is how the static build finds
what to write (bounded: pages past ``max_pages`` of a table and customers past
``max_customers`` are not linked, their rows are in the CSV).

Towards Dagster, :func:`dagster_asset_url` gives an asset's page in the Dagster UI
(``GOLDLOOP_DAGSTER_URL``, default ``http://127.0.0.1:3000``), and :data:`PAGE_ASSETS` says
which assets each report page reads. From Dagster, orchestration calls :func:`report_url`
(``GOLDLOOP_REPORT_URL``, default ``http://127.0.0.1:8780``) or :func:`report_url_for_asset` to
put the matching report page into an asset's metadata.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote, urlencode

from goldloop.errors import ConfigError

Params = Mapping[str, str | int | None]
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _kept(params: Params) -> list[tuple[str, str]]:
    """Parameters worth writing: set, and not the first page.

    >>> _kept({"page": 1, "kind": None, "q": "x"})
    [('q', 'x')]
    """
    return sorted((k, str(v)) for k, v in params.items()
                  if v is not None and v != "" and not (k == "page" and str(v) == "1"))


def static_name(name: str, params: Params, suffix: str = ".html") -> str:
    """The file a page (or CSV) with these parameters is written to in the static build.

    >>> static_name("reconciliation", {"kind": "duplicate_invoice", "page": 2})
    'reconciliation--kind-duplicate_invoice--page-2.html'
    >>> static_name("customer", {"id": "a/b c"})[:19]
    'customer--id-a_b_c-'
    """
    parts = [name]
    for key, value in _kept(params):
        slug = _SAFE.sub("_", value)[:60]
        if slug != value:
            slug += "-" + hashlib.sha1(value.encode()).hexdigest()[:8]
        parts.append(f"{key}-{slug}")
    return "--".join(parts) + suffix


class Links(Protocol):
    """Builds the href of a page or of a table's CSV export (``None``: not linked)."""

    static: bool

    def page(self, name: str, **params: str | int | None) -> str | None: ...

    def csv(self, table: str, **params: str | int | None) -> str | None: ...


@dataclass
class ServerLinks:
    """Links on the running report server (``/reconciliation?kind=...``)."""

    static: bool = False

    def page(self, name: str, **params: str | int | None) -> str | None:
        """``/name?params``; the overview is ``/``."""
        path = "/" if name == "index" else f"/{name}"
        query = urlencode(_kept(params))
        return f"{path}?{query}" if query else path

    def csv(self, table: str, **params: str | int | None) -> str | None:
        """``/csv/table?params``: the whole filtered table, streamed."""
        query = urlencode(_kept({k: v for k, v in params.items() if k != "page"}))
        return f"/csv/{table}?{query}" if query else f"/csv/{table}"


# Filters the static build does not pre-render as pages (too many combinations; the server
# has them): free text, months, one model or layer of the quality page.
STATIC_SKIPPED = frozenset({"q", "month", "model", "layer"})


@dataclass
class StaticLinks:
    """Relative file links for the static build; records what it handed out."""

    max_pages: int = 5
    max_customers: int = 200
    max_filters: int = 1  # filter combinations (kind AND system...) need the server
    static: bool = True
    pages: dict[str, tuple[str, dict[str, str | int]]] = field(default_factory=dict)
    csvs: dict[str, tuple[str, dict[str, str | int]]] = field(default_factory=dict)
    customers: set[str] = field(default_factory=set)

    def page(self, name: str, **params: str | int | None) -> str | None:
        """``name--k-v.html`` if the build will write it, else ``None``."""
        if any(params.get(k) for k in STATIC_SKIPPED):
            return None  # searching and fine filters need the server
        filters = [k for k, _ in _kept(params) if k not in ("page", "size", "id")]
        if len(filters) > self.max_filters:
            return None
        page_no = params.get("page")
        if page_no is not None and int(page_no) > self.max_pages:
            return None
        if name == "customer":
            key = str(params.get("id"))
            if key not in self.customers and len(self.customers) >= self.max_customers:
                return None
            self.customers.add(key)
        file = "index.html" if name == "index" and not _kept(params) else static_name(name,
                                                                                         params)
        self.pages.setdefault(file, (name, {k: v for k, v in _kept(params)}))
        return file

    def csv(self, table: str, **params: str | int | None) -> str | None:
        """``csv/table--k-v.csv`` (the whole filtered table)."""
        params = {k: v for k, v in params.items() if k != "page"}
        if params.get("q"):
            return None
        file = "csv/" + static_name(table, params, ".csv")
        self.csvs.setdefault(file, (table, {k: v for k, v in _kept(params)}))
        return file


DAGSTER_URL_ENV = "GOLDLOOP_DAGSTER_URL"
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
REPORT_URL_ENV = "GOLDLOOP_REPORT_URL"
DEFAULT_REPORT_URL = "http://127.0.0.1:8780"
_OFF = ("off", "none", "no", "0", "false")

# The Dagster assets (orchestration/translators.py keys) each report page reads, most telling
# first. Ingest assets are linked per system on the overview (``crm``: every ``crm/...`` key).
PAGE_ASSETS: dict[str, tuple[str, ...]] = {
    "index": ("dbt/reconciliation_breaks", "dbt/reconciliation_breaks_snapshot",
              "dbt/customers"),
    "reconciliation": ("dbt/orders_vs_invoices", "dbt/deals_vs_invoices",
                       "dbt/reconciliation_breaks", "dbt/reconciliation_breaks_snapshot"),
    "customers": ("dbt/customers", "dbt/customer_xref"),
    "customer": ("dbt/customers", "dbt/customer_xref", "dbt/customer_field_conflicts"),
    "conflicts": ("dbt/customer_field_conflicts",),
    "compliance": ("dbt/leavers_with_access", "dbt/employees"),
    "syncs": ("sync/crm_contacts", "sync/erp_contacts", "sync/shop_customers",
              "sync/deal_invoices"),
}


def _base(env_name: str, default: str, environ: Mapping[str, str] | None) -> str:
    env = os.environ if environ is None else environ
    value = (env.get(env_name) or "").strip() or default
    if value.lower() in _OFF:
        return ""
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{env_name}={value[:80]!r} is not an http(s) URL",
                          hint=f"set it like {default}, or to 'off' for no links")
    return value.rstrip("/")


def dagster_base(environ: Mapping[str, str] | None = None) -> str:
    """Dagster UI's base URL from ``GOLDLOOP_DAGSTER_URL`` (empty when set to ``off``).

    >>> dagster_base({}), dagster_base({"GOLDLOOP_DAGSTER_URL": "http://dag:3000/"})
    ('http://127.0.0.1:3000', 'http://dag:3000')
    >>> dagster_base({"GOLDLOOP_DAGSTER_URL": "off"})
    ''
    """
    return _base(DAGSTER_URL_ENV, DEFAULT_DAGSTER_URL, environ)


def dagster_asset_url(asset_key: str, base: str | None = None) -> str:
    """The page of asset ``asset_key`` (``dbt/customers``) in the Dagster UI; a key prefix
    (``crm``) opens the catalogue of every asset under it.

    >>> dagster_asset_url("dbt/customers", "http://127.0.0.1:3000")
    'http://127.0.0.1:3000/assets/dbt/customers'
    >>> dagster_asset_url("shop/orders x", "http://d")
    'http://d/assets/shop/orders%20x'
    """
    root = dagster_base() if base is None else base.rstrip("/")
    path = "/".join(quote(part, safe="") for part in asset_key.strip("/").split("/"))
    return f"{root}/assets/{path}"


def report_base(environ: Mapping[str, str] | None = None) -> str:
    """The report server's base URL from ``GOLDLOOP_REPORT_URL``.

    >>> report_base({}), report_base({"GOLDLOOP_REPORT_URL": "https://reports.example/"})
    ('http://127.0.0.1:8780', 'https://reports.example')
    """
    return _base(REPORT_URL_ENV, DEFAULT_REPORT_URL, environ) or DEFAULT_REPORT_URL


def report_url(page: str, **params: str | int | None) -> str:
    """The absolute URL of report page ``page`` with ``params`` (what Dagster links to).

    ``page`` is a page's name as in its URL: ``index`` (the overview), ``reconciliation``,
    ``customers``, ``customer`` (``id=``), ``conflicts``, ``quality``, ``compliance``,
    ``syncs``, ``metrics``, ``dictionary``. Raises :class:`ConfigError` for any other name.

    For example ``report_url("reconciliation", kind="duplicate_invoice")`` is
    ``http://127.0.0.1:8780/reconciliation?kind=duplicate_invoice`` with the default base.
    """
    from reports.pages import find_page  # the pages import this module

    if find_page(page) is None:
        raise ConfigError(f"there is no report page called {page!r}",
                          hint="use one of the names in reports/README.md (index, "
                               "reconciliation, customers, customer, ...)")
    return report_base() + (ServerLinks().page(page, **params) or "/")


def report_page_for_asset(asset_key: str) -> tuple[str, dict[str, str]] | None:
    """The report page (and its parameters) that shows Dagster asset ``asset_key`` best.

    >>> report_page_for_asset("dbt/orders_vs_invoices")
    ('reconciliation', {})
    >>> report_page_for_asset("dbt/reconciliation_breaks_snapshot")
    ('reconciliation', {})
    >>> report_page_for_asset("sync/crm_contacts")
    ('syncs', {'sync': 'crm_contacts'})
    >>> report_page_for_asset("crm/contacts"), report_page_for_asset("dbt/stg_crm__contacts")
    (('index', {}), ('dictionary', {}))
    >>> report_page_for_asset("dbt/orders")
    ('dictionary', {'model': 'orders'})
    """
    parts = asset_key.strip("/").split("/")
    if parts[0] == "sync" and len(parts) == 2:
        return "syncs", {"sync": parts[1]}
    for page, keys in PAGE_ASSETS.items():
        if asset_key in keys and page not in ("index", "customer"):
            return page, {}
    if parts[0] in ("crm", "erp", "shop", "hr"):
        return "index", {}
    if parts[0] == "dbt" and len(parts) == 2:
        name = parts[1]
        if name.startswith(("stg_", "int_")):
            return "dictionary", {}  # the dictionary traces marts down to these
        return "dictionary", {"model": name}
    return None


def report_url_for_asset(asset_key: str) -> str | None:
    """The absolute URL of the report page matching Dagster asset ``asset_key``, if any
    (``dbt/customers`` -> ``http://127.0.0.1:8780/customers`` with the default base)."""
    found = report_page_for_asset(asset_key)
    return None if found is None else report_url(found[0], **found[1])
