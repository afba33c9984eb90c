"""Schema drift: new tables, new columns and type changes, recorded and surfaced, never a crash.

Raw tables evolve with the source (dlt adds columns; a value of a new type lands in a *variant*
column such as ``phone__v_text``). After each load the pipeline's schema is compared with the one
before the run; every difference is written to ``raw_<system>._goldloop_schema_changes`` and
returned for the run summary. The first load of a dataset is the baseline and records nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import dlt

from pipelines.common.summary import SchemaChange

CHANGES_TABLE = "_goldloop_schema_changes"
VARIANT_MARK = "__v_"

Snapshot = dict[str, dict[str, str | None]]
"""table name → column name → dlt data type."""


def schema_snapshot(pipeline: dlt.Pipeline) -> Snapshot:
    """The data tables and column types of the pipeline's schema (empty before the first load)."""
    if not pipeline.default_schema_name:
        return {}
    schema = pipeline.default_schema
    return {
        name: {col: spec.get("data_type") for col, spec in table.get("columns", {}).items()}
        for name, table in schema.tables.items()
        if not name.startswith("_dlt") and name != CHANGES_TABLE and table.get("columns")
    }


def diff_schemas(before: Mapping[str, Mapping[str, str | None]],
                 after: Mapping[str, Mapping[str, str | None]], load_id: str,
                 detected_at: str) -> list[SchemaChange]:
    """The changes from ``before`` to ``after``; nothing when ``before`` is empty (baseline).

    >>> before = {"contacts": {"id": "text", "phone": "text"}}
    >>> after = {"contacts": {"id": "text", "phone": "text", "phone__v_bigint": "bigint",
    ...                       "id__value": "text", "note": "text"}, "deals": {"id": "text"}}
    >>> [(c.table_name, c.column_name, c.change, c.data_type)
    ...  for c in diff_schemas(before, after, "1", "t")]  # doctest: +NORMALIZE_WHITESPACE
    [('contacts', 'phone', 'type_changed', 'bigint'), ('contacts', 'id', 'type_changed', 'json'),
     ('contacts', 'note', 'new_column', 'text'), ('deals', None, 'new_table', None)]
    >>> diff_schemas({}, after, "1", "t")
    []
    """
    if not before:
        return []
    changes: list[SchemaChange] = []
    for table, columns in after.items():
        if table not in before:
            changes.append(SchemaChange(load_id, table, None, "new_table", None, detected_at))
            continue
        old = before[table]
        for column, data_type in columns.items():
            if column in old:
                if old[column] is not None and data_type is not None and old[column] != data_type:
                    changes.append(SchemaChange(load_id, table, column, "type_changed", data_type,
                                                detected_at))
            elif VARIANT_MARK in column and column.split(VARIANT_MARK)[0] in old:
                changes.append(SchemaChange(load_id, table, column.split(VARIANT_MARK)[0],
                                            "type_changed", data_type, detected_at))
            elif "__" in column and column.split("__")[0] in old:
                # a scalar that turned into an object: dlt flattens it to <column>__<key>
                changes.append(SchemaChange(load_id, table, column.split("__")[0],
                                            "type_changed", "json", detected_at))
            else:
                changes.append(SchemaChange(load_id, table, column, "new_column", data_type,
                                            detected_at))
    return changes


def record_schema_changes(pipeline: dlt.Pipeline, changes: list[SchemaChange]) -> None:
    """Append ``changes`` to ``raw_<system>._goldloop_schema_changes`` (created when missing)."""
    if not changes:
        return
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name(CHANGES_TABLE)
        client.execute_sql(
            f"CREATE TABLE IF NOT EXISTS {table} (load_id VARCHAR NOT NULL, "
            "table_name VARCHAR NOT NULL, column_name VARCHAR, change VARCHAR NOT NULL, "
            "data_type VARCHAR, detected_at TIMESTAMP WITH TIME ZONE NOT NULL)"
        )
        for c in changes:
            client.execute_sql(
                f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)",
                c.load_id, c.table_name, c.column_name, c.change, c.data_type, c.detected_at,
            )


def detect_schema_changes(pipeline: dlt.Pipeline, before: Snapshot,
                          load_id: str) -> list[SchemaChange]:
    """Compare the pipeline's schema with ``before``, record the changes, and return them."""
    now = datetime.now(UTC).isoformat()
    changes = diff_schemas(before, schema_snapshot(pipeline), load_id, now)
    record_schema_changes(pipeline, changes)
    return changes
