"""Where each mart column comes from in each system, generated from dbt's compiled SQL.

Each model's compiled SQL (``manifest.json``) is read once with sqlglot's column lineage,
one level at a time (model → the relations it selects from), with the warehouse's catalogue as
schema. A mart column is then followed through those levels until it reaches a staging model
(``stg_<system>__<entity>s``), which names the system, and the raw column that staging model
reads. It takes seconds and changes only with a build, so it is kept in memory and, beside the
manifest it comes from, in ``target/goldloop_lineage.json`` (``dbt clean`` removes it with the
rest; a read-only target folder only means computing it again).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.db import Reader
from reports.dbt_artifacts import read_artifact

STAGING = re.compile(r"^stg_(?P<system>[a-z]+)__")
SYSTEMS = ("crm", "erp", "shop", "hr")
MAX_SOURCES = 4  # per system and column: beyond this a column is "derived from many"

Parents = dict[str, list[tuple[str, str]]]  # column -> [(relation, column)]


@dataclass(frozen=True)
class Origin:
    """A system field a column is derived from: the raw column and the staging column."""

    system: str
    raw: str  # "<raw table>.<raw column>"
    staging: str  # "<staging model>.<column>"


def staging_system(model: str) -> str | None:
    """The system a staging model belongs to.

    >>> staging_system("stg_crm__contacts"), staging_system("customers")
    ('crm', None)
    """
    match = STAGING.match(model)
    return match.group("system") if match else None


def _relation_key(relation_name: str) -> str:
    """``"db"."schema"."table"`` as ``schema.table``.

    >>> _relation_key('"warehouse"."marts"."customers"')
    'marts.customers'
    """
    parts = [p.strip('"') for p in relation_name.split(".")]
    return ".".join(parts[-2:])


def _catalogue(reader: Reader) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for catalog, db, table, column, kind in reader.rows(
            "select table_catalog, table_schema, table_name, column_name, data_type "
            "from information_schema.columns"):
        schema.setdefault(str(catalog), {}).setdefault(str(db), {}).setdefault(
            str(table), {})[str(column)] = str(kind)
    return schema


def model_parents(sql: str, schema: dict[str, Any], dialect: str) -> Parents:
    """For each output column of one model's SQL, the (relation, column) pairs it reads."""
    from sqlglot import exp
    from sqlglot.lineage import lineage

    found: Parents = {}
    for column, node in lineage(None, sql, schema=schema, dialect=dialect).items():
        leaves = {(f"{leaf.source.db}.{leaf.source.name}", leaf.name.split(".")[-1])
                  for leaf in node.walk()
                  if not leaf.downstream and isinstance(leaf.source, exp.Table)}
        found[str(column)] = sorted(leaves)
    return found


class Lineage:
    """Column origins of every model of one manifest (built once, read many times)."""

    def __init__(self, parents: dict[str, Parents], relations: dict[str, str]) -> None:
        self.parents = parents  # model -> column -> parent (relation, column)
        self.relations = relations  # "schema.table" -> model name

    def origins(self, model: str, column: str) -> dict[str, list[Origin]]:
        """Per system, the raw fields ``model.column`` is derived from."""
        found: dict[str, list[Origin]] = {}
        seen: set[tuple[str, str]] = set()
        queue = [(model, column)]
        while queue:
            current, col = queue.pop()
            if (current, col) in seen:
                continue
            seen.add((current, col))
            system = staging_system(current)
            for relation, parent_col in self.parents.get(current, {}).get(col, []):
                parent = self.relations.get(relation)
                if system is not None:
                    table = relation.split(".")[-1]
                    origin = Origin(system, f"{table}.{parent_col}", f"{current}.{col}")
                    if origin not in found.setdefault(system, []):
                        found[system].append(origin)
                elif parent is not None:
                    queue.append((parent, parent_col))
        return {system: sorted(items, key=lambda o: o.raw) for system, items in found.items()}


_CACHE: dict[tuple[str, float, str], Lineage] = {}
_LOCK = threading.Lock()
CACHE_FILE = "goldloop_lineage.json"


def _load_cached(path: Path, stamp: str) -> Lineage | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("stamp") != stamp:
        return None
    parents = {model: {col: [(rel, c) for rel, c in pairs] for col, pairs in columns.items()}
               for model, columns in data["parents"].items()}
    return Lineage(parents, dict(data["relations"]))


def _store(path: Path, stamp: str, built: Lineage) -> None:
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps({"stamp": stamp, "parents": built.parents,
                                         "relations": built.relations}))
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)


def _models(manifest: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") in ("model", "seed") and node.get("relation_name"):
            yield node


def lineage_for(reader: Reader, target_dir: Path) -> Lineage | None:
    """The column lineage of the manifest in ``target_dir`` (``None`` without a manifest)."""
    manifest_path = target_dir / "manifest.json"
    manifest = read_artifact(target_dir, "manifest.json")
    if manifest is None:
        return None
    key = (str(manifest_path.resolve()), manifest_path.stat().st_mtime, reader.target)
    stamp = f"{manifest.get('metadata', {}).get('invocation_id')}|{key[1]}|{reader.target}"
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        cached = _load_cached(target_dir / CACHE_FILE, stamp)
        if cached is not None:
            _CACHE.clear()
            _CACHE[key] = cached
            return cached
        schema = _catalogue(reader)
        dialect = "postgres" if reader.target == "postgres" else "duckdb"
        relations = {_relation_key(n["relation_name"]): str(n["name"]) for n in _models(manifest)}
        parents: dict[str, Parents] = {}
        for node in _models(manifest):
            sql = node.get("compiled_code")
            if node.get("resource_type") != "model" or not sql or node.get("language") == "python":
                continue
            try:
                parents[str(node["name"])] = model_parents(sql, schema, dialect)
            except Exception:
                continue
        built = Lineage(parents, relations)
        _store(target_dir / CACHE_FILE, stamp, built)
        _CACHE.clear()
        _CACHE[key] = built
        return built
