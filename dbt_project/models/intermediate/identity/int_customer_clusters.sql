{#- Connected components of the match graph by label propagation: every record starts with its
    own anchor label and takes the smallest label among its neighbours, `identity_max_hops`
    times (unrolled; plain SQL on every warehouse). The smallest label is the cluster's oldest
    record, whose key names the golden customer, so a customer keeps its id when unrelated
    records change. The test int_customer_clusters_converged proves the hops were enough. -#}
{{ config(materialized='table') }}

with

records as (
    select * from {{ ref('int_customer_records') }}
),

edges as (
    select * from {{ ref('int_customer_match_edges') }}
),

-- both directions of every link, plus each record to itself
neighbours as (
    select record_key, linked_record_key as neighbour_key from edges
    union
    select linked_record_key, record_key from edges
    union
    select record_key, record_key from records
),

labels_0 as (
    select record_key, anchor_label as label from records
),
{% for hop in range(1, var('identity_max_hops') + 1) %}
labels_{{ hop }} as (
    select neighbours.record_key, min(labels_{{ hop - 1 }}.label) as label
    from neighbours
    inner join labels_{{ hop - 1 }} on neighbours.neighbour_key = labels_{{ hop - 1 }}.record_key
    group by neighbours.record_key
),
{% endfor %}
clustered as (
    select
        record_key,
        {{ dbt.split_part('label', "'|'", 2) }} as anchor_record_key
    from labels_{{ var('identity_max_hops') }}
),

final as (
    select
        {{ stable_id('cus_', 'clustered.anchor_record_key') }} as customer_id,
        records.record_key,
        records.system,
        records.object,
        records.record_id,
        clustered.anchor_record_key,
        records.record_key = clustered.anchor_record_key as is_anchor_record
    from records
    inner join clustered on records.record_key = clustered.record_key
)

select * from final
