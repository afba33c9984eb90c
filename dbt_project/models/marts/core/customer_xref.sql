{#- Which golden customer each source customer record belongs to; system, object and
    record_id in the form the systems serve them (shop records as <shop>/<id>).

    Incremental by customer (macros/changed_customers.sql). -#}
{{ config(pre_hook="{{ forget_changed_customers() }}",
    post_hook="{{ consume_customer_changes() }}") }}
with

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

records as (
    select * from {{ ref('int_customer_records') }}
),

final as (
    select
        clusters.customer_id,
        clusters.system,
        clusters.object,
        clusters.record_id,
        clusters.record_key,
        clusters.is_anchor_record,
        records.is_deleted,
        records.created_at,
        records.updated_at,
        {{ build_started_at() }} as built_at
    from clusters
    inner join records on clusters.record_key = records.record_key
    where {{ changed_customers_only('clusters.customer_id') }}
)

select * from final
