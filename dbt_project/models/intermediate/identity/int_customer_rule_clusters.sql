{#- The customers the deterministic rules alone make: connected components of the key links
    (int_customer_key_edges), one row per record. Probabilistic matching decides on these
    clusters (int_customer_pairs_decided): which systems a cluster already holds, and whether
    a record is alone. Only what changed is clustered again, as int_customer_clusters. -#}
{{ config(materialized='incremental', unique_key='record_key',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns',
    pre_hook="{{ compare_component_state(ref('int_customer_records'),
        ref('int_customer_key_edges'), link_models=[ref('int_customer_key_edges')]) }}",
    post_hook="{{ keep_component_state(ref('int_customer_records'),
                                       ref('int_customer_key_edges')) }}") }}

with

records as (
    select * from {{ ref('int_customer_records') }}
),

key_edges as (
    select * from {{ ref('int_customer_key_edges') }}
),

{{ incremental_components('records', 'key_edges', var('identity_max_hops'), 'rule_cluster_key') }},

final as (
    select
        components.record_key,
        components.anchor_record_key as rule_cluster_key,
        -- where the record lives: a system, or one shop (a person has one account per shop)
        case when records.system = 'shop'
            then 'shop:' || {{ dbt.split_part('records.record_id', "'/'", 1) }}
            else records.system end as source_key,
        records.email_key is null and records.phone_key is null
            and records.street_key is null and records.postcode_key is null as is_name_only,
        count(*) over (partition by components.anchor_record_key) as rule_cluster_size,
        -- when the build that (re)clustered the record started: int_customer_pairs_decided
        -- decides again the pairs of the clusters clustered since it last read them
        {{ build_started_at() }} as built_at
    from components
    inner join records on components.record_key = records.record_key
)

select * from final
