{#- Models with a row set per golden customer (customers, customer_xref, the contact syncs,
    customer_field_conflicts) are incremental by customer: a build reworks only the customers
    whose records changed since the model's last build, every other customer's rows stay.

    A customer changed when one of its records came, went, moved to another customer or was
    loaded again by dlt (a new load id: any field may have changed). int_customer_changes
    compares the members (record, customer, load id) with the last build's once per build and
    logs the changed customers with the build's start; each model keeps the latest log entry it
    consumed (`<model>__consumed`) and reworks the customers logged since, old ids and new. A
    log row without a customer (a full build of the log, or its pruning horizon) reworks every
    customer.

    Use all three (the materialization, `incremental` with strategy `append`, is set for these
    models in dbt_project.yml):
        config(pre_hook="{{ forget_changed_customers() }}",
               post_hook="{{ consume_customer_changes() }}")
        ... where {{ changed_customers_only('clusters.customer_id') }}

    `forget_changed_customers` (pre-hook) writes the changed ids to `<model>__changed` and
    deletes their rows; the model selects their rows again (`changed_customers_only`); the
    post-hook records what it consumed. A failed build consumes nothing, so the next build
    reworks its customers again. `--full-refresh`, a first build, or a missing `__consumed`:
    every customer (the rows of a table built before it kept one go).

    A model whose rows for one customer also depend on other customers (a sync feed that gives
    an e-mail two customers share to one of them) passes `entangled`: a macro giving
    (customer_id, value, reads_others) rows, every value a row could share with another
    customer's, of every customer or of those `only` (a query of customer ids) lists;
    `reads_others` says whether the customer's own row depends on who else holds the value
    (a new Xero contact's name does; an existing contact keeps its name, which others' rows
    read). A customer's values come from its own records, so a row changes only when a customer
    holding one of the values it reads changes: the customers reading a value a logged customer
    holds now, or held at the last build (the values are kept in `<model>__shared`), are
    reworked too. -#}

{#- The members of every golden customer: (record_key, customer_id, load_id). -#}
{% macro customer_members_sql() -%}
    select clusters.record_key, clusters.customer_id, records.load_id
    from {{ ref('int_customer_clusters') }} as clusters
    inner join {{ ref('int_customer_records') }} as records
        on clusters.record_key = records.record_key
{%- endmacro %}

{#- int_customer_changes' pre-hook: with the last build's members kept, the members that
    differ (`__member_changes`: side 'now' for a member as it is now, 'then' as it was), read
    by the model and applied to the kept members by the post-hook. Only the members whose
    clusters or records row was written since the last build that logged (`built_at`) are
    compared, unless either model was rebuilt whole since (rows_kept_since): a member's
    customer and load id are those rows', and neither model deletes a row between full
    refreshes. -#}
{% macro compare_change_log_members() -%}
    {%- if state_is_kept(['members']) %}
    {%- set clusters, records = ref('int_customer_clusters'), ref('int_customer_records') -%}
    {%- set since = '(select max(changed_at) from ' ~ this ~ ')' -%}
    {%- set touched_only = rows_kept_since(clusters, since)
        and rows_kept_since(records, since) %}
    drop table if exists {{ state_table('member_changes') }};
    {#- one full join: each side read and hashed once -#}
    create table {{ state_table('member_changes') }} as
    {%- if touched_only %}
    with
    touched as (
        select record_key from {{ clusters }} where built_at is null or built_at > {{ since }}
        union
        select record_key from {{ records }} where built_at is null or built_at > {{ since }}
    ),
    now as (
        select * from ({{ customer_members_sql() }}) as members
        where record_key in (select record_key from touched)
    ),
    kept as (
        select * from {{ state_table('members') }}
        where record_key in (select record_key from touched)
    )
    {%- endif %}
    select distinct
        case when now.record_key is null then 'then' else 'now' end as side,
        coalesce(now.record_key, kept.record_key) as record_key,
        case when now.record_key is null then kept.customer_id else now.customer_id end
            as customer_id,
        case when now.record_key is null then kept.load_id else now.load_id end as load_id
    {%- if touched_only %}
    from now
    full outer join kept
    {%- else %}
    from ({{ customer_members_sql() }}) as now
    full outer join {{ state_table('members') }} as kept
    {%- endif %}
        on now.record_key = kept.record_key and now.customer_id = kept.customer_id
            and coalesce(now.load_id, '') = coalesce(kept.load_id, '')
    where now.record_key is null or kept.record_key is null
    {%- else %}
    select 1
    {%- endif %}
{%- endmacro %}

{#- int_customer_changes' post-hook: keep the members it compared with (the changes applied
    in place; all of them after a full build), and prune the log rows older than
    `identity_change_log_days`, leaving a row without a customer at the horizon (a reader that
    consumed less than that reworks everyone). -#}
{% macro keep_change_log_members() -%}
    {%- if state_is_kept(['members']) %}
    delete from {{ state_table('members') }} as kept
    where exists (
        select 1 from {{ state_table('member_changes') }} as went
        where went.side = 'then' and went.record_key = kept.record_key
            and went.customer_id = kept.customer_id
            and went.load_id is not distinct from kept.load_id);
    insert into {{ state_table('members') }} (record_key, customer_id, load_id)
    select record_key, customer_id, load_id from {{ state_table('member_changes') }}
    where side = 'now';
    drop table {{ state_table('member_changes') }};
    {%- else %}
    drop table if exists {{ state_table('member_changes') }};
    drop table if exists {{ state_table('members') }};
    create table {{ state_table('members') }} as
    {{ customer_members_sql() }};
    {%- endif %}
    {{ prune_log(this, 'customer_id', 'changed_at') }}
{%- endmacro %}

{#- The change log's rows written since this model last consumed it (its `__consumed`). -#}
{% macro logged_since_consumed() -%}
    changed_at > (select consumed_at from {{ state_table('consumed') }})
{%- endmacro %}

{% macro customer_state_kinds(entangled) -%}
    {{ return(['consumed', 'shared'] if entangled else ['consumed']) }}
{%- endmacro %}

{% macro forget_changed_customers(key='customer_id', entangled=none) -%}
    {#- outside the branch: dbt records a hook's refs as dependencies when it parses -#}
    {%- set change_log = ref('int_customer_changes') -%}
    {%- set clusters = ref('int_customer_clusters') -%}
    {%- if state_is_kept(customer_state_kinds(entangled)) -%}
    {%- set logged = state_table('logged') if entangled else state_table('changed') %}
    drop table if exists {{ logged }};
    create table {{ logged }} as
    with
    logged as (
        select customer_id from {{ change_log }}
        where {{ logged_since_consumed() }}
    )
    select customer_id from logged
    union
    select customer_id from {{ clusters }}
    where exists (select 1 from logged where customer_id is null);
    {%- if entangled %}
    drop table if exists {{ state_table('values_now') }};
    create table {{ state_table('values_now') }} as
    {{ entangled(only='select customer_id from ' ~ logged) }};
    {#- and every customer reading a value a logged one holds now or held at the last build -#}
    drop table if exists {{ state_table('changed') }};
    create table {{ state_table('changed') }} as
    select customer_id from {{ logged }}
    union
    select kept.customer_id from {{ state_table('shared') }} as kept
    where kept.reads_others and kept.value in (
        select value from {{ state_table('values_now') }}
        union
        select value from {{ state_table('shared') }}
        where customer_id in (select customer_id from {{ logged }}));
    {%- endif %}
    delete from {{ this }}
    where {{ key }} in (select customer_id from {{ state_table('changed') }})
        or exists (select 1 from {{ state_table('changed') }} where customer_id is null)
    {%- elif execute and not flags.FULL_REFRESH and this is not none
        and load_relation(this) is not none -%}
    {#- built before it kept what it consumed: every customer is selected again -#}
    delete from {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{% macro changed_customers_only(column, entangled=false) -%}
    {%- if state_is_kept(customer_state_kinds(entangled)) -%}
    {{ column }} in (select changed.customer_id from {{ state_table('changed') }} as changed)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{% macro consume_customer_changes(entangled=none) -%}
    {%- if entangled %}
    {%- if state_is_kept(customer_state_kinds(entangled)) %}
    {#- the logged customers' values replace what was kept of them -#}
    delete from {{ state_table('shared') }}
    where customer_id in (select customer_id from {{ state_table('logged') }});
    insert into {{ state_table('shared') }}
    select customer_id, value, reads_others from {{ state_table('values_now') }};
    {%- else %}
    drop table if exists {{ state_table('shared') }};
    create table {{ state_table('shared') }} as
    {{ entangled() }};
    {%- endif %}
    drop table if exists {{ state_table('logged') }};
    drop table if exists {{ state_table('values_now') }};
    {%- endif %}
    {%- if ((model.config.meta or {}).get('test_scope') or {}).get('written') %}
    {{ log_written_customers(state_is_kept(customer_state_kinds(entangled))) }};
    {%- endif %}
    drop table if exists {{ state_table('consumed') }};
    create table {{ state_table('consumed') }} as
    select coalesce(max(changed_at), {{ build_started_at() }}) as consumed_at
    from {{ ref('int_customer_changes') }};
    drop table if exists {{ state_table('changed') }};
    {#- what the models kept before: members, record customers, entangled customers, values
        without who reads them -#}
    {%- for kind in ['members', 'customers', 'entangled', 'values'] %}
    drop table if exists {{ state_table(kind) }};
    {%- endfor %}
    select 1
{%- endmacro %}

{#- A model whose rows carry no build stamp (a sync feed: its columns are what the sync
    pushes) logs the customers each build wrote rows for, with the build's start
    (`<model>__written`), so its tests can read only those customers' rows
    (macros/test_scope.sql, `test_scope: {written: <the row's customer id>}`). A build that
    wrote every customer (a full or first build) logs a row without a customer. Pruned like the
    change log: rows older than `identity_change_log_days` go, leaving a row without a customer
    at the horizon. Called by `consume_customer_changes` for the models declaring that scope;
    `reworked_only` tells whether the build reworked only the customers in `__changed`. -#}
{% macro log_written_customers(reworked_only) -%}
    {%- set written = state_table('written') -%}
    create table if not exists {{ written }} (
        customer_id {{ dbt.type_string() }}, built_at {{ dbt.type_timestamp() }});
    {%- if reworked_only %}
    insert into {{ written }} (customer_id, built_at)
    select customer_id, {{ build_started_at() }} from {{ state_table('changed') }};
    {%- else %}
    insert into {{ written }} (customer_id, built_at)
    values (cast(null as {{ dbt.type_string() }}), {{ build_started_at() }});
    {%- endif %}
    {{ prune_log(written, 'customer_id', 'built_at') }}
{%- endmacro %}

{#- Facts billed to or bought by a customer record (orders, invoices) carry the record's golden
    customer. `records_with_new_customer(xref, system, record_column)` lists `system`'s records
    whose facts a build reworks: of the customers int_customer_changes logged since the model
    last consumed the log (a merge, a split, a record reloaded), those whose facts in the model
    (`record_column` naming the record) hold another customer than the record has now. A
    reloaded record that kept its customer leaves its facts alone. The post-hook
    `consume_customer_changes()` records what the model consumed. Without that (a first build,
    a table built before it kept it), or after a log row for every customer: every record
    whose facts hold another customer. -#}
{% macro records_with_new_customer(xref, system, record_column) -%}
    {%- set change_log = ref('int_customer_changes') -%}
    select xref.record_id from {{ xref }} as xref
    where xref.system = '{{ system }}'
    {%- if state_is_kept(['consumed']) %}
        and (xref.customer_id in (select customer_id from {{ change_log }}
                                  where {{ logged_since_consumed() }})
            or exists (select 1 from {{ change_log }}
                       where customer_id is null and {{ logged_since_consumed() }}))
        and exists (
            select 1 from {{ this }} as built
            where built.{{ record_column }} = xref.record_id
                and built.customer_id is distinct from xref.customer_id)
    {%- endif %}
{%- endmacro %}
