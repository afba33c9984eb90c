{#- Label propagation ran enough hops: every link joins two records of the same customer, and
    every key link two records of the same rule cluster. If this fails, raise the
    `identity_max_hops` var (a chain of matches is longer than it). In Dagster: a check of
    dbt/int_customer_clusters. -#}
{{ config(meta={'dagster': {'ref': {'name': 'int_customer_clusters'}}}) }}

with

edges as (
    select * from {{ ref('int_customer_match_edges') }}
),

key_edges as (
    select * from {{ ref('int_customer_key_edges') }}
),

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

rule_clusters as (
    select * from {{ ref('int_customer_rule_clusters') }}
),

customers_apart as (
    select edges.record_key, edges.linked_record_key, edges.match_rule
    from edges
    inner join clusters as record_cluster on edges.record_key = record_cluster.record_key
    inner join clusters as linked_cluster on edges.linked_record_key = linked_cluster.record_key
    where record_cluster.customer_id <> linked_cluster.customer_id
),

rule_clusters_apart as (
    select key_edges.record_key, key_edges.linked_record_key, key_edges.match_rule
    from key_edges
    inner join rule_clusters as record_cluster
        on key_edges.record_key = record_cluster.record_key
    inner join rule_clusters as linked_cluster
        on key_edges.linked_record_key = linked_cluster.record_key
    where record_cluster.rule_cluster_key <> linked_cluster.rule_cluster_key
)

select * from customers_apart
union all
select * from rule_clusters_apart
