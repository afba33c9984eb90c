{#- Whether this is an incremental build of a table that already has `column` (a unit test has
    no `this` and builds no table: false, every fixture row counts). -#}
{% macro built_with_column(column) -%}
    {{ return(execute and this is not none and is_incremental() and column | lower in (
        adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)) }}
{%- endmacro %}

{#- Incremental facts (orders, invoices, payments, order_lines; orders_vs_invoices in
    reworked_orders.sql): a build reworks the rows of the dlt loads the model has not read
    yet. dlt stamps every row a load writes with the load's id, a re-load too (a merge's
    update, a parent's nested rows written again with it), so no change is missed whatever its
    timestamps say or whatever order loads finish in, and a row not loaded again is not read
    again. State beside the model: `<model>__loads`, the load ids
    its inputs held when its last build started. Use all three:
        config(pre_hook="{{ remember_loads_now([ref('stg_...'), ...]) }}",
               post_hook="{{ keep_loads_read() }}")
        ... where {{ loaded_since_read('alias.load_id') }}
    A failed build keeps nothing (its hooks run in its transaction), so the next build reads
    those loads again. A full refresh, a first build, or a table built before it kept the state:
    every row. Rows edited in the warehouse by hand (no new load id) are seen by a full build. -#}

{% macro loads_are_kept() -%}
    {{ return(state_is_kept(['loads'])) }}
{%- endmacro %}

{#- Pre-hook: the load ids `relations` (each with a `load_id` column) hold now. -#}
{% macro remember_loads_now(relations) -%}
    drop table if exists {{ state_table('loads_now') }};
    create table {{ state_table('loads_now') }} as
        {{- load_ids_now_sql(relations) }}
{%- endmacro %}

{#- In the model: the row's load (`column`) was not read by the last build; always true in a
    build that reads every row. A row without a load id is always read. -#}
{% macro loaded_since_read(column) -%}
    {%- if loads_are_kept() -%}
    ({{ column }} is null or {{ column }} not in (
        select read_loads.load_id from {{ state_table('loads') }} as read_loads))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the loads read, for the next build. -#}
{% macro keep_loads_read() -%}
    drop table if exists {{ state_table('loads') }};
    alter table {{ state_table('loads_now') }} rename to {{ state_table('loads').identifier }}
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

{#- SQL: prune the change log `log` (a relation of `key_column` and `time_column`): its rows
    older than `identity_change_log_days` go, leaving a row without a key at the horizon, so a
    reader that consumed less than that knows it missed rows and reads everything. -#}
{% macro prune_log(log, key_column, time_column) -%}
    {%- set horizon = dbt.dateadd('day', -1 * var('identity_change_log_days'),
                                  build_started_at()) -%}
    insert into {{ log }} ({{ time_column }}, {{ key_column }})
    select {{ horizon }}, cast(null as {{ dbt.type_string() }})
    where exists (select 1 from {{ log }} where {{ time_column }} < {{ horizon }});
    delete from {{ log }} where {{ time_column }} < {{ horizon }}
{%- endmacro %}
