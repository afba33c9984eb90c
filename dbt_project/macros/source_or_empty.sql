{#- Raw tables evolve and start empty: dlt creates a table only once a record arrives and a
    column only once some record has a value for it (a young shop with no phone numbers has no
    `phone`; a ledger with no credit notes has no credit_notes table). Staging reads its source
    through `source_or_empty`, naming the columns it needs, so the project builds on any
    warehouse, even before the first extract:
      - table missing: an empty relation with those columns, typed;
      - column missing: the column as a typed NULL.
    `columns` is {name: SQL type}. At parse time (no warehouse) it renders a plain select. -#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = none -%}
    {#- a unit test's fixture stands in for the source: no schema, nothing to look up -#}
    {%- set is_fixture = not (relation.schema and relation.identifier) -%}
    {%- if execute and not is_fixture -%}
        {%- set found = adapter.get_relation(database=relation.database,
            schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if execute and not is_fixture and found is none -%}
    select
        {%- for name, data_type in columns.items() %}
        cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0
    {%- else -%}
    select *{{ missing_columns_as_null(relation, columns) }}
    from {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- `, cast(null as <type>) as <column>` for each of `columns` ({name: type}) that `relation`
    lacks, to append to a `select *`. A relation with no columns known (a unit test's fixture)
    gets nothing added. -#}
{% macro missing_columns_as_null(relation, columns) -%}
    {%- if execute -%}
        {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name')
            | map('lower') | list -%}
        {%- for name, data_type in columns.items() if present and name | lower not in present %}
        , cast(null as {{ data_type }}) as {{ name }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
