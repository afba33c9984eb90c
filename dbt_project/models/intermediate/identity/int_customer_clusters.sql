{#- Connected components of every match link (int_customer_match_edges) by label propagation
    (macros/connected_components.sql, `identity_max_hops` hops). The smallest label is the
    cluster's oldest record, whose key names the golden customer, so a customer keeps its id
    when unrelated records change. The test assert_customer_clusters_converged proves the hops
    were enough. Incremental (macros/connected_components.sql, incremental_components): a
    build clusters again only the records a changed link or label touches and the customers
    they were in, and replaces their rows; `--full-refresh` clusters everything. -#}
{{ config(materialized='incremental', unique_key='record_key',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns',
    pre_hook="{{ compare_component_state(ref('int_customer_records'),
        ref('int_customer_match_edges'),
        link_models=[ref('int_customer_key_edges'), ref('int_customer_pairs_decided')]) }}",
    post_hook="{{ keep_component_state(ref('int_customer_records'),
                                       ref('int_customer_match_edges')) }}") }}

with

records as (
    select * from {{ ref('int_customer_records') }}
),

edges as (
    select * from {{ ref('int_customer_match_edges') }}
),

{{ incremental_components('records', 'edges', var('identity_max_hops'), 'anchor_record_key') }},

final as (
    select
        {{ stable_id('cus_', 'components.anchor_record_key') }} as customer_id,
        records.record_key,
        records.system,
        records.object,
        records.record_id,
        components.anchor_record_key,
        records.record_key = components.anchor_record_key as is_anchor_record,
        -- when the build that (re)clustered the record started: its tests read the records
        -- clustered since they passed (macros/test_scope.sql)
        {{ build_started_at() }} as built_at
    from records
    inner join components on records.record_key = components.record_key
)

select * from final
