{#- The data steward's queue: pairs of customer records that probabilistic matching scored
    from identity_review_threshold up without merging them (int_customer_pairs_decided) and
    that are still two golden customers, with both records' values side by side. A decision
    goes into seeds/customer_match_overrides.csv (force_match or force_split); the next build
    honours it and the pair leaves this queue. -#}
{%- set fields = ['system', 'record_id', 'email', 'first_name', 'last_name', 'phone',
                  'address_line1', 'postcode', 'city', 'country_code', 'updated_at'] -%}
with

decided_pairs as (
    select * from {{ ref('int_customer_pairs_decided') }}
    where decision = 'review'
),

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

records as (
    select * from {{ ref('int_customer_records') }}
),

final as (
    select
        decided_pairs.record_key_a || '~' || decided_pairs.record_key_b as review_id,
        decided_pairs.record_key_a,
        decided_pairs.record_key_b,
        cluster_a.customer_id as customer_id_a,
        cluster_b.customer_id as customer_id_b,
        {%- for field in fields %}
        record_a.{{ field }} as {{ field }}_a,
        record_b.{{ field }} as {{ field }}_b,
        {%- endfor %}
        decided_pairs.match_weight,
        decided_pairs.match_probability
    from decided_pairs
    inner join clusters as cluster_a on decided_pairs.record_key_a = cluster_a.record_key
    inner join clusters as cluster_b on decided_pairs.record_key_b = cluster_b.record_key
    inner join records as record_a on decided_pairs.record_key_a = record_a.record_key
    inner join records as record_b on decided_pairs.record_key_b = record_b.record_key
    where cluster_a.customer_id <> cluster_b.customer_id
)

select * from final
