"""Data dictionary: every golden, reconciliation and sync field with its type, its description
and the field it comes from in each system, generated from dbt's manifest, the warehouse's
catalogue and the compiled SQL's column lineage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.db import Reader
from reports.dbt_artifacts import layer_of, read_artifact
from reports.lineage import MAX_SOURCES, SYSTEMS, lineage_for
from reports.params import Text, Value, parse
from reports.site import Page, PageSpec, Site
from reports.tables import Column, Table, TableView, view

LAYERS = ("marts/core", "marts/reconciliation", "marts/identity", "marts/sync")
LAYER_TITLES = {"marts/core": "Golden records", "marts/reconciliation": "Reconciliation",
                "marts/identity": "Identity review (matches waiting for a steward)",
                "marts/sync": "Sync feeds (what reverse ETL writes back)"}


def mart_models(site: Any) -> list[dict[str, Any]]:
    """The manifest's mart models (golden, reconciliation, sync), by layer then name."""
    manifest = read_artifact(site.dbt_target, "manifest.json")
    if manifest is None:
        return []
    models = [n for n in manifest.get("nodes", {}).values()
              if n.get("resource_type") == "model" and layer_of(n.get("fqn", [])) in LAYERS]
    return sorted(models, key=lambda n: (LAYERS.index(layer_of(n["fqn"])), n["name"]))


def _sources(origins: list[Any]) -> str:
    if not origins:
        return ""
    if len(origins) > MAX_SOURCES:
        return f"derived from {len(origins)} fields ({', '.join(o.raw for o in origins[:2])}, …)"
    return ", ".join(o.raw for o in origins)


def _dictionary_rows(reader: Reader, site: Any,
                     _values: Mapping[str, Value]) -> list[tuple[Any, ...]]:
    if "dictionary" not in reader.memo:
        reader.memo["dictionary"] = _all_rows(reader, site)
    return list(reader.memo["dictionary"])


def _all_rows(reader: Reader, site: Any) -> list[tuple[Any, ...]]:
    lineage = lineage_for(reader, site.dbt_target)
    rows = []
    for node in mart_models(site):
        schema = str(node.get("schema") or "marts")
        described = node.get("columns", {})
        for column, data_type in reader.columns(schema, str(node["name"])):
            origins = lineage.origins(node["name"], column) if lineage else {}
            rows.append((layer_of(node["fqn"]), node["name"], column, data_type.lower(),
                         (described.get(column) or {}).get("description") or "",
                         *(_sources(origins.get(system, [])) for system in SYSTEMS)))
    return rows


DICTIONARY_TABLE = Table(
    name="dictionary",
    title="Data dictionary",
    columns=(
        Column("layer", "Layer", hidden=True),
        Column("model", "Model", hidden=True),
        Column("column_name", "Field", "id"),
        Column("data_type", "Type"),
        Column("description", "Meaning", "prose"),
        Column("crm_source", "CRM field"),
        Column("erp_source", "ERP field"),
        Column("shop_source", "Shop field"),
        Column("hr_source", "HR field"),
    ),
    filters=(Text("model", 120, "model"),),
    artifact=_dictionary_rows,
)


def render(reader: Reader, site: Site, raw: Mapping[str, str]) -> Page:
    """The data-dictionary page."""
    values, notices = parse(raw, DICTIONARY_TABLE.fields)
    models = mart_models(site)
    names = {n["name"] for n in models}
    wanted = values.get("model")
    if wanted is not None and wanted not in names:
        notices.append(f"Ignored model '{wanted}': no mart of that name. Pick one below.")
        wanted = None
    sections = []
    for node in models:
        if wanted is not None and node["name"] != wanted:
            continue
        table: TableView = view(reader, DICTIONARY_TABLE, {"model": node["name"], "size": 200},
                                site.links, "dictionary", site=site, paged=False)
        sections.append({"name": node["name"], "layer": layer_of(node["fqn"]),
                         "description": node.get("description") or "",
                         "relation": f"{node.get('schema')}.{node['name']}", "table": table})
    if not models:
        notices.append(f"No dbt manifest in {site.dbt_target}: run `goldloop build` (or point "
                       "`--dbt-target` at dbt's target folder).")
    return Page(
        title="Data dictionary",
        lead="Every field of the golden records, the reconciliation reports and the sync feeds: "
             "its type, what it means, and the field it is derived from in each system "
             "(traced through the models' SQL down to the raw tables).",
        template="dictionary.html",
        notices=notices,
        context={"sections": sections, "models": models, "layer_titles": LAYER_TITLES,
                 "all_csv": site.links.csv(DICTIONARY_TABLE.name), "layer_of": layer_of},
    )


SPEC = PageSpec("dictionary", "Data dictionary", render, tables=(DICTIONARY_TABLE,))
