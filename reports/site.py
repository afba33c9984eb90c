"""The pieces every page shares: the site's context, a rendered page's content, a page's spec."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from goldloop.dbt import DBT_PROJECT_DIR
from goldloop.settings import Settings
from reports.db import Reader
from reports.links import Links, dagster_asset_url
from reports.tables import Table

DEFAULT_DBT_TARGET = DBT_PROJECT_DIR / "target"


def utc_now() -> datetime:
    """Now, as naive UTC (the warehouse's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Site:
    """What a page may use besides the warehouse: settings, dbt's artifacts, how to link.

    ``dagster_url``: the Dagster UI's base URL pages link their assets to (empty: no links,
    as in the static build, which is read where no Dagster runs).
    """

    settings: Settings
    links: Links
    dbt_target: Path = DEFAULT_DBT_TARGET
    now: datetime = field(default_factory=utc_now)
    dagster_url: str = ""

    def dagster(self, asset_key: str) -> str | None:
        """The Dagster UI page of ``asset_key`` (``dbt/customers``), or ``None`` without one."""
        if not self.dagster_url or self.links.static:
            return None
        return dagster_asset_url(asset_key, self.dagster_url)


@dataclass
class Page:
    """A rendered page's content: its template and what the template shows."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    status: int = 200
    lead: str = ""


Render = Callable[[Reader, Site, Mapping[str, str]], Page]
Available = Callable[[Reader, Site], bool]


def always(_reader: Reader, _site: Site) -> bool:
    """A page that always shows."""
    return True


@dataclass(frozen=True)
class PageSpec:
    """A page of the site: its URL name, its title in the menu, how to render it, its tables."""

    name: str
    title: str
    render: Render
    tables: tuple[Table, ...] = ()
    in_menu: bool = True
    available: Available = always
    requires: tuple[str, ...] = ()  # "schema.table" relations the page reads

    def missing(self, reader: Reader) -> list[str]:
        """The relations this page reads that the warehouse does not have (yet)."""
        return [name for name in self.requires if not reader.has_table(*name.split(".", 1))]
