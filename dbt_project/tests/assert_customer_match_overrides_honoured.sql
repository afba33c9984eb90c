{#- A steward's decisions hold after the build: every force_match pair is one customer, every
    force_split pair two. A force_split can fail when other records still join the two (a
    third record shares a key with both): then split those records too. In Dagster: a check of
    dbt/int_customer_clusters. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_customer_clusters'}}}) }}

select
    decided.record_key_a,
    decided.record_key_b,
    decided.decision
from {{ ref('int_customer_pairs_decided') }} as decided
inner join {{ ref('int_customer_clusters') }} as cluster_a
    on decided.record_key_a = cluster_a.record_key
inner join {{ ref('int_customer_clusters') }} as cluster_b
    on decided.record_key_b = cluster_b.record_key
where (decided.decision = 'force_match' and cluster_a.customer_id <> cluster_b.customer_id)
    or (decided.decision = 'force_split' and cluster_a.customer_id = cluster_b.customer_id)
