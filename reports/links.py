"""Where a link goes: a URL on the report server, or a file name in the static build.

Pages build every link through a :class:`Links`, so the same templates serve both. The static
flavour also remembers each page and CSV it handed out, which is how the static build finds
what to write (bounded: pages past ``max_pages`` of a table and customers past
``max_customers`` are not linked, their rows are in the CSV).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

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
