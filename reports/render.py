"""Turn a page's content into one self-contained HTML document (style and script inlined).

The server and the static build both call :func:`render_page` and :func:`render_csv`; only their
:class:`reports.links.Links` differ.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from goldloop.errors import GoldloopError
from reports import formats
from reports.db import Reader, open_reader
from reports.links import PAGE_ASSETS
from reports.pages import PAGES, find_page, find_table
from reports.params import parse
from reports.site import Page, PageSpec, Site
from reports.tables import csv_lines

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The templates, HTML-escaped by default."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(cell=formats.cell, count=formats.count, money=formats.money,
                       hours=formats.hours, plural=formats.plural, ts=formats.timestamp,
                       yes_no=formats.yes_no, svg=Markup)
    env.filters["breakable"] = breakable
    return env


def breakable(text: object) -> Markup:
    """Text escaped, with a line-break opportunity after each ``@`` and ``/`` (e-mails and
    record ids wrap there, not mid-word, when a table is short of room).

    >>> breakable("ann@example.com"), breakable("northwind/1<2")
    (Markup('ann@<wbr>example.com'), Markup('northwind/<wbr>1&lt;2'))
    """
    return Markup(str(escape(str(text))).replace("@", "@<wbr>").replace("/", "/<wbr>"))


@lru_cache(maxsize=1)
def _asset(name: str) -> str:
    return (HERE / "assets" / name).read_text()


@dataclass(frozen=True)
class MenuItem:
    """An entry of the top menu."""

    name: str
    title: str


def menu(reader: Reader | None, site: Site) -> list[MenuItem]:
    """The pages to offer: each menu page whose data exists in this warehouse."""
    return [MenuItem(spec.name, spec.title) for spec in PAGES
            if spec.in_menu and (spec.name == "index" or reader is None
                                 or spec.available(reader, site))]


def _source(site: Site) -> str:
    if site.settings.target == "postgres":
        from goldloop.warehouse import redact_dsn

        return f"warehouse: Postgres {redact_dsn(site.settings.postgres_dsn)}"
    return f"warehouse: DuckDB {site.settings.warehouse}"


def to_html(spec_name: str, page: Page, site: Site, items: list[MenuItem],
            current_menu: str) -> str:
    """One page as a complete HTML document."""
    template = environment().get_template(page.template)
    assets = [(key, href) for key in PAGE_ASSETS.get(spec_name, ())
              if (href := site.dagster(key)) is not None]
    return template.render(
        page=page, name=spec_name, links=site.links, menu=items, current_menu=current_menu,
        css=Markup(_asset("report.css")), js=Markup(_asset("report.js")),
        source=_source(site), made_at=formats.timestamp(site.now), site=site,
        dagster=site.dagster, dagster_assets=assets, **page.context)


def message_page(title: str, message: str, status: int) -> Page:
    """A page that only says what went wrong and what to do (never a traceback)."""
    return Page(title=title, template="message.html", context={"message": message},
                status=status)


def render_page(name: str, raw: Mapping[str, str], site: Site) -> tuple[int, str]:
    """``(HTTP status, HTML)`` of page ``name`` with the query parameters ``raw``."""
    spec: PageSpec | None = find_page(name)
    if spec is None:
        page = message_page("Page not found",
                            f"There is no page called '{formats_name(name)}'. Pick one from the "
                            "menu above.", 404)
        return page.status, to_html("missing", page, site, menu(None, site), "")
    try:
        with open_reader(site.settings) as reader:
            items = menu(reader, site)
            missing = spec.missing(reader)
            if missing:
                page = message_page(spec.title, f"{spec.title} needs {', '.join(missing)}, "
                                    "which this warehouse does not have yet: run `goldloop "
                                    "build` (after `goldloop extract all`).", 503)
            elif not spec.available(reader, site):
                page = message_page(spec.title, f"{spec.title} has no data in this warehouse "
                                    "yet.", 404)
            else:
                page = spec.render(reader, site, raw)
    except GoldloopError as exc:
        page = message_page(spec.title, str(exc), 503)
        items = menu(None, site)
    current = "customers" if name == "customer" else name
    return page.status, to_html(name, page, site, items, current)


def formats_name(name: str) -> str:
    """A requested page name safe to repeat in a message (printable, short).

    >>> formats_name("a\\x00b" + "x" * 100)[:5]
    'abxxx'
    """
    from reports.params import clean_text

    return clean_text(name, 60)


def csv_request(name: str, raw: Mapping[str, str]) -> tuple[Any, dict[str, Any],
                                                            list[str]] | None:
    """The table called ``name`` and its validated filters, or ``None`` if no such table."""
    table = find_table(name)
    if table is None:
        return None
    values, notices = parse(raw, table.fields)
    return table, values, notices


def render_csv(name: str, raw: Mapping[str, str], site: Site) -> Generator[str, None, None]:
    """The table ``name`` filtered by ``raw`` as CSV chunks, streamed from the warehouse."""
    found = csv_request(name, raw)
    if found is None:
        raise GoldloopError(f"there is no table called '{formats_name(name)}' to export",
                            hint="use the Export CSV link under a table")
    table, values, _ = found
    with open_reader(site.settings) as reader:
        yield from csv_lines(reader, table, values, site)
