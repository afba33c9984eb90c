{#- Data tests that read only the rows loaded since they last passed.

    A staging view reads a raw table through a projection, and the incremental tables built by
    dlt load (stg_crm__contacts, int_customer_records...) rewrite a row only for a new load of
    its record: either way a row's test result changes only when dlt writes the row again, and
    every write stamps the row with its load id. A model whose rows carry it declares how, in
    its meta:

        config: {meta: {test_scope: {load_id: load_id}}}
            the model's own column holding the row's dlt load id;
        config: {meta: {test_scope: {parent: stg_shop__orders, key: order_row_id}}}
            nested rows (order lines): a row is new when its parent row is (dlt writes a
            parent's nested rows again with it); `key` names the column both models share.

    Then, in a build that is not a full refresh, the model's row-level tests (`not_null`,
    `accepted_values`, `normalized_email`, `e164_phone`, `expression_is_true`) read only the
    rows of loads that were not committed when the test last passed, and `unique` reads every
    row that shares a key with one of those (a new row repeating an old key still fails).
    How it stays safe:
      - a test that fails keeps reading its rows from its last pass on: a failure is reported
        again by every build until the rows are fixed (a pass is recorded by the on-run-end
        hook `remember_passed_tests`, only for tests whose status is pass);
      - a pass counts only while the relation is the one the test passed on: a view with the
        same definition (a changed column, macro or source reads every row again), a table not
        created again since (a full refresh gives it a new object id); a test whose arguments
        change is a new test (its key hashes them), which has never passed;
      - a load still running when the build started is not counted as passed, so its rows are
        read again by the next build;
      - `--full-refresh`, or `--vars '{full_tests: true}'`, reads every row.
    Other tests (`relationships`: a parent row can go; tests over several rows) read every row.
    Not seen until a full build: a row edited in the warehouse by hand (not by a load), and a
    test macro whose body is edited (not its arguments).

    State, in the target schema: `goldloop_test_loads` (the dlt loads committed when a build
    started, per build) and `goldloop_test_passes` (per test, the build it last passed in and
    the fingerprint of the relation it read). -#}

{% macro test_state_relation(kind) -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
        identifier='goldloop_test_' ~ kind)) }}
{%- endmacro %}

{#- The relation of the model `name` (a test may read only the models it names). -#}
{% macro node_relation(name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {{ return(api.Relation.create(database=node.database, schema=node.schema,
            identifier=node.alias)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("test_scope names parent '" ~ name ~ "', which is no model:"
        ~ " give the name of the model the nested rows belong to") }}
{%- endmacro %}

{#- The scope of a test that can read part of its model (the row-level ones and `unique` of a
    model declaring `test_scope`), or none. -#}
{% macro test_scope_of(test) -%}
    {%- if not test.test_metadata or not test.attached_node -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set name = test.test_metadata.name -%}
    {%- if name not in ('not_null', 'accepted_values', 'normalized_email', 'e164_phone',
            'expression_is_true', 'unique') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get(test.attached_node) -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((node.config.meta or {}).get('test_scope')) }}
{%- endmacro %}

{#- A test's key: its id and its arguments. -#}
{% macro test_key(test) -%}
    {%- set arguments = tojson(test.test_metadata.kwargs, sort_keys=true) -%}
    {{ return(local_md5(test.unique_id ~ '|' ~ arguments)) }}
{%- endmacro %}

{#- SQL: what `relation` is now: a digest of a view's definition, a table's object id (a
    table created again, by a full refresh, gets a new one; an incremental build keeps it);
    null elsewhere (every row is read). -#}
{% macro relation_fingerprint(relation) -%}
    {{ return(adapter.dispatch('relation_fingerprint', 'goldloop')(relation)) }}
{%- endmacro %}

{% macro default__relation_fingerprint(relation) -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__relation_fingerprint(relation) -%}
    coalesce(
        (select md5(definition) from pg_views
         where schemaname = '{{ relation.schema }}' and viewname = '{{ relation.identifier }}'),
        (select cast(tables.oid as {{ dbt.type_string() }}) from pg_class as tables
         inner join pg_namespace as schemas on schemas.oid = tables.relnamespace
         where schemas.nspname = '{{ relation.schema }}'
            and tables.relname = '{{ relation.identifier }}' and tables.relkind = 'r'))
{%- endmacro %}

{% macro duckdb__relation_fingerprint(relation) -%}
    coalesce(
        (select md5(sql) from duckdb_views()
         where database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
            and view_name = '{{ relation.identifier }}'),
        (select cast(table_oid as {{ dbt.type_string() }}) from duckdb_tables()
         where database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
            and table_name = '{{ relation.identifier }}'))
{%- endmacro %}

{#- SQL: the row `alias`'s load (`load_id` column) is none the test `key` last passed over on
    `relation` as it is now. -#}
{% macro loaded_since_test_passed(alias, load_id, key, relation) -%}
    not exists (
        select 1
        from {{ test_state_relation('passes') }} as passes
        inner join {{ test_state_relation('loads') }} as loads
            on loads.run_id = passes.run_id
        where passes.test_key = '{{ key }}'
            and passes.relation_fingerprint = {{ relation_fingerprint(relation) }}
            and loads.load_id = {{ alias }}.{{ load_id }})
{%- endmacro %}

{#- The relation a generic test reads (dbt calls it for the tested model): the rows changed
    since the test last passed, as above, then the test's own `where` config. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = test_scope_of(model) if execute and not flags.FULL_REFRESH
        and not var('full_tests', false) else none -%}
    {%- if scope -%}
        {%- set key = test_key(model) -%}
        {%- if scope.get('parent') -%}
            {%- set parent = node_relation(scope['parent']) -%}
            {%- set predicate -%}
            scoped.{{ scope['key'] }} in (
                select parent.{{ scope['key'] }} from {{ parent }} as parent
                where {{ loaded_since_test_passed('parent', 'load_id', key, relation) }})
            {%- endset -%}
        {%- else -%}
            {%- set predicate = loaded_since_test_passed('scoped', scope['load_id'], key,
                relation) -%}
        {%- endif -%}
        {%- if model.test_metadata.name == 'unique' -%}
            {%- set column = model.test_metadata.kwargs['column_name'] -%}
            {%- set rows -%}
            (select * from {{ relation }} where {{ column }} in (
                select scoped.{{ column }} from {{ relation }} as scoped where {{ predicate }}))
            {%- endset -%}
        {%- else -%}
            {%- set rows -%}
            (select * from {{ relation }} as scoped where {{ predicate }})
            {%- endset -%}
        {%- endif -%}
        {%- if where -%}
            {{ return('(select * from ' ~ rows ~ ' as scoped_rows where ' ~ where
                ~ ') dbt_subquery') }}
        {%- endif -%}
        {{ return(rows ~ ' dbt_subquery') }}
    {%- endif -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- Run `statements` in a transaction of their own and commit (project hooks run on a
    connection dbt rolls back). -#}
{% macro run_and_commit(statements) -%}
    {%- call statement('goldloop_test_state', auto_begin=true) -%}
        {{ statements | join(';\n') }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#- on-run-start: the state tables, and the dlt loads committed now (every raw schema's
    `_dlt_loads`, status 0) under this build's invocation id. -#}
{% macro remember_committed_loads() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set loads = test_state_relation('loads') -%}
    {%- set passes = test_state_relation('passes') -%}
    {%- set selects = [] -%}
    {%- set seen = [] -%}
    {%- for source in graph.sources.values() if source.schema not in seen -%}
        {%- do seen.append(source.schema) -%}
        {%- set dlt_loads = adapter.get_relation(database=source.database, schema=source.schema,
            identifier='_dlt_loads') -%}
        {%- if dlt_loads is not none -%}
            {%- do selects.append('select load_id from ' ~ dlt_loads ~ ' where status = 0') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set statements = [
        'create table if not exists ' ~ loads ~ ' (run_id ' ~ dbt.type_string()
            ~ ', load_id ' ~ dbt.type_string() ~ ')',
        'create table if not exists ' ~ passes ~ ' (test_key ' ~ dbt.type_string()
            ~ ', run_id ' ~ dbt.type_string() ~ ', relation_fingerprint ' ~ dbt.type_string()
            ~ ', passed_at ' ~ dbt.type_timestamp() ~ ')'] -%}
    {%- if selects -%}
        {%- do statements.append('insert into ' ~ loads ~ " (run_id, load_id) select distinct '"
            ~ invocation_id ~ "', load_id from (" ~ selects | join(' union all ')
            ~ ') as committed') -%}
    {%- endif -%}
    {%- do run_and_commit(statements) -%}
{%- endmacro %}

{#- on-run-end: each scoped test that passed now passed over this build's loads, on its
    relation as it is now; the loads of builds no pass names go. -#}
{% macro remember_passed_tests(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set loads = test_state_relation('loads') -%}
    {%- set passes = test_state_relation('passes') -%}
    {%- if load_relation(loads) is none or load_relation(passes) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for result in results if result.node.resource_type == 'test'
            and result.status == 'pass' and test_scope_of(result.node) -%}
        {%- set tested = graph.nodes[result.node.attached_node] -%}
        {%- set relation = api.Relation.create(database=tested.database, schema=tested.schema,
            identifier=tested.alias) -%}
        {%- set key = test_key(result.node) -%}
        {%- do statements.append("delete from " ~ passes ~ " where test_key = '" ~ key ~ "'") -%}
        {%- do statements.append("insert into " ~ passes
            ~ " (test_key, run_id, relation_fingerprint, passed_at) select '" ~ key ~ "', '"
            ~ invocation_id ~ "', " ~ relation_fingerprint(relation) ~ ", "
            ~ dbt.current_timestamp()) -%}
    {%- endfor -%}
    {%- do statements.append("delete from " ~ loads ~ " where run_id not in (select run_id from "
        ~ passes ~ ")") -%}
    {%- do run_and_commit(statements) -%}
{%- endmacro %}
