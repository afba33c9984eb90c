{#- Whether this is an incremental build of a table that already has `column` (a unit test has
    no `this` and builds no table: false, every fixture row counts). -#}
{% macro built_with_column(column) -%}
    {{ return(execute and this is not none and is_incremental() and column | lower in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) }}
{%- endmacro %}

{#- Incremental models: which source rows a build reprocesses.

    `changed_since_last_build(column)`: in an incremental build, rows whose `column` (a UTC
    timestamp) is at or after the latest value the model already holds (`target_column`, by
    default the same name), less the lookback window `incremental_lookback_hours`: a change
    that arrives late (loaded after the last build but stamped a little before its latest row)
    is still picked up. Rows without a timestamp are always reprocessed. In a full build (first
    run, `--full-refresh`), or when the table built earlier has no such column yet (it predates
    the cursor; `on_schema_change: append_new_columns` adds it), every row: `true`. -#}
{% macro changed_since_last_build(column, target_column=none) -%}
    {%- set cursor = target_column or column -%}
    {%- if built_with_column(cursor) -%}
    ({{ column }} is null or {{ column }} >= (
        select coalesce(
            {{ dbt.dateadd('hour', -1 * var('incremental_lookback_hours'),
                'max(already_built.' ~ cursor ~ ')') }},
            cast('1900-01-01 00:00:00' as timestamp))
        from {{ this }} as already_built))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- `drop_python_temp_tables()`, a post-hook of incremental Python models on DuckDB: dbt-duckdb
    writes the new rows of such a model to a real table `<model>__dbt_tmp<timestamp>` in the
    default schema and never drops it (a SQL model's is a temporary table). The hook drops
    every such table the model left. Elsewhere: nothing. -#}
{% macro drop_python_temp_tables() -%}
    {{ return(adapter.dispatch('drop_python_temp_tables', 'goldloop')()) }}
{%- endmacro %}

{% macro default__drop_python_temp_tables() -%}
    select 1
{%- endmacro %}

{% macro duckdb__drop_python_temp_tables() -%}
    {%- set statements = [] -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_catalog, table_schema, table_name from information_schema.tables"
            ~ " where table_name like '" ~ this.identifier ~ "\\_\\_dbt\\_tmp%' escape '\\'"
            ~ " and table_type = 'BASE TABLE'") -%}
        {%- for row in leftovers.rows -%}
            {%- do statements.append('drop table if exists "' ~ row[0] ~ '"."' ~ row[1] ~ '"."'
                ~ row[2] ~ '"') -%}
        {%- endfor -%}
    {%- endif -%}
    {{ statements | join(';\n') if statements else 'select 1' }}
{%- endmacro %}

{#- `loaded_since_last_build(column, target_column)`: in an incremental build, the rows of a raw
    table loaded by a dlt load the model has not processed yet: their load id (`column`,
    `_dlt_load_id` by default) is none of the load ids the model holds (`target_column`,
    `load_id` by default). dlt stamps every row a load writes, a re-load too (a delete sweep's
    flagged row, a merge's update), so no change is missed, whatever order loads finish in.
    In a full build, or on a table without the column yet: every row, `true`. -#}
{% macro loaded_since_last_build(column='_dlt_load_id', target_column='load_id') -%}
    {%- if built_with_column(target_column) -%}
    ({{ column }} is null or {{ column }} not in (
        select distinct already_built.{{ target_column }}
        from {{ this }} as already_built
        where already_built.{{ target_column }} is not null))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- `state_table(kind)`: a table an incremental model keeps beside itself (`<model>__<kind>`),
    holding what it was last built from (links, labels, members). -#}
{% macro state_table(kind) -%}
    {{ return(this.incorporate(path={'identifier': this.identifier ~ '__' ~ kind})) }}
{%- endmacro %}

{#- Whether this build can rework only what changed since the last one: not a full refresh,
    and the model and each of its state tables `kinds` from the last build are all there. -#}
{% macro state_is_kept(kinds) -%}
    {%- if not execute or flags.FULL_REFRESH or this is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if load_relation(this) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for kind in kinds -%}
        {%- if load_relation(state_table(kind)) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- A model that keeps the dlt loads it has read in a state table: the SQL of the load ids of
    `relations` now (what the next build counts as read), and the predicate of a row of a load
    not among `loads` (read since). -#}
{% macro load_ids_now_sql(relations) -%}
    {%- for relation in relations %}
        select load_id from {{ relation }}{{ "\n        union" if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro loaded_since_kept(loads) -%}
    load_id not in (select load_id from {{ loads }})
{%- endmacro %}
