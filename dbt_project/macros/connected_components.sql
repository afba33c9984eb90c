{#- Connected components by label propagation, as CTEs ending in `components`
    (record_key, anchor_record_key). Records are numbered in `label_column` order (int_customer_
    records' anchor_label: oldest first), so the smallest number in a component names it after
    its first record. Each hop, every linked record takes the smallest number among itself and
    its neighbours, then the number its number holds (pointer jumping: a chain of n links
    settles in about log2(n) hops, not n); `hops` hops, unrolled (plain SQL on every
    warehouse). Records without links keep their own number without taking part.

    records: a relation or CTE with record_key and `label_column`;
    edges:   a relation or CTE with record_key and linked_record_key (either direction). -#}
{% macro connected_components(records, edges, hops, label_column='anchor_label') -%}
component_nodes as (
    select record_key, row_number() over (order by {{ label_column }}, record_key) as node
    from {{ records }}
),

component_links as (
    select record_nodes.node, linked_nodes.node as neighbour
    from {{ edges }} as links
    inner join component_nodes as record_nodes on links.record_key = record_nodes.record_key
    inner join component_nodes as linked_nodes
        on links.linked_record_key = linked_nodes.record_key
),

-- both directions of every link, plus each linked record to itself
component_neighbours as (
    select node, neighbour from component_links
    union
    select neighbour, node from component_links
    union
    select node, node from component_links
    union
    select neighbour, neighbour from component_links
),

component_labels_0 as (
    select distinct node, node as label from component_neighbours
),
{% for hop in range(1, hops + 1) %}
component_spread_{{ hop }} as (
    select component_neighbours.node, min(component_labels_{{ hop - 1 }}.label) as label
    from component_neighbours
    inner join component_labels_{{ hop - 1 }}
        on component_neighbours.neighbour = component_labels_{{ hop - 1 }}.node
    group by component_neighbours.node
),

component_labels_{{ hop }} as (
    select component_spread_{{ hop }}.node, least(component_spread_{{ hop }}.label,
        coalesce(jumped.label, component_spread_{{ hop }}.label)) as label
    from component_spread_{{ hop }}
    left join component_spread_{{ hop }} as jumped
        on component_spread_{{ hop }}.label = jumped.node
),
{% endfor %}
components as (
    select
        component_nodes.record_key,
        anchors.record_key as anchor_record_key
    from component_nodes
    left join component_labels_{{ hops }} as labels on component_nodes.node = labels.node
    inner join component_nodes as anchors
        on coalesce(labels.label, component_nodes.node) = anchors.node
)
{%- endmacro %}
