{#- Connected components of every match link (int_customer_match_edges) by label propagation
    (macros/connected_components.sql, `identity_max_hops` hops). The smallest label is the
    cluster's oldest record, whose key names the golden customer, so a customer keeps its id
    when unrelated records change. The test assert_customer_clusters_converged proves the hops
    were enough. -#}
{{ config(materialized='table') }}

with

records as (
    select * from {{ ref('int_customer_records') }}
),

edges as (
    select * from {{ ref('int_customer_match_edges') }}
),

{{ connected_components('records', 'edges', var('identity_max_hops')) }},

final as (
    select
        {{ stable_id('cus_', 'components.anchor_record_key') }} as customer_id,
        records.record_key,
        records.system,
        records.object,
        records.record_id,
        components.anchor_record_key,
        records.record_key = components.anchor_record_key as is_anchor_record
    from records
    inner join components on records.record_key = components.record_key
)

select * from final
