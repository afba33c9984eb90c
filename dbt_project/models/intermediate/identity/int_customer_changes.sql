{#- The change log of golden customers: one row per customer per build in which one of its
    records came, went, moved to another customer or was loaded again by dlt (a new load id:
    any field may have changed), `changed_at` the build's start. A row without a customer
    (`customer_id` null) stands for every customer: written by a first or full build, and at
    the horizon when rows older than `identity_change_log_days` are pruned.

    The models built by customer (macros/changed_customers.sql) read it: each reworks the
    customers logged since the last entry it consumed. So the members (record_key,
    customer_id, load_id) are compared with the last build's (`<this>__members`) once per
    build, not once per model: the pre-hook writes the difference (`<this>__member_changes`),
    the post-hook applies it to the kept members. Append-only; `--full-refresh` starts the
    log over. -#}
{{ config(materialized='incremental', incremental_strategy='append',
    pre_hook="{{ compare_change_log_members() }}",
    post_hook="{{ keep_change_log_members() }}") }}
-- depends_on: {{ ref('int_customer_clusters') }}, {{ ref('int_customer_records') }}

with

{%- if state_is_kept(['members']) %}

changes as (
    select record_key, customer_id, load_id from {{ state_table('member_changes') }}
),

changed_customers as (
    select distinct customer_id from changes
),

{%- else %}

changed_customers as (
    select cast(null as {{ dbt.type_string() }}) as customer_id
),

{%- endif %}

final as (
    select
        {{ build_started_at() }} as changed_at,
        customer_id
    from changed_customers
)

select * from final
