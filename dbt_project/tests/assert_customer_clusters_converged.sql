{#- Label propagation ran enough hops: every link joins two records of the same customer.
    If this fails, raise the `identity_max_hops` var (a chain of matches is longer than it). -#}
select
    edges.record_key,
    edges.linked_record_key,
    edges.match_rule
from {{ ref('int_customer_match_edges') }} as edges
inner join {{ ref('int_customer_clusters') }} as record_cluster
    on edges.record_key = record_cluster.record_key
inner join {{ ref('int_customer_clusters') }} as linked_cluster
    on edges.linked_record_key = linked_cluster.record_key
where record_cluster.customer_id <> linked_cluster.customer_id
