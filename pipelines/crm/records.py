"""HubSpot records as Arrow tables: system fields, every property as a column, the delete flag.

HubSpot sends ``{id, properties{...}, createdAt, updatedAt, archived, archivedAt?}`` with every
property value a string (or null). Tables keep the property names and string values unchanged
(staging casts them), lift the properties to columns and add ``_goldloop_deleted``. They are built
column by column as Arrow (dlt's fast path: no per-row normalisation), so a large account loads
at the speed of the API.

Drift stays visible: a property HubSpot starts sending becomes a new column, and a value that is not
a string lands in a *variant* column ``<name>__v_<type>`` (dlt's own naming for type changes), which
:mod:`pipelines.common.drift` records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.schema.typing import TTableSchemaColumns

from pipelines.common.deletes import DELETED_COLUMN, DELETED_COLUMNS
from pipelines.crm.objects import CrmObject

TIMESTAMP = pa.timestamp("us", tz="UTC")
SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "archived", "archived_at")
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal",
            "line_items": "line_item", "products": "product"}


def column_name(prop: str) -> str:
    """The column of a property (prefixed when it would hide a system column).

    >>> column_name("email"), column_name("id")
    ('email', 'property_id')
    """
    return f"property_{prop}" if prop in SYSTEM_COLUMNS or prop == DELETED_COLUMN else prop


def _variant_type(value: Any) -> str:
    """dlt's variant suffix for a non-string value.

    >>> _variant_type(3), _variant_type(2.5), _variant_type(True), _variant_type({"a": 1})
    ('bigint', 'double', 'bool', 'json')
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    return "json"


def _variant_value(value: Any, kind: str) -> Any:
    return json.dumps(value, ensure_ascii=False) if kind == "json" else value


def property_columns(name: str, values: list[Any]) -> dict[str, pa.Array]:
    """The column(s) of one property: a string column, plus variants for non-string values.

    >>> cols = property_columns("phone", ["1", {"v": "2"}, None])
    >>> {k: v.to_pylist() for k, v in cols.items()}
    {'phone': ['1', None, None], 'phone__v_json': [None, '{"v": "2"}', None]}
    """
    column = column_name(name)
    if all(v is None or type(v) is str for v in values):
        return {column: pa.array(values, pa.string())}
    plain = [v if type(v) is str else None for v in values]
    out = {column: pa.array(plain, pa.string())}
    kinds = {_variant_type(v) for v in values if v is not None and type(v) is not str}
    for kind in sorted(kinds):
        variant = [_variant_value(v, kind) if v is not None and type(v) is not str
                   and _variant_type(v) == kind else None for v in values]
        out[f"{column}__v_{kind}"] = pa.array(variant, pa.string() if kind == "json" else None)
    return out


def _property_table(props: list[dict[str, Any]], names: list[str]) -> dict[str, pa.Array]:
    """The property columns of a batch: one C-speed conversion per column when every value is a
    string (or null), with variant columns for a property whose values are not.

    >>> cols = _property_table([{"a": "x", "b": 1}, {"a": None}], ["a", "b"])
    >>> {k: v.to_pylist() for k, v in cols.items()}
    {'a': ['x', None], 'b': [None, None], 'b__v_bigint': [1, None]}
    """
    columns: dict[str, pa.Array] = {}
    for name in names:
        values = [p.get(name) for p in props]
        try:
            columns[column_name(name)] = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            columns.update(property_columns(name, values))
    return columns


def records_table(records: Sequence[dict[str, Any]], obj: CrmObject) -> pa.Table:
    """One batch of HubSpot records as an Arrow table (columns in a stable order).

    >>> from pipelines.crm.objects import PRODUCTS
    >>> t = records_table([{"id": "7", "properties": {"name": "Zoë's", "price": "9.5"},
    ...                     "createdAt": "2024-01-01T00:00:00.000Z",
    ...                     "updatedAt": "2024-01-02T00:00:00.000Z", "archived": False}],
    ...                   PRODUCTS)
    >>> t.column("name").to_pylist(), t.column("price").to_pylist()
    (["Zoë's"], ['9.5'])
    >>> t.column("updated_at")[0].as_py().isoformat()
    '2024-01-02T00:00:00+00:00'
    >>> t.column("_goldloop_deleted").to_pylist()
    [False]
    >>> records_table([{"id": "8", "properties": {"name": 5}, "archived": True}],
    ...               PRODUCTS).column("name__v_bigint").to_pylist()
    [5]
    """
    props = [r.get("properties") or {} for r in records]
    archived = pa.array([bool(r.get("archived")) for r in records], pa.bool_())
    columns: dict[str, pa.Array] = {
        "id": pa.array([str(r["id"]) for r in records], pa.string()),
        "created_at": pa.array([r.get("createdAt") for r in records], pa.string()).cast(TIMESTAMP),
        "updated_at": pa.array([r.get("updatedAt") for r in records], pa.string()).cast(TIMESTAMP),
        "archived": archived,
        "archived_at": pa.array([r.get("archivedAt") for r in records],
                                pa.string()).cast(TIMESTAMP),
    }
    names = list(obj.all_properties())
    extra: set[str] = set()
    for p in props:
        extra.update(p)
    names.extend(sorted(extra.difference(names)))
    columns.update(_property_table(props, names))
    columns[DELETED_COLUMN] = archived
    table = pa.table(columns)
    required = {"id", DELETED_COLUMN}  # as the column hints declare: never null
    return table.cast(pa.schema([f.with_nullable(f.name not in required) for f in table.schema]))


ASSOCIATION_SCHEMA = pa.schema([
    pa.field("from_type", pa.string(), nullable=False),
    pa.field("from_id", pa.string(), nullable=False),
    pa.field("to_type", pa.string(), nullable=False),
    pa.field("to_id", pa.string(), nullable=False),
    pa.field("type_id", pa.int64(), nullable=False),
    pa.field("type", pa.string()),
    pa.field("category", pa.string()),
    pa.field("label", pa.string()),
    pa.field("_goldloop_replaced", pa.bool_(), nullable=False),
])

ASSOCIATION_COLUMNS: TTableSchemaColumns = {
    "from_type": {"name": "from_type", "data_type": "text", "nullable": False,
                  "primary_key": True, "merge_key": True},
    "from_id": {"name": "from_id", "data_type": "text", "nullable": False,
                "primary_key": True, "merge_key": True},
    "to_type": {"name": "to_type", "data_type": "text", "nullable": False, "primary_key": True},
    "to_id": {"name": "to_id", "data_type": "text", "nullable": False, "primary_key": True},
    "type_id": {"name": "type_id", "data_type": "bigint", "nullable": False,
                "primary_key": True},
    "type": {"name": "type", "data_type": "text"},
    "category": {"name": "category", "data_type": "text"},
    "label": {"name": "label", "data_type": "text"},
    # a marker row per record: deletes the record's old links and is never stored itself
    "_goldloop_replaced": {"name": "_goldloop_replaced", "data_type": "bool", "nullable": False,
                           "hard_delete": True},
}


# One v4 batch-read result: ``{from: {id}, to: [{toObjectId, associationTypes: [...]}]}``;
# HubSpot documents ``toObjectId`` as a number, some accounts (and the sandbox) send strings.
_LINK_TYPE = pa.struct([("category", pa.string()), ("typeId", pa.int64()),
                        ("label", pa.string())])


def _result_type(to_id: pa.DataType) -> pa.DataType:
    return pa.struct([
        ("from", pa.struct([("id", pa.string())])),
        ("to", pa.list_(pa.struct([("toObjectId", to_id),
                                   ("associationTypes", pa.list_(_LINK_TYPE))]))),
    ])


_RESULT_TYPES = (_result_type(pa.int64()), _result_type(pa.string()))


def _canonical_result(result: dict[str, Any]) -> dict[str, Any]:
    """A v4 result with the types of :data:`_RESULT_TYPES` (numeric link ids) whatever
    types HubSpot sent.

    >>> _canonical_result({"from": {"id": 9}, "to": [{"toObjectId": "5"}]})
    {'from': {'id': '9'}, 'to': [{'toObjectId': 5, 'associationTypes': []}]}
    """
    return {
        "from": {"id": str((result.get("from") or {}).get("id"))},
        "to": [{"toObjectId": int(link["toObjectId"]),
                "associationTypes": [
                    {"category": kind.get("category"), "typeId": int(kind.get("typeId") or 0),
                     "label": kind.get("label")} for kind in link.get("associationTypes") or []]}
               for link in result.get("to") or []],
    }


def _results_array(results: list[dict[str, Any]]) -> pa.StructArray:
    """The batch-read results as one Arrow array (a C-speed conversion; Python only for
    results whose ids mix types)."""
    for kind in _RESULT_TYPES:
        try:
            return pa.array(results, kind)
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, ValueError):
            continue
    return pa.array([_canonical_result(r) for r in results], _RESULT_TYPES[0])


def _link_columns(from_type: str, to_type: str, results: list[dict[str, Any]]) -> list[pa.Array]:
    """One row per (link, association type) of one object pair, in ASSOCIATION_SCHEMA order
    (a link without types gets one row with type id 0)."""
    array = _results_array(results)
    links = pc.struct_field(array, "to")
    link_owner = pc.list_parent_indices(links)
    flat = pc.list_flatten(links)
    kinds = pc.struct_field(flat, "associationTypes")
    typed = pc.fill_null(pc.greater(pc.list_value_length(kinds), 0), False)
    kind_owner = pc.list_parent_indices(kinds)  # null or empty lists contribute no rows
    kind_rows = pc.list_flatten(kinds)
    untyped = pc.indices_nonzero(pc.invert(typed))
    link_rows = pa.chunked_array([kind_owner, untyped.cast(kind_owner.type)]).combine_chunks()
    no_kind = pa.nulls(len(untyped), _LINK_TYPE)
    kind_rows = pa.concat_arrays([kind_rows, no_kind])
    from_ids = pc.struct_field(pc.struct_field(array, "from"), "id")
    rows = len(link_rows)
    name = f"{SINGULAR.get(from_type, from_type)}_to_{SINGULAR.get(to_type, to_type)}"
    return [
        pa.array([from_type] * rows, pa.string()),
        from_ids.take(link_owner.take(link_rows)),
        pa.array([to_type] * rows, pa.string()),
        pc.struct_field(flat, "toObjectId").take(link_rows).cast(pa.string()),
        pc.fill_null(pc.struct_field(kind_rows, "typeId"), 0),
        pa.array([name] * rows, pa.string()),
        pc.struct_field(kind_rows, "category"),
        pc.struct_field(kind_rows, "label"),
        pa.array([False] * rows, pa.bool_()),
    ]


def associations_table(from_type: str, ids: Sequence[str],
                       links: dict[str, list[dict[str, Any]]], *,
                       markers: bool = True) -> pa.Table:
    """The current links of ``ids`` from v4 batch-read results per target type: one row per
    (link, association type), after one marker row per record (``markers``) which replaces
    its old links on merge. A first load (an empty table, appended) needs no markers.

    >>> t = associations_table("deals", ["9"], {"companies": [{"from": {"id": "9"}, "to": [
    ...     {"toObjectId": 5, "associationTypes": [
    ...         {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}]}]})
    >>> [(r["to_id"], r["type"], r["type_id"], r["_goldloop_replaced"]) for r in t.to_pylist()]
    [('', None, 0, True), ('5', 'deal_to_company', 341, False)]
    >>> t = associations_table("deals", ["9"], {"contacts": [{"from": {"id": 9}, "to": [
    ...     {"toObjectId": "7", "associationTypes": []}]}]}, markers=False)
    >>> [(r["from_id"], r["to_id"], r["type_id"], r["label"]) for r in t.to_pylist()]
    [('9', '7', 0, None)]
    """
    # built column by column in Arrow: a large account has a link row per contact
    parts: list[pa.Table] = []
    if markers:
        rows = len(ids)
        parts.append(pa.table([
            pa.array([from_type] * rows, pa.string()), pa.array(ids, pa.string()),
            pa.array([""] * rows, pa.string()), pa.array([""] * rows, pa.string()),
            pa.array([0] * rows, pa.int64()), pa.nulls(rows, pa.string()),
            pa.nulls(rows, pa.string()), pa.nulls(rows, pa.string()),
            pa.array([True] * rows, pa.bool_())], schema=ASSOCIATION_SCHEMA))
    for to_type, results in links.items():
        if results:
            parts.append(pa.table(_link_columns(from_type, to_type, results),
                                  schema=ASSOCIATION_SCHEMA))
    if not parts:
        return ASSOCIATION_SCHEMA.empty_table()
    return pa.concat_tables(parts).combine_chunks()


def column_hints(obj: CrmObject) -> TTableSchemaColumns:
    """Declared types of the system columns (properties arrive as Arrow strings).

    >>> from pipelines.crm.objects import PRODUCTS
    >>> sorted(column_hints(PRODUCTS))  # doctest: +NORMALIZE_WHITESPACE
    ['_goldloop_deleted', 'archived', 'archived_at', 'created_at', 'id', 'updated_at']
    """
    columns: TTableSchemaColumns = {
        "id": {"name": "id", "data_type": "text", "nullable": False},
        "created_at": {"name": "created_at", "data_type": "timestamp"},
        # one load may hold a record twice (changed while the run read it): the newest wins
        "updated_at": {"name": "updated_at", "data_type": "timestamp", "dedup_sort": "desc"},
        "archived": {"name": "archived", "data_type": "bool"},
        "archived_at": {"name": "archived_at", "data_type": "timestamp"},
    }
    columns.update(DELETED_COLUMNS)
    return columns


OWNER_COLUMNS: TTableSchemaColumns = {
    "id": {"name": "id", "data_type": "text", "nullable": False},
    "email": {"name": "email", "data_type": "text"},
    "first_name": {"name": "first_name", "data_type": "text"},
    "last_name": {"name": "last_name", "data_type": "text"},
    "user_id": {"name": "user_id", "data_type": "bigint"},
    "created_at": {"name": "created_at", "data_type": "timestamp"},
    "updated_at": {"name": "updated_at", "data_type": "timestamp"},
    "archived": {"name": "archived", "data_type": "bool"},
    **DELETED_COLUMNS,
}


def owner_row(owner: dict[str, Any]) -> dict[str, Any]:
    """One ``/crm/v3/owners`` entry as a raw row (teams stay nested: a child table).

    >>> owner_row({"id": "1", "email": "a@b.io", "archived": False, "userId": 3})["user_id"]
    3
    """
    row = {
        "id": str(owner["id"]), "email": owner.get("email"),
        "first_name": owner.get("firstName"), "last_name": owner.get("lastName"),
        "user_id": owner.get("userId"), "created_at": owner.get("createdAt"),
        "updated_at": owner.get("updatedAt"), "archived": bool(owner.get("archived")),
    }
    if owner.get("teams"):
        row["teams"] = owner["teams"]
    row[DELETED_COLUMN] = row["archived"]
    return row
