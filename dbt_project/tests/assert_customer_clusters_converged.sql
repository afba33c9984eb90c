{#- Label propagation ran enough hops: every link joins two records of the same customer, and
    every key link two records of the same rule cluster. If this fails, raise the
    `identity_max_hops` var (a chain of matches is longer than it). In Dagster: a check of
    dbt/int_customer_clusters.

    Reads the links of the records clustered since it last passed (macros/test_scope.sql):
    a build clusters again every record a new or gone link touches and every record of their
    old components (macros/connected_components.sql), so a link between two records neither
    clustered since was there, between the same customers, when the test last passed. -#}
{{ config(meta={'dagster': {'ref': {'name': 'int_customer_clusters'}},
                'test_scope': {'model': 'int_customer_clusters'}}) }}
{%- set pass = singular_test_pass() %}
{#- a pass without a build start (kept before passes had one): every link is read -#}
{%- set scoped = pass is not none and pass['started_at'] is not none %}

-- each read where it is used (not materialized once): a read filtered by the clustered
-- records is a fraction of a copy
with

edges as not materialized (
    select * from {{ ref('int_customer_match_edges') }}
),

key_edges as not materialized (
    select * from {{ ref('int_customer_key_edges') }}
),

clusters as not materialized (
    select * from {{ ref('int_customer_clusters') }}
),

rule_clusters as not materialized (
    select * from {{ ref('int_customer_rule_clusters') }}
),

{%- if scoped %}

-- the links with an end clustered since the last pass (each side a semi-join: the warehouse
-- filters the links before it joins the clusters)
scoped_edges as (
    {{ links_of_reclustered('edges', 'clusters', pass) }}
),

scoped_key_edges as (
    {{ links_of_reclustered('key_edges', 'rule_clusters', pass) }}
),
{%- else %}

scoped_edges as (
    select * from edges
),

scoped_key_edges as (
    select * from key_edges
),
{%- endif %}

customers_apart as (
    select scoped_edges.record_key, scoped_edges.linked_record_key, scoped_edges.match_rule
    from scoped_edges
    inner join clusters as record_cluster on scoped_edges.record_key = record_cluster.record_key
    inner join clusters as linked_cluster
        on scoped_edges.linked_record_key = linked_cluster.record_key
    where record_cluster.customer_id <> linked_cluster.customer_id
),

rule_clusters_apart as (
    select scoped_key_edges.record_key, scoped_key_edges.linked_record_key,
        scoped_key_edges.match_rule
    from scoped_key_edges
    inner join rule_clusters as record_cluster
        on scoped_key_edges.record_key = record_cluster.record_key
    inner join rule_clusters as linked_cluster
        on scoped_key_edges.linked_record_key = linked_cluster.record_key
    where record_cluster.rule_cluster_key <> linked_cluster.rule_cluster_key
)

select * from customers_apart
union all
select * from rule_clusters_apart

