{#- The records whose links a build may have changed, logged by the models that make links
    (int_customer_key_edges relinks key groups, int_customer_pairs_decided decides pairs again)
    for the models that cluster them (macros/connected_components.sql), so that a clustering
    compares only those records' links with the ones it kept, not every link.

    `<model>__touched` (record_key, logged_at): a row per record whose links the build of
    `logged_at` deleted or wrote again (of a key link, its record_key side: a clustering
    compares the links with either end among the logged records, macros/connected_
    components.sql), and one row with a null record_key, the log's start:
    the log lists every such record since then. A build that rewrites every link restarts the
    log (a full refresh, no key change log to go by); rows older than
    `identity_change_log_days` go, and a row without a record at the horizon is the new start
    (prune_log). A clustering that consumed the links at or after the start of each log it
    reads takes the records logged since; otherwise (the first build, a restarted log, a
    clustering left unbuilt for longer than the logs keep) it compares every link. -#}

{% macro touched_log(relation) -%}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__touched'})) }}
{%- endmacro %}

{#- SQL statements: log the records of `records_sql` (a query of one column, the record key)
    as touched by this build, when this model's log exists (restart_touched_log makes it);
    nothing otherwise. -#}
{% macro log_touched(records_sql) -%}
    {%- set log = load_relation(touched_log(this)) if execute else none -%}
    {%- if log is not none %}
    insert into {{ log }} (record_key, logged_at)
    select distinct record_key, {{ build_started_at() }} from ({{ records_sql }}) as touched
        (record_key)
    where record_key is not null;
    {%- endif %}
{%- endmacro %}

{#- SQL: an empty log of this model's links, starting with this build (the links were all
    written again, or there was no log to add to). -#}
{% macro restart_touched_log() -%}
    drop table if exists {{ touched_log(this) }};
    create table {{ touched_log(this) }} as
    select cast(null as {{ dbt.type_string() }}) as record_key,
        {{ build_started_at() }} as logged_at
{%- endmacro %}

{#- The log of each model in `link_models` when every one exists and starts at or before
    `consumed` (a relation holding consumed_at: when a clustering last kept its links), else
    none. Run time only (reads the warehouse). -#}
{% macro touched_logs_covering(link_models, consumed) -%}
    {%- if load_relation(consumed) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set logs = [] -%}
    {%- for model in link_models -%}
        {%- set log = load_relation(touched_log(model)) -%}
        {%- if log is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do logs.append(log) -%}
    {%- endfor -%}
    {%- set checks -%}
        select count(*) from {{ consumed }} as consumed
        where {% for log in logs -%}
            (select min(logged_at) from {{ log }}) <= consumed.consumed_at
            {%- if not loop.last %} and {% endif %}
        {%- endfor %}
    {%- endset -%}
    {{ return(logs if run_query(checks).columns[0].values()[0] == 1 else none) }}
{%- endmacro %}

{#- SQL: the records the `logs` list as touched by builds after `consumed`'s consumed_at (the
    build that consumed them read what that build logged: the link models ran before it). -#}
{% macro touched_since_sql(logs, consumed) -%}
    {%- for log in logs %}
    select record_key from {{ log }}
    where record_key is not null
        and logged_at > (select consumed_at from {{ consumed }})
    {%- if not loop.last %}
    union{% endif %}
    {%- endfor %}
{%- endmacro %}
