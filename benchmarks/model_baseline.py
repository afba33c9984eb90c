"""The dbt build benchmark's baseline: the same compiled SQL, straight in one DuckDB connection.

The issue's target is ``dbt build`` wall <= 1.3 x this. It reads the ``manifest.json`` of a dbt
build (the compiled code of every node is there) and replays the build serially, in
topological order, on one ``duckdb.connect()`` of a copy of the warehouse that holds the raw
tables only:

- seeds: ``create table ... as select * from read_csv(...)`` with the seed's ``column_types``;
- table and incremental models (a full refresh): ``create or replace table ... as (<compiled>)``,
  or, with an enforced contract, dbt-duckdb's ``create table (<columns and constraints>)`` then
  ``insert into ... select <columns> from (<compiled>)``;
- views: ``create or replace view``; ephemeral models: nothing (inlined as CTEs already);
- the Python model: its compiled code (the model file plus dbt's own ``dbtObj`` shim: ``ref``,
  ``source``, ``config``, ``this``) is imported and ``model(dbt, con)`` called with ``ref``
  reading relations of this connection, as dbt-duckdb does; the result is registered and
  ``create table ... as select * from`` it;
- snapshots: what dbt's first run does (the ``dbt_scd_id`` / ``dbt_updated_at`` /
  ``dbt_valid_from`` / ``dbt_valid_to`` columns added to the compiled select);
- data tests: dbt's own wrapper, ``select count(*) as failures, ... from (<compiled>)``; a
  failing test is counted (and a broken one recorded), never fatal.

Unit tests are dbt-only (their fixtures are rendered by dbt at run time): none run here, so the
benchmark excludes them from the dbt build it compares with. The connection gets the Python UDFs
of ``profiles.yml``'s duckdb output through the same dbt-duckdb plugin classes dbt loads.

    python -m benchmarks.model_baseline --target ROOT/target --warehouse COPY.duckdb [--strip]

``--strip`` first drops from the copy what the build makes (for a copy of a built warehouse).
``python -m benchmarks.model --baseline`` copies the warehouse before its build and runs this.
"""

from __future__ import annotations

import argparse
import heapq
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from benchmarks.harness import Figure
from goldloop.errors import ConfigError, GoldloopError, WarehouseError

EXECUTED = ("seed", "model", "snapshot", "test")
RELATIONS = ("seed", "model", "snapshot")  # nodes that leave a table or view behind
TEST_FAILED = ("fail", "error")


@dataclass(frozen=True)
class NodeRun:
    """One node of the replayed build: what was done, how long it took and how it ended."""

    unique_id: str
    resource_type: str
    action: str  # seed, table, view, python table, snapshot, test, ephemeral
    seconds: float
    status: str  # success (relations); pass, warn, fail, error (tests)
    failures: int | None = None
    message: str = ""


@dataclass
class BaselineResult:
    """The whole replay: wall seconds from connect to close, and every node's run."""

    seconds: float
    nodes: list[NodeRun]
    notes: list[str] = field(default_factory=list)

    @property
    def failing_tests(self) -> list[NodeRun]:
        """Tests that found rows dbt would fail the build on, or whose SQL did not run."""
        return [n for n in self.nodes if n.resource_type == "test" and n.status in TEST_FAILED]

    @property
    def warning_tests(self) -> list[NodeRun]:
        """Tests that found rows at severity warn (dbt reports them and goes on)."""
        return [n for n in self.nodes if n.resource_type == "test" and n.status == "warn"]

    def slowest(self, top: int | None = None) -> list[NodeRun]:
        """The node runs, slowest first."""
        return sorted(self.nodes, key=lambda n: -n.seconds)[:top]

    def summary(self, top: int = 15) -> str:
        """A printable account: totals, failing tests and the slowest nodes."""
        kinds = Counter(n.action for n in self.nodes)
        lines = [f"compiled SQL in one connection: {self.seconds:.2f} s, "
                 + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())),
                 f"failing tests: {len(self.failing_tests)}, "
                 f"warning tests: {len(self.warning_tests)}"]
        lines += [f"  {n.status.upper():5} {n.unique_id} ({n.failures} rows) {n.message}".rstrip()
                  for n in self.failing_tests + self.warning_tests]
        lines.append(f"slowest {top} nodes:")
        lines += [f"  {n.seconds:8.2f} s  {n.action:12} {n.unique_id}" for n in self.slowest(top)]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


# -- the manifest ---------------------------------------------------------------------------------

def load_manifest(target_dir: Path) -> dict[str, Any]:
    """``target_dir/manifest.json``, checked to hold the compiled code of every node to run."""
    path = target_dir / "manifest.json"
    if not path.exists():
        raise ConfigError(f"no dbt manifest at {path}",
                          hint="pass the --target-path of a finished `dbt build`")
    manifest: dict[str, Any] = json.loads(path.read_text())
    missing = [uid for uid, node in executed_nodes(manifest).items()
               if node["resource_type"] != "seed" and node.get("compiled_code") is None]
    if missing:
        raise ConfigError(
            f"{len(missing)} nodes of {path} have no compiled code (e.g. {missing[0]})",
            hint=f"run `dbt compile --target-path {target_dir}` (or a full `dbt build`) first")
    return manifest


def executed_nodes(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The enabled seeds, models, snapshots and data tests of a manifest (unit tests live apart).

    >>> sorted(executed_nodes({"nodes": {
    ...     "model.p.a": {"resource_type": "model", "config": {"enabled": True}},
    ...     "analysis.p.b": {"resource_type": "analysis", "config": {"enabled": True}},
    ...     "test.p.c": {"resource_type": "test", "config": {"enabled": False}}}}))
    ['model.p.a']
    """
    return {uid: node for uid, node in manifest.get("nodes", {}).items()
            if node["resource_type"] in EXECUTED and node["config"].get("enabled", True)}


def topological_order(nodes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A serial build order of ``nodes``: parents (``depends_on.nodes``) first, else as listed.

    Dependencies outside ``nodes`` (sources, unit tests) are ignored.

    >>> topological_order({
    ...     "test.p.t": {"depends_on": {"nodes": ["model.p.b"]}},
    ...     "model.p.b": {"depends_on": {"nodes": ["model.p.a", "source.p.raw.x"]}},
    ...     "model.p.a": {"depends_on": {"nodes": []}}})
    ['model.p.a', 'model.p.b', 'test.p.t']
    """
    position = {uid: index for index, uid in enumerate(nodes)}
    parents = {uid: {p for p in node.get("depends_on", {}).get("nodes", []) if p in nodes}
               for uid, node in nodes.items()}
    children: dict[str, list[str]] = {uid: [] for uid in nodes}
    for uid, ups in parents.items():
        for parent in ups:
            children[parent].append(uid)
    waiting = {uid: len(ups) for uid, ups in parents.items()}
    ready = [(position[uid], uid) for uid, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, uid = heapq.heappop(ready)
        order.append(uid)
        for child in children[uid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (position[child], child))
    if len(order) != len(nodes):
        stuck = sorted(set(nodes) - set(order))
        raise ConfigError(f"the manifest's dependencies have a cycle through {stuck[:3]}",
                          hint="rebuild the target with `dbt build`")
    return order


def database_of(nodes: Mapping[str, Mapping[str, Any]]) -> str:
    """The catalog the relations of ``nodes`` are named in (dbt-duckdb: the file's stem).

    >>> database_of({"m": {"resource_type": "model", "database": "warehouse"}})
    'warehouse'
    """
    names = Counter(str(node["database"]) for node in nodes.values()
                    if node["resource_type"] in RELATIONS and node.get("database"))
    if not names:
        raise ConfigError("the manifest names no database for its relations",
                          hint="rebuild the target with `dbt build` on DuckDB")
    return names.most_common(1)[0][0]


# -- SQL per node (pure) --------------------------------------------------------------------------

def quote(name: str) -> str:
    """A DuckDB quoted identifier.

    >>> quote('marts'), quote('a"b')
    ('"marts"', '"a""b"')
    """
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A DuckDB string literal.

    >>> literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


def code_of(node: Mapping[str, Any]) -> str:
    """A node's compiled code, without a trailing semicolon (it is wrapped in other SQL).

    >>> code_of({"compiled_code": "select 1 as x;  \\n"})
    'select 1 as x'
    """
    return str(node["compiled_code"]).rstrip().rstrip(";").rstrip()


def with_header(node: Mapping[str, Any], sql: str) -> str:
    """``sql`` behind the node's ``sql_header`` config, if any (dbt puts it first too)."""
    header = node["config"].get("sql_header")
    return f"{header}\n{sql}" if header else sql


def column_ddl(column: Mapping[str, Any]) -> str:
    """One column of a contract: name, type and the constraints DuckDB enforces.

    >>> column_ddl({"name": "id", "data_type": "varchar", "constraints": [{"type": "not_null"}]})
    'id varchar not null'
    >>> column_ddl({"name": "n", "data_type": "int",
    ...             "constraints": [{"type": "check", "expression": "n > 0"}]})
    'n int check (n > 0)'
    """
    name = quote(column["name"]) if column.get("quote") else str(column["name"])
    parts = [name, str(column["data_type"])]
    for constraint in column.get("constraints") or []:
        kind = constraint["type"]
        if kind == "not_null":
            parts.append("not null")
        elif kind == "unique":
            parts.append("unique")
        elif kind == "primary_key":
            parts.append("primary key")
        elif kind == "check" and constraint.get("expression"):
            parts.append(f"check ({constraint['expression']})")
    return " ".join(parts)


def table_sql(node: Mapping[str, Any]) -> list[str]:
    """The statements that build a table (or full-refresh incremental) model, as dbt-duckdb does.

    >>> table_sql({"relation_name": '"w"."m"."t"', "config": {}, "contract": {"enforced": False},
    ...            "compiled_code": "select 1 as x"})
    ['create or replace table "w"."m"."t" as (\\nselect 1 as x\\n)']
    >>> ddl, insert = table_sql({"relation_name": '"w"."m"."t"', "config": {},
    ...     "contract": {"enforced": True}, "compiled_code": "select 1 as x",
    ...     "columns": {"x": {"name": "x", "data_type": "int",
    ...                       "constraints": [{"type": "not_null"}]}}})
    >>> ddl
    'create or replace table "w"."m"."t" (x int not null)'
    >>> insert.splitlines()[0]
    'insert into "w"."m"."t" (x) select x from ('
    """
    relation, code = node["relation_name"], code_of(node)
    if not (node.get("contract") or {}).get("enforced"):
        return [with_header(node, f"create or replace table {relation} as (\n{code}\n)")]
    columns = list(node.get("columns", {}).values())
    names = ", ".join(quote(c["name"]) if c.get("quote") else str(c["name"]) for c in columns)
    ddl = ", ".join(column_ddl(c) for c in columns)
    return [f"create or replace table {relation} ({ddl})",
            with_header(node, f"insert into {relation} ({names}) select {names} from (\n"
                              f"{code}\n) as model_subq")]


def view_sql(node: Mapping[str, Any]) -> list[str]:
    """The statement that builds a view model.

    >>> view_sql({"relation_name": '"w"."s"."v"', "config": {}, "compiled_code": "select 1"})
    ['create or replace view "w"."s"."v" as (\\nselect 1\\n)']
    """
    return [with_header(node, f"create or replace view {node['relation_name']} as (\n"
                              f"{code_of(node)}\n)")]


def seed_sql(node: Mapping[str, Any]) -> list[str]:
    """The statement that loads a seed's CSV with its ``column_types`` (others sniffed).

    >>> seed_sql({"relation_name": '"w"."seeds"."s"', "root_path": "/p",
    ...           "original_file_path": "seeds/s.csv",
    ...           "config": {"column_types": {"code": "varchar"}, "delimiter": ","}})[0]
    'create or replace table "w"."seeds"."s" as select * from read_csv(\\'/p/seeds/s.csv\\', header = true, delim = \\',\\', types = {\\'code\\': \\'varchar\\'})'
    """  # noqa: E501
    path = Path(node["root_path"]) / node["original_file_path"]
    config = node["config"]
    options = [literal(str(path)), "header = true",
               f"delim = {literal(config.get('delimiter') or ',')}"]
    types = config.get("column_types") or {}
    if types:
        pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items())
        options.append(f"types = {{{pairs}}}")
    return [f"create or replace table {node['relation_name']} as select * from read_csv("
            + ", ".join(options) + ")"]


def snapshot_sql(node: Mapping[str, Any]) -> list[str]:
    """A snapshot's first run on DuckDB: the compiled select plus dbt's snapshot columns.

    As dbt-core's ``build_snapshot_table`` renders it for dbt-duckdb (``now()::timestamp`` is
    the check strategy's ``updated_at``).

    >>> sql = snapshot_sql({"relation_name": '"w"."snapshots"."s"', "compiled_code": "select 1",
    ...     "config": {"strategy": "check", "unique_key": "id", "hard_deletes": "invalidate"}})[0]
    >>> "md5(coalesce(cast(id as varchar), '') || '|' || coalesce(cast(now()::timestamp" in sql
    True
    """
    config = node["config"]
    names = {key: (config.get("snapshot_meta_column_names") or {}).get(key) or key
             for key in ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to",
                         "dbt_is_deleted")}
    if config.get("strategy") == "timestamp":
        updated_at = str(config["updated_at"])
    else:
        updated_at = "now()::timestamp"
    keys = config["unique_key"]
    keys = [keys] if isinstance(keys, str) else list(keys)
    scd_id = "md5(" + " || '|' || ".join(
        f"coalesce(cast({part} as varchar), '')" for part in [*keys, updated_at]) + ")"
    valid_to_current = config.get("dbt_valid_to_current") or "null"
    columns = [f"{scd_id} as {names['dbt_scd_id']}",
               f"{updated_at} as {names['dbt_updated_at']}",
               f"{updated_at} as {names['dbt_valid_from']}",
               f"coalesce(nullif({updated_at}, {updated_at}), {valid_to_current})"
               f" as {names['dbt_valid_to']}"]
    if config.get("hard_deletes") == "new_record":
        columns.append(f"'False' as {names['dbt_is_deleted']}")
    return [f"create or replace table {node['relation_name']} as (\nselect *, "
            + ", ".join(columns) + f"\nfrom (\n{code_of(node)}\n) sbq\n)"]


def data_test_sql(node: Mapping[str, Any]) -> str:
    """dbt's data test query: failures and whether they warn or fail the build.

    >>> print(data_test_sql({"compiled_code": "select * from t where x is null",
    ...     "config": {"fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"}}))
    select count(*) as failures, count(*) != 0 as should_warn, count(*) != 0 as should_error
    from (
    select * from t where x is null
    ) dbt_internal_test
    """
    config = node["config"]
    calc = config.get("fail_calc") or "count(*)"
    limit = f"\nlimit {int(config['limit'])}" if config.get("limit") is not None else ""
    return (f"select {calc} as failures, {calc} {config.get('warn_if') or '!= 0'} as should_warn,"
            f" {calc} {config.get('error_if') or '!= 0'} as should_error\n"
            f"from (\n{code_of(node)}{limit}\n) dbt_internal_test")


def data_test_status(severity: str, should_warn: bool, should_error: bool) -> str:
    """A data test's status as dbt decides it from its severity and thresholds.

    >>> data_test_status("error", True, True), data_test_status("warn", True, True)
    ('fail', 'warn')
    >>> data_test_status("ERROR", False, False)
    'pass'
    """
    if severity.lower() == "error" and should_error:
        return "fail"
    return "warn" if should_warn else "pass"


def action_of(node: Mapping[str, Any]) -> str:
    """What the replay does with a node.

    >>> action_of({"resource_type": "model", "config": {"materialized": "incremental"},
    ...            "language": "sql"})
    'table'
    """
    kind = node["resource_type"]
    if kind != "model":
        return str(kind)
    materialized = node["config"].get("materialized")
    if node.get("language") == "python":
        # an incremental one compiled for a full build (is_incremental False) builds a table
        if materialized not in ("table", "incremental"):
            raise ConfigError(f"{node['unique_id']}: a {materialized} Python model",
                              hint="the baseline replays Python models materialized as table"
                                   " or incremental")
        return "python table"
    if materialized in ("table", "incremental"):
        return "table"
    if materialized in ("view", "ephemeral"):
        return str(materialized)
    raise ConfigError(f"{node['unique_id']}: materialization {materialized!r} is not replayed",
                      hint="extend benchmarks/model_baseline.py:action_of for it")


# -- the connection -------------------------------------------------------------------------------

def project_dir_of(nodes: Mapping[str, Mapping[str, Any]]) -> Path:
    """The dbt project the manifest was parsed from (its nodes' ``root_path``)."""
    for node in nodes.values():
        if node.get("root_path"):
            return Path(node["root_path"])
    raise ConfigError("the manifest has no node with a root_path (its dbt project folder)",
                      hint="rebuild the target with `dbt build`")


def duckdb_plugins(profiles_dir: Path, project_dir: Path) -> list[Any]:
    """The dbt-duckdb plugins of the project's duckdb output (its UDFs), created as dbt does.

    ``module_paths`` are taken as dbt-duckdb takes them (relative to the working directory),
    then relative to the project folder and its parent.
    """
    import yaml
    from dbt.adapters.duckdb.plugins import BasePlugin

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    profiles = yaml.safe_load((profiles_dir / "profiles.yml").read_text())
    outputs = profiles.get(project.get("profile"), {}).get("outputs", {})
    output = next((o for o in outputs.values() if o.get("type") == "duckdb"), None)
    if output is None:
        raise ConfigError(f"no duckdb output for profile {project.get('profile')!r} in "
                          f"{profiles_dir / 'profiles.yml'}", hint="pass --profiles-dir")
    for entry in output.get("module_paths") or []:
        for base in (Path.cwd(), project_dir, project_dir.parent):
            folder = (base / entry).resolve()
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))
    settings = output.get("settings") or {}
    return [BasePlugin.create(p["module"], config={**settings, **(p.get("config") or {})},
                              alias=p.get("alias"))
            for p in output.get("plugins") or []]


def connect(warehouse: Path, database: str) -> duckdb.DuckDBPyConnection:
    """One connection to ``warehouse`` in which its catalog is named ``database``.

    dbt-duckdb names the catalog after the file's stem: a copy of another name is attached
    under the original's.
    """
    if warehouse.stem == database:
        return duckdb.connect(str(warehouse))
    con = duckdb.connect(config={"temp_directory": f"{warehouse}.tmp"})
    con.execute(f"attach {literal(str(warehouse))} as {quote(database)}")
    con.execute(f"use {quote(database)}")
    return con


# -- the replay -----------------------------------------------------------------------------------

def run_python_model(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> None:
    """Import the model's compiled code, call ``model(dbt, con)`` and store its result.

    As dbt-duckdb's ``run_python_job`` and ``py_write_table``: the compiled code brings dbt's
    ``dbtObj`` (``ref``/``source``/``config``/``this``); ``ref`` reads through this connection.
    """
    code = str(node["compiled_code"])
    if "class dbtObj" not in code:
        raise ConfigError(f"{node['unique_id']}: compiled code without dbt's dbtObj",
                          hint="rebuild the target with `dbt build` (dbt-duckdb)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{node['alias']}.py"
        path.write_text(code.lstrip())
        spec = importlib.util.spec_from_file_location(str(node["alias"]), path)
        if spec is None or spec.loader is None:
            raise WarehouseError(f"{node['unique_id']}: cannot load its compiled code")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    frame = module.model(module.dbtObj(lambda name: con.query(f"select * from {name}")), con)
    name = f"__dbt_python_model_df_{node['alias']}"
    con.register(name, frame)
    try:
        con.execute(f"create or replace table {node['relation_name']} as select * from {name}")
    finally:
        con.unregister(name)


def run_node(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> NodeRun:
    """Replay one node; a test's failures are counted, any other node's error is raised."""
    uid, action = node["unique_id"], action_of(node)
    start = time.perf_counter()
    if action == "test":
        try:
            failures, should_warn, should_error = con.execute(data_test_sql(node)).fetchall()[0]
            status = data_test_status(str(node["config"].get("severity") or "error"),
                                      bool(should_warn), bool(should_error))
            return NodeRun(uid, "test", action, time.perf_counter() - start, status,
                           int(failures))
        except duckdb.Error as exc:
            return NodeRun(uid, "test", action, time.perf_counter() - start, "error",
                           message=str(exc).splitlines()[0])
    statements = {"seed": seed_sql, "table": table_sql, "view": view_sql,
                  "snapshot": snapshot_sql}.get(action)
    try:
        if action == "python table":
            run_python_model(con, node)
        elif statements is not None:
            for sql in statements(node):
                con.execute(sql)
    except Exception as exc:
        raise WarehouseError(f"{uid} failed in the compiled-SQL baseline: {exc}",
                             hint="check that the warehouse copy holds the raw tables the "
                                  "build started from and the target is that build's") from exc
    return NodeRun(uid, node["resource_type"], action, time.perf_counter() - start, "success")


def skipped_configs(nodes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What dbt would do that the replay leaves out (hooks, stored failures), one note each."""
    notes = []
    for uid, node in nodes.items():
        config = node["config"]
        if config.get("pre-hook") or config.get("post-hook"):
            notes.append(f"{uid}: hooks not replayed")
        if config.get("store_failures"):
            notes.append(f"{uid}: failures not stored")
    return notes


def run_baseline(target_dir: Path, warehouse: Path, *,
                 profiles_dir: Path | None = None) -> BaselineResult:
    """Replay the build of ``target_dir``'s manifest on ``warehouse`` in one DuckDB connection.

    ``warehouse`` must hold what the dbt build started from (the raw tables, no models): pass a
    copy, the replay replaces relations. ``target_dir`` is that build's (a full refresh, so
    incremental models' compiled code reads everything). ``profiles_dir`` (default: the
    project's folder) gives the duckdb output's UDF plugins.
    """
    manifest = load_manifest(target_dir)
    nodes = executed_nodes(manifest)
    order = topological_order(nodes)
    database = database_of(nodes)
    project_dir = project_dir_of(nodes)
    plugins = duckdb_plugins(profiles_dir or project_dir, project_dir)
    schemas = sorted({(str(n["database"]), str(n["schema"])) for n in nodes.values()
                      if n["resource_type"] in RELATIONS and action_of(n) != "ephemeral"})
    if not warehouse.exists():
        raise ConfigError(f"no warehouse at {warehouse}", hint="pass the copied DuckDB file")
    runs: list[NodeRun] = []
    start = time.perf_counter()
    con = connect(warehouse, database)
    try:
        for plugin in plugins:
            plugin.configure_connection(con)
        for db, schema in schemas:
            con.execute(f"create schema if not exists {quote(db)}.{quote(schema)}")
        runs = [run_node(con, nodes[uid]) for uid in order]
    finally:
        con.close()
    return BaselineResult(time.perf_counter() - start, runs, skipped_configs(nodes))


# -- a warehouse to replay on ---------------------------------------------------------------------

def copy_warehouse(source: Path, destination: Path) -> Path:
    """Copy a closed DuckDB file (and its WAL, if one was left) to ``destination``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".wal"):
        target = Path(f"{destination}{suffix}")
        target.unlink(missing_ok=True)
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", target)
    return destination


def strip_models(warehouse: Path, target_dir: Path) -> list[str]:
    """Drop from ``warehouse`` every relation the manifest's build makes; the dropped names.

    For a copy of a warehouse that was built before (``--reuse``): the replay then starts from
    the raw tables, as a fresh build does. Schemas left empty (and no source's) are dropped too.
    """
    manifest = load_manifest(target_dir)
    nodes = executed_nodes(manifest)
    database = database_of(nodes)
    wanted = {(str(n["schema"]), str(n["alias"])) for n in nodes.values()
              if n["resource_type"] in RELATIONS}
    keep = {str(s["schema"]) for s in manifest.get("sources", {}).values()} | {"main"}
    dropped: list[str] = []
    con = connect(warehouse, database)
    try:
        existing = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
            " where table_catalog = ?", [database]).fetchall()
        for schema, name, kind in existing:
            if (schema, name) in wanted:
                what = "view" if kind == "VIEW" else "table"
                con.execute(f"drop {what} if exists {quote(schema)}.{quote(name)}")
                dropped.append(f"{schema}.{name}")
        for (schema,) in con.execute(
                "select schema_name from information_schema.schemata where catalog_name = ?",
                [database]).fetchall():
            left = con.execute("select count(*) from information_schema.tables"
                               " where table_catalog = ? and table_schema = ?",
                               [database, schema]).fetchall()[0][0]
            if schema not in keep and schema in {s for s, _ in wanted} and left == 0:
                con.execute(f"drop schema if exists {quote(schema)}")
        con.execute("checkpoint")
    finally:
        con.close()
    return dropped


def measure(name: str, dbt_wall: float, target_dir: Path, copy: Path) -> list[Figure]:
    """Replay the build of ``target_dir`` on ``copy`` (stripped of models first); its figures.

    ``copy`` is the warehouse as it was before the dbt build of wall ``dbt_wall`` seconds; every
    node's time is left beside it in ``nodes.json`` (slowest first).
    """
    dropped = strip_models(copy, target_dir)
    result = run_baseline(target_dir, copy)
    print(result.summary(10), file=sys.stderr)
    (copy.parent / "nodes.json").write_text(json.dumps(
        [asdict(n) for n in result.slowest()], indent=1))
    results = target_dir / "run_results.json"
    elapsed = (float(json.loads(results.read_text())["elapsed_time"])
               if results.exists() else None)
    return figures(name, dbt_wall, elapsed, result,
                   note="models dropped from a built copy" if dropped else "")


def figures(name: str, dbt_wall: float, dbt_elapsed: float | None, result: BaselineResult,
            note: str = "") -> list[Figure]:
    """The benchmark's figures of a replay against the dbt build it replays.

    >>> run = BaselineResult(2.0, [NodeRun("model.p.a", "model", "table", 1.5, "success"),
    ...                            NodeRun("test.p.t", "test", "test", 0.5, "fail", 3)])
    >>> [(f.name, f.value) for f in figures("model 10", 5.0, 4.0, run)][:4]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('compiled SQL in one connection', 2.0), ('dbt build wall / compiled SQL', 2.5),
     ('dbt run_results elapsed / compiled SQL', 2.0), ('compiled SQL data tests (sum)', 0.5)]
    """
    base = result.seconds
    made = sum(1 for n in result.nodes if n.resource_type != "test")
    tests = len(result.nodes) - made
    found = [Figure(name, "compiled SQL in one connection", base, "s", base / dbt_wall,
                    "build wall", note="; ".join(filter(None, [
                        f"{made} nodes + {tests} data tests, serial, no unit tests",
                        f"{len(result.notes)} left out (hooks)" if result.notes else "",
                        note])))]
    found.append(Figure(name, "dbt build wall / compiled SQL", dbt_wall / base, "x",
                        note="issue target <= 1.30"))
    if dbt_elapsed is not None:
        found.append(Figure(name, "dbt run_results elapsed / compiled SQL", dbt_elapsed / base,
                            "x", note="without dbt's start-up and parse"))
    testing = sum(n.seconds for n in result.nodes if n.resource_type == "test")
    found.append(Figure(name, "compiled SQL data tests (sum)", testing, "s", testing / base,
                        "compiled SQL"))
    found.append(Figure(name, "compiled SQL failing data tests", len(result.failing_tests),
                        "tests", note=f"{len(result.warning_tests)} warn"))
    found += [Figure(name, f"compiled SQL {n.action} {n.unique_id.split('.')[-1]}", n.seconds,
                     "s") for n in result.slowest(5)]
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="replay a dbt build's compiled SQL in one DuckDB connection")
    parser.add_argument("--target", type=Path, required=True,
                        help="the dbt target folder of the build (manifest.json)")
    parser.add_argument("--warehouse", type=Path, required=True,
                        help="a DuckDB file holding the raw tables only (a copy: it is written)")
    parser.add_argument("--profiles-dir", type=Path, default=None,
                        help="folder of profiles.yml (default: the dbt project's)")
    parser.add_argument("--strip", action="store_true",
                        help="first drop the relations the build makes (a reused warehouse)")
    parser.add_argument("--top", type=int, default=20, help="slowest nodes to print")
    args = parser.parse_args(argv)
    try:
        if args.strip:
            print(f"dropped {len(strip_models(args.warehouse, args.target))} relations")
        result = run_baseline(args.target.resolve(), args.warehouse.resolve(),
                              profiles_dir=args.profiles_dir)
    except GoldloopError as exc:
        sys.exit(f"error: {exc}")
    print(result.summary(args.top))


if __name__ == "__main__":
    main()
