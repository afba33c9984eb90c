{#- Data tests that read only the rows written since they last passed.

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
        config: {meta: {test_scope: {built_at: built_at}}}
            a mart incremental by key or customer, which writes a row again whenever what it
            is built from changes: the column holding when the build that wrote the row
            started (`build_started_at()`); a row is new when built after the start of the
            build the test last passed in.
        config: {meta: {test_scope: {written: sync_key}}}
            a mart incremental by customer whose rows carry no build stamp (a sync feed: its
            columns are exactly what the sync pushes): the row's golden customer id (a column
            or an expression of the row's columns); a row is new when a build after the one the
            test last passed in wrote its customer's rows (`<model>__written`, logged by
            `consume_customer_changes`, macros/changed_customers.sql).

    Then, in a build that is not a full refresh, the model's row-level tests (`not_null`,
    `accepted_values`, `normalized_email`, `e164_phone`, `expression_is_true`) read only the
    new rows (of loads not committed when the test last passed; built since), and `unique` and
    `unique_combination` every row that shares a key with one of those (a new row repeating an
    old key still fails; a row with a null among a combination's columns is always read).
    How it stays safe:
      - a test that fails keeps reading its rows from its last pass on: a failure is reported
        again by every build until the rows are fixed (a pass is recorded by the on-run-end
        hook `remember_passed_tests`, only for tests whose status is pass);
      - a pass counts only while the relation is the one the test passed on: a view with the
        same definition (a changed column, macro or source reads every row again), a table not
        created whole since (a full refresh, a first build: `remember_table_generation`); a
        test whose arguments change is a new test (its key hashes them), never passed;
      - a load still running when the build started is not counted as passed, so its rows are
        read again by the next build;
      - `--full-refresh`, or `--vars '{full_tests: true}'`, reads every row.
    A singular test over a model declaring `built_at` may read part of it too: it declares
    the model in its own meta, `config(meta={'test_scope': {'model': <model>}})`, and filters
    its rows itself with `written_since_test_passed(<alias>, {'built_at': 'built_at'},
    singular_test_pass())` (tests/assert_customer_clusters_converged.sql); a pass counts
    while that model's relation is the one it passed on, and the test's key hashes its code.
    Other tests (`relationships`: a parent row can go; tests over several rows) read every row.
    Not seen until a full build: a row edited in the warehouse by hand (not by a load or a
    build), and a test macro whose body is edited (not its arguments).

    State, in the target schema: `goldloop_test_loads` (the dlt loads committed when a build
    started, per build), `goldloop_test_passes` (per test, the build it last passed in, when
    that build started and the fingerprint of the relation it read) and
    `goldloop_test_generations` (per table, the build that last created it whole). -#}

{% macro test_state_relation(kind) -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
        identifier='goldloop_test_' ~ kind)) }}
{%- endmacro %}

{#- The model named `name` in the test_scope `field` (a test may read only the models it
    names). -#}
{% macro scope_model_node(name, field) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {{ return(node) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("test_scope names " ~ field ~ " '" ~ name ~ "', which is"
        ~ " no model: give the name of the model " ~ ("the nested rows belong to"
            if field == 'parent' else "the test reads")) }}
{%- endmacro %}

{% macro node_relation(name, field='parent') -%}
    {%- set node = scope_model_node(name, field) -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema,
        identifier=node.alias)) }}
{%- endmacro %}

{#- The scope of a test that can read part of its model (the row-level ones, `unique` and
    `unique_combination` of a model declaring `test_scope`; a singular test declaring the
    model it scopes), or none. -#}
{% macro test_scope_of(test) -%}
    {%- if not test.test_metadata -%}
        {%- set scope = (test.config.meta or {}).get('test_scope') -%}
        {{ return(scope if scope and scope.get('model') else none) }}
    {%- endif -%}
    {%- if not test.attached_node -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set name = test.test_metadata.name -%}
    {%- if name not in ('not_null', 'accepted_values', 'normalized_email', 'e164_phone',
            'expression_is_true', 'unique', 'unique_combination') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get(test.attached_node) -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((node.config.meta or {}).get('test_scope')) }}
{%- endmacro %}

{#- A test's key: its id and its arguments (a singular test: its code). -#}
{% macro test_key(test) -%}
    {%- if not test.test_metadata -%}
        {{ return(local_md5(test.unique_id ~ '|' ~ test.checksum.checksum)) }}
    {%- endif -%}
    {%- set arguments = tojson(test.test_metadata.kwargs, sort_keys=true) -%}
    {{ return(local_md5(test.unique_id ~ '|' ~ arguments)) }}
{%- endmacro %}

{#- The model node a scoped test reads part of: a generic test's model, or the model a
    singular test names in its `test_scope`. -#}
{% macro scoped_test_model(test) -%}
    {%- if test.test_metadata -%}
        {{ return(graph.nodes[test.attached_node]) }}
    {%- endif -%}
    {{ return(scope_model_node(test_scope_of(test)['model'], 'model')) }}
{%- endmacro %}

{#- In a singular test declaring `test_scope: {model: <model>}`: its last pass on that model's
    relation as it is now (for written_since_test_passed), or none: every row is read (a full
    refresh, `full_tests`, never passed). -#}
{% macro singular_test_pass() -%}
    {%- set scope = test_scope_of(model) if execute and not flags.FULL_REFRESH
        and not var('full_tests', false) else none -%}
    {%- if not scope -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(last_test_pass(test_key(model), node_relation(scope['model'], 'model'))) }}
{%- endmacro %}

{#- SQL: what `relation` is now: a digest of a view's definition; for a table, the build that
    last created it whole (`goldloop_test_generations`, written by the pre-hook
    `remember_table_generation`: a full refresh or a first build starts a new generation, an
    incremental build keeps it); null otherwise (every row is read). -#}
{% macro relation_fingerprint(relation) -%}
    coalesce({{ view_definition_digest(relation) }},
        (select generations.run_id from {{ test_state_relation('generations') }} as generations
         where generations.relation_name = '{{ relation.schema }}.{{ relation.identifier }}'))
{%- endmacro %}

{#- SQL: a digest of the view `relation`'s definition, null when it is not a view. -#}
{% macro view_definition_digest(relation) -%}
    {{ return(adapter.dispatch('view_definition_digest', 'goldloop')(relation)) }}
{%- endmacro %}

{% macro default__view_definition_digest(relation) -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__view_definition_digest(relation) -%}
    (select md5(definition) from pg_views
     where schemaname = '{{ relation.schema }}' and viewname = '{{ relation.identifier }}')
{%- endmacro %}

{% macro duckdb__view_definition_digest(relation) -%}
    (select md5(sql) from duckdb_views()
     where database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
        and view_name = '{{ relation.identifier }}')
{%- endmacro %}

{#- Pre-hook of every model (dbt_project.yml): a table of a model declaring `test_scope` that
    this build creates whole starts a new generation, so its tests read every row again
    (nothing for the other models: an empty hook is not run). -#}
{% macro remember_table_generation() -%}
    {%- if execute and (model.config.meta or {}).get('test_scope')
            and model.config.materialized in ('table', 'incremental') and not is_incremental()
            and load_relation(test_state_relation('generations')) is not none -%}
    {%- set generations = test_state_relation('generations') -%}
    {%- set name = this.schema ~ '.' ~ this.identifier -%}
    delete from {{ generations }} where relation_name = '{{ name }}';
    insert into {{ generations }} (relation_name, run_id)
        values ('{{ name }}', '{{ invocation_id }}')
    {%- endif -%}
{%- endmacro %}

{#- The last pass of the test `key` on `relation` as it is now: (the load ids it had passed
    over, when the build it passed in started), or none. Read when the test runs, so the
    test's filter is a list of constants the warehouse applies as it scans. -#}
{% macro last_test_pass(key, relation) -%}
    {%- if load_relation(test_state_relation('passes')) is none
            or load_relation(test_state_relation('loads')) is none
            or load_relation(test_state_relation('generations')) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query("select passes.run_started_at, loads.load_id from "
        ~ test_state_relation('passes') ~ " as passes left join "
        ~ test_state_relation('loads') ~ " as loads on loads.run_id = passes.run_id"
        ~ " where passes.test_key = '" ~ key ~ "' and passes.relation_fingerprint = "
        ~ relation_fingerprint(relation)) -%}
    {%- if found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set load_ids = found.rows | map(attribute=1) | reject('none') | list -%}
    {{ return({'load_ids': load_ids, 'started_at': found.rows[0][0]}) }}
{%- endmacro %}

{#- SQL: the row `alias` was written since the test last passed (`pass`, from
    last_test_pass): by a load it had not passed over (`load_id` column), or by a build that
    started after the build it passed in (`built_at` column). Rows without a stamp are new. -#}
{% macro written_since_test_passed(alias, scope, pass, relation=none) -%}
    {%- if pass is none -%}
    true
    {%- elif scope.get('written') -%}
    {%- set written = relation.incorporate(path={'identifier': relation.identifier ~ '__written'}) -%}
    {%- if pass['started_at'] is none or load_relation(written) is none -%}
    true
    {%- else -%}
    {%- set since = "cast('" ~ pass['started_at'] ~ "' as " ~ dbt.type_timestamp() ~ ")" -%}
    ({{ scope['written'] }} in (
        select written.customer_id from {{ written }} as written
        where written.built_at > {{ since }})
     or exists (
        select 1 from {{ written }} as written
        where written.customer_id is null and written.built_at > {{ since }}))
    {%- endif -%}
    {%- elif scope.get('built_at') and pass['started_at'] is none -%}
    true
    {%- elif scope.get('built_at') -%}
    ({{ alias }}.{{ scope['built_at'] }} is null
        or {{ alias }}.{{ scope['built_at'] }} > cast('{{ pass['started_at'] }}' as
            {{ dbt.type_timestamp() }}))
    {%- elif pass['load_ids'] -%}
    ({{ alias }}.{{ scope['load_id'] }} is null or {{ alias }}.{{ scope['load_id'] }} not in (
        '{{ pass['load_ids'] | join("', '") }}'))
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#- The relation a generic test reads (dbt calls it for the tested model): the rows changed
    since the test last passed, as above, then the test's own `where` config. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = test_scope_of(model) if execute and not flags.FULL_REFRESH
        and not var('full_tests', false) else none -%}
    {%- if scope -%}
        {%- set pass = last_test_pass(test_key(model), relation) -%}
        {%- if scope.get('parent') -%}
            {%- set predicate -%}
            scoped.{{ scope['key'] }} in (
                select parent.{{ scope['key'] }} from {{ node_relation(scope['parent']) }}
                    as parent
                where {{ written_since_test_passed('parent', {'load_id': 'load_id'}, pass) }})
            {%- endset -%}
        {%- else -%}
            {%- set predicate = written_since_test_passed('scoped', scope, pass, relation) -%}
        {%- endif -%}
        {%- if model.test_metadata.name == 'unique' -%}
            {%- set column = model.test_metadata.kwargs['column_name'] -%}
            {%- set rows -%}
            (select * from {{ relation }} where {{ column }} in (
                select {{ column }} from {{ relation }} as scoped where {{ predicate }}))
            {%- endset -%}
        {%- elif model.test_metadata.name == 'unique_combination' -%}
            {#- a row with a null among the columns is read whatever it shares (a null equals
                nothing, so it would be missed by the match on the new rows' values) -#}
            {%- set columns = model.test_metadata.kwargs['columns'] -%}
            {%- set scoped_columns = [] -%}
            {%- for column in columns -%}
                {%- do scoped_columns.append('scoped.' ~ column) -%}
            {%- endfor -%}
            {%- set rows -%}
            (select * from {{ relation }} where ({{ columns | join(', ') }}) in (
                select {{ scoped_columns | join(', ') }}
                from {{ relation }} as scoped where {{ predicate }})
                or {{ columns | join(' is null or ') }} is null)
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
            ~ ', passed_at ' ~ dbt.type_timestamp() ~ ')',
        'alter table ' ~ passes ~ ' add column if not exists run_started_at '
            ~ dbt.type_timestamp(),
        'create table if not exists ' ~ test_state_relation('generations')
            ~ ' (relation_name ' ~ dbt.type_string() ~ ', run_id ' ~ dbt.type_string() ~ ')'] -%}
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
    {%- set generations = test_state_relation('generations') -%}
    {%- if load_relation(loads) is none or load_relation(passes) is none
            or load_relation(generations) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- set relations = {} -%}
    {%- for result in results if result.node.resource_type == 'test'
            and result.status == 'pass' and test_scope_of(result.node) -%}
        {%- set tested = scoped_test_model(result.node) -%}
        {%- set name = tested.schema ~ '.' ~ tested.alias -%}
        {%- do relations.update({name: tested}) -%}
        {%- do passed.append("('" ~ test_key(result.node) ~ "', '" ~ name ~ "')") -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- if passed -%}
        {%- set tables = [] -%}
        {%- set fingerprints = [] -%}
        {%- for name, tested in relations.items() -%}
            {%- if tested.config.materialized != 'view' -%}
                {%- do tables.append("('" ~ name ~ "')") -%}
            {%- endif -%}
            {%- set relation = api.Relation.create(database=tested.database,
                schema=tested.schema, identifier=tested.alias) -%}
            {%- do fingerprints.append("select '" ~ name ~ "' as relation_name, "
                ~ relation_fingerprint(relation) ~ " as relation_fingerprint") -%}
        {%- endfor -%}
        {%- if tables -%}
            {#- a table built before generations were kept: its tests read it whole -#}
            {%- do statements.append("insert into " ~ generations ~ " (relation_name, run_id)"
                ~ " select tables.relation_name, '" ~ invocation_id ~ "' from (values "
                ~ tables | join(', ') ~ ") as tables (relation_name) where not exists ("
                ~ "select 1 from " ~ generations ~ " as kept"
                ~ " where kept.relation_name = tables.relation_name)") -%}
        {%- endif -%}
        {%- set rows = "(values " ~ passed | join(', ')
            ~ ") as passed (test_key, relation_name)" -%}
        {%- do statements.append("delete from " ~ passes ~ " where test_key in ("
            ~ "select test_key from " ~ rows ~ ")") -%}
        {%- do statements.append("insert into " ~ passes
            ~ " (test_key, run_id, relation_fingerprint, passed_at, run_started_at)"
            ~ " select passed.test_key, '" ~ invocation_id ~ "', "
            ~ "fingerprints.relation_fingerprint, " ~ dbt.current_timestamp() ~ ", "
            ~ build_started_at() ~ " from " ~ rows
            ~ " inner join (" ~ fingerprints | join(' union all ') ~ ") as fingerprints"
            ~ " on fingerprints.relation_name = passed.relation_name") -%}
    {%- endif -%}
    {%- do statements.append("delete from " ~ loads ~ " where run_id not in (select run_id from "
        ~ passes ~ ")") -%}
    {%- do run_and_commit(statements) -%}
{%- endmacro %}
