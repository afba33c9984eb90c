"""Report pages at scale: each page's render time on a warehouse with many golden customers.

A small sandbox world is extracted and built once (or ``--warehouse``/``--dbt-target`` point at
one already built, e.g. after ``make demo``); a copy then grows in DuckDB to ``--customers``
golden customers by SQL alone (``range()``): ``marts.customers``, ``customer_xref``,
``intermediate.int_customer_records`` and ``customer_field_conflicts`` repeat the world's
customers under new ids, and the breaks snapshot gets 30 days of history. Orders, invoices and
the other marts stay small. Every page renders in-process, as the server renders it: once cold,
then ``--repeat`` times (median), then once more under ``tracemalloc`` for the peak Python memory
a page needs (a page that fetched a table into Python would show it there).

    python -m benchmarks.reports [--customers 1000000] [--work-dir DIR] [--repeat 3]
        [--warehouse W --dbt-target T] [--csv]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import duckdb

from benchmarks.harness import Figure, Timer, render, save
from goldloop.settings import Settings, patched_environ

REPO = Path(__file__).resolve().parents[1]
WORLD_CUSTOMERS = 300
PORT_BASE = 18311  # the small world's sandbox: crm, erp, shop, hr on four ports from here
HISTORY_DAYS = 30
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "goldloop-bench-reports"




def build_world(root: Path, customers: int = WORLD_CUSTOMERS,
                port_base: int = PORT_BASE) -> tuple[Path, Path]:
    """A small sandbox world extracted and built under ``root`` (reused when already built):
    the DuckDB file and dbt's target folder."""
    warehouse, target, done = root / "world.duckdb", root / "target", root / "built.json"
    if done.exists():
        return warehouse, target
    from benchmarks.extract import sandbox_env
    from pipelines.run import extract_system
    from sandbox import control

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    ports = {system: port_base + i for i, system in enumerate(("crm", "erp", "shop", "hr"))}
    config = control.up(root / "sandbox", customers=customers, seed=7, ports=ports,
                        limits_enabled=False, timeout=600)
    try:
        with patched_environ(sandbox_env(config, warehouse, unlimited=True)):
            for system in ("crm", "erp", "shop", "hr"):
                extract_system(system, settings=Settings(warehouse=warehouse),
                               pipelines_dir=root / "dlt")
    finally:
        control.down(root / "sandbox")
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, "GOLDLOOP_TARGET": "duckdb", "GOLDLOOP_WAREHOUSE": str(warehouse),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    project = REPO / "dbt_project"
    built = subprocess.run(
        [str(dbt), "build", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), "--log-path", str(root / "logs")],
        cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise RuntimeError(f"dbt build of the benchmark world failed:\n{built.stdout[-3000:]}")
    done.write_text(json.dumps({"customers": customers}))
    return warehouse, target


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    schema, table = relation.split(".")
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ? order by ordinal_position", [schema, table]).fetchall()]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _replace(con: duckdb.DuckDBPyConnection, relation: str, alias: str,
             changes: dict[str, str], exclude: str = "") -> str:
    """``alias.* [exclude (...)] replace (...)`` for the columns of ``changes`` that
    ``relation`` has."""
    present = set(_columns(con, relation))
    kept = [f"{expr} as {column}" for column, expr in changes.items() if column in present]
    text = f"{alias}.*" + (f" exclude ({exclude})" if exclude else "")
    return text + (f" replace ({', '.join(kept)})" if kept else "")


def grow(warehouse: Path, customers: int) -> dict[str, int]:
    """Grow the copy ``warehouse`` to ``customers`` golden customers (and their records,
    conflicts and 30 days of breaks history), in SQL. Returns the row counts."""
    con = duckdb.connect(str(warehouse))
    try:
        base = _scalar(con, "select count(*) from marts.customers")
        extra = max(0, customers - base)
        con.execute("create temp table template as select *, row_number() over "
                    "(order by customer_id) - 1 as template_no from marts.customers")
        suffix = "'~' || cast(g.i as varchar)"
        new_id = "'cus_z' || lpad(cast(g.i as varchar), 15, '0')"
        join = f"from range({extra}) as g(i) inner join {{t}} on {{t}}.template_no = g.i % {base}"
        customer_cols = _replace(con, "marts.customers", "template", {
            "customer_id": new_id,
            "email": "case when template.email is null then null else 'c' || "
                     "cast(g.i as varchar) || '.' || template.email end",
            "crm_contact_id": f"template.crm_contact_id || {suffix}",
            "erp_contact_id": f"template.erp_contact_id || {suffix}",
            "shop_customer_id": f"template.shop_customer_id || {suffix}"}, "template_no")
        con.execute(f"insert into marts.customers select {customer_cols} "
                    + join.format(t="template"))
        con.execute("create temp table xref_template as select x.*, t.template_no "
                    "from marts.customer_xref as x inner join template as t using (customer_id)")
        xref_cols = _replace(con, "marts.customer_xref", "xref_template", {
            "customer_id": new_id, "record_id": f"xref_template.record_id || {suffix}",
            "record_key": f"xref_template.record_key || {suffix}"}, "template_no")
        con.execute(f"insert into marts.customer_xref select {xref_cols} "
                    + join.format(t="xref_template"))
        if _columns(con, "intermediate.int_customer_records"):
            records = _replace(con, "intermediate.int_customer_records", "r", {
                "record_key": f"r.record_key || {suffix}", "record_id": f"r.record_id || {suffix}"})
            con.execute(f"insert into intermediate.int_customer_records select {records} "
                        f"from range({extra}) as g(i) inner join xref_template "
                        f"on xref_template.template_no = g.i % {base} "
                        "inner join intermediate.int_customer_records as r "
                        "on r.record_key = xref_template.record_key")
        con.execute("create temp table conflict_template as select c.*, t.template_no "
                    "from marts.customer_field_conflicts as c inner join template as t "
                    "using (customer_id)")
        conflict_cols = _replace(con, "marts.customer_field_conflicts", "conflict_template", {
            "customer_id": new_id, "record_id": f"conflict_template.record_id || {suffix}"},
            "template_no")
        con.execute(f"insert into marts.customer_field_conflicts select {conflict_cols} "
                    + join.format(t="conflict_template"))
        _grow_history(con, max(1, customers // max(base, 1)))
        counts = {relation: _scalar(con, f"select count(*) from {relation}")
                  for relation in ("marts.customers", "marts.customer_xref",
                                   "marts.customer_field_conflicts",
                                   "snapshots.reconciliation_breaks_snapshot")
                  if _columns(con, relation)}
        con.execute("checkpoint")
        return counts
    finally:
        con.close()


def _grow_history(con: duckdb.DuckDBPyConnection, copies: int) -> None:
    """30 days of breaks history: ``copies`` of every snapshotted break, each opened on a
    pseudo-random earlier day and a third of them closed a few days later."""
    if not _columns(con, "snapshots.reconciliation_breaks_snapshot"):
        return
    opened = f"cast(hash(s.break_id, g.i) % {HISTORY_DAYS} as integer)"  # days ago
    lasted = "cast(1 + hash(g.i, s.break_id) % 7 as integer)"  # days, when closed
    cols = _replace(con, "snapshots.reconciliation_breaks_snapshot", "s", {
        "break_id": "s.break_id || '~' || cast(g.i as varchar)",
        "dbt_scd_id": "s.dbt_scd_id || '~' || cast(g.i as varchar)",
        "dbt_valid_from": f"s.dbt_valid_from - to_days({opened})",
        "dbt_valid_to": f"case when hash(g.i, s.break_id) % 3 = 0 and {opened} > {lasted} "
                        f"then s.dbt_valid_from - to_days({opened}) + to_days({lasted}) end"})
    con.execute(f"insert into snapshots.reconciliation_breaks_snapshot select {cols} "
                f"from range(1, {copies}) as g(i) "
                "cross join snapshots.reconciliation_breaks_snapshot as s "
                "where s.dbt_valid_to is null")


@dataclass(frozen=True)
class PageTiming:
    """One page's render: cold, median of the repeats, peak Python memory, HTTP status."""

    label: str
    url: str
    cold_ms: float
    median_ms: float
    peak_mb: float
    status: int


def pages(warehouse: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(label, page, parameters) of every page to time, with real values to search for."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        one = con.execute("select customer_id, email, first_name, last_name from marts.customers "
                          "where email is not null and customer_id like 'cus_z%' "
                          "order by customer_id desc limit 1").fetchone()
        record = con.execute("select record_id from marts.customer_xref "
                             "order by record_id desc limit 1").fetchone()
        total = _scalar(con, "select count(*) from marts.customers")
    finally:
        con.close()
    customer_id, email, first_name, last_name = one if one else ("", "", "", "")
    return [
        ("overview", "index", {}),
        ("reconciliation", "reconciliation", {}),
        ("reconciliation search", "reconciliation", {"q": "northwind"}),
        ("customers", "customers", {}),
        ("customers last page", "customers", {"page": str(max(1, total // 50))}),
        ("customers search e-mail", "customers", {"q": str(email)}),
        ("customers search name", "customers", {"q": str(last_name)}),
        ("customers search full name", "customers", {"q": f"{first_name} {last_name}"}),
        ("customers search record id", "customers", {"q": str(record[0]) if record else "x"}),
        ("customer 360", "customer", {"id": str(customer_id)}),
        ("conflicts", "conflicts", {}),
        ("conflicts email page 100", "conflicts", {"field": "email", "page": "100"}),
        ("data quality", "quality", {}),
        ("compliance", "compliance", {}),
        ("sync health", "syncs", {}),
        ("metrics", "metrics", {}),
        ("metric customers", "metrics", {"metric": "customers"}),
        ("metric revenue", "metrics", {"metric": "revenue"}),
        ("data dictionary", "dictionary", {}),
    ]


def time_pages(warehouse: Path, dbt_target: Path, repeat: int) -> list[PageTiming]:
    """Render every page cold, ``repeat`` more times, then once under tracemalloc."""
    from reports.links import ServerLinks
    from reports.render import render_page
    from reports.site import Site

    settings = Settings(warehouse=warehouse)
    timings = []
    for label, name, params in pages(warehouse):
        site = Site(settings, ServerLinks(), dbt_target, dagster_url="http://127.0.0.1:3000")
        with Timer() as cold:
            status, _ = render_page(name, params, site)
        runs = []
        for _ in range(repeat):
            with Timer() as t:
                render_page(name, params, site)
            runs.append(t.seconds)
        tracemalloc.start()
        render_page(name, params, site)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = ("/" if name == "index" else f"/{name}") + (f"?{query}" if query else "")
        timings.append(PageTiming(label, url, cold.seconds * 1000,
                                  statistics.median(runs or [cold.seconds]) * 1000,
                                  peak / 2**20, status))
    return timings


def time_csv(warehouse: Path, dbt_target: Path,
             sample_rows: int = 200_000) -> tuple[float, float, int, float]:
    """The whole customers table as CSV: seconds to the first chunk, in all, and bytes; then
    the peak Python memory while streaming its first ``sample_rows`` rows (under tracemalloc,
    which would slow the timed pass several times over)."""
    from reports.links import ServerLinks
    from reports.render import render_csv
    from reports.site import Site

    site = Site(Settings(warehouse=warehouse), ServerLinks(), dbt_target)
    size = 0
    started = time.perf_counter()
    first = 0.0
    for chunk in render_csv("customers", {}, site):
        if not first:
            first = time.perf_counter() - started
        size += len(chunk)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    streamed = 0
    chunks = render_csv("customers", {}, site)
    for chunk in chunks:
        streamed += chunk.count("\n")
        if streamed >= sample_rows:
            break
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    chunks.close()
    return first, seconds, size, peak


def run(customers: int = 1_000_000, *, work_dir: Path = DEFAULT_WORK_DIR, repeat: int = 3,
        warehouse: Path | None = None, dbt_target: Path | None = None,
        csv: bool = False, port_base: int = PORT_BASE) -> list[Figure]:
    """Build or reuse the small world, grow a copy to ``customers`` and time every page."""
    if warehouse is None or dbt_target is None:
        warehouse, dbt_target = build_world(work_dir / "world", port_base=port_base)
    work_dir.mkdir(parents=True, exist_ok=True)
    grown = work_dir / f"reports-{customers}.duckdb"
    shutil.copyfile(warehouse, grown)
    with Timer() as t:
        counts = grow(grown, customers)
    print(f"grew {grown} in {t.seconds:.1f} s: "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
    name = f"reports {customers:,}"
    figures = [Figure(name, "grow warehouse", t.seconds, "s")]
    for timing in time_pages(grown, dbt_target, repeat):
        print(f"  {timing.label:<28} {timing.median_ms:8.0f} ms  (cold {timing.cold_ms:.0f} ms,"
              f" peak {timing.peak_mb:.1f} MB, HTTP {timing.status})  {timing.url}", flush=True)
        figures.append(Figure(name, timing.label, timing.median_ms, "ms",
                              note=f"cold {timing.cold_ms:.0f} ms; peak Python "
                                   f"{timing.peak_mb:.1f} MB; HTTP {timing.status}"))
    if csv:
        first, seconds, size, peak = time_csv(grown, dbt_target)
        figures.append(Figure(name, "customers CSV export", seconds, "s",
                              note=f"first chunk {first * 1000:.0f} ms; {size / 2**20:.0f} MB; "
                                   f"peak Python {peak:.1f} MB over its first 200,000 rows"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="report page render times at scale")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help="where the small world is built once and the grown copy lives")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warehouse", type=Path, help="an already built DuckDB warehouse")
    parser.add_argument("--dbt-target", type=Path, help="its dbt target folder")
    parser.add_argument("--csv", action="store_true", help="also time the customers CSV export")
    parser.add_argument("--port-base", type=int, default=PORT_BASE,
                        help="the small world's sandbox ports: this one and the next three")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    figures = run(args.customers, work_dir=args.work_dir, repeat=args.repeat,
                  warehouse=args.warehouse, dbt_target=args.dbt_target, csv=args.csv,
                  port_base=args.port_base)
    print(render(figures))
    print(f"\nwritten to {save(figures, args.out)}")


if __name__ == "__main__":
    main()
