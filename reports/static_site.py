"""The static build: the same pages as the server, written as files that open from disk.

Rendering starts from the menu pages and follows every link the pages hand out (filters by
kind, system or status; the first ``max_pages`` pages of each table; up to ``max_customers``
customer pages), writing each page once, then every CSV export those pages link to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from goldloop.errors import ConfigError
from goldloop.settings import Settings, load_settings
from reports.links import StaticLinks
from reports.render import render_csv, render_page
from reports.site import DEFAULT_DBT_TARGET, Site

MAX_FILES = 20_000


@dataclass
class BuildSummary:
    """What a static build wrote and how long each page took."""

    out_dir: Path
    pages: int = 0
    csvs: int = 0
    seconds: float = 0.0
    page_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def index(self) -> Path:
        """The page to open first."""
        return self.out_dir / "index.html"


def build(out_dir: Path, settings: Settings | None = None, *,
          dbt_target: Path = DEFAULT_DBT_TARGET, max_pages: int = 5,
          max_customers: int = 200) -> BuildSummary:
    """Write every page and CSV the site links to into ``out_dir`` (created if missing)."""
    if max_pages < 1 or max_customers < 0:
        raise ConfigError(f"--max-pages {max_pages} / --max-customers {max_customers} out of "
                          "range", hint="use at least one page per table and zero or more "
                                        "customers")
    settings = settings or load_settings()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "csv").mkdir(exist_ok=True)
    links = StaticLinks(max_pages=max_pages, max_customers=max_customers)
    site = Site(settings, links, dbt_target)
    summary = BuildSummary(out_dir)
    started = time.perf_counter()
    links.page("index")
    written: set[str] = set()
    while len(written) < len(links.pages):
        for file, (name, params) in list(links.pages.items()):
            if file in written:
                continue
            if len(written) >= MAX_FILES:
                raise ConfigError(f"the static build would write more than {MAX_FILES} pages",
                                  hint="lower --max-pages or --max-customers")
            t = time.perf_counter()
            _, html = render_page(name, {k: str(v) for k, v in params.items()}, site)
            (out_dir / file).write_text(html)
            summary.page_seconds[file] = time.perf_counter() - t
            written.add(file)
    for file, (table, params) in list(links.csvs.items()):
        with (out_dir / file).open("w", newline="") as handle:
            for chunk in render_csv(table, {k: str(v) for k, v in params.items()}, site):
                handle.write(chunk)
        summary.csvs += 1
    summary.pages = len(written)
    summary.seconds = time.perf_counter() - started
    return summary
