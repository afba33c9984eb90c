{#- Connected components by label propagation, as CTEs ending in `components`
    (record_key, anchor_record_key): every record starts with its own label and takes the
    smallest label among its neighbours, `hops` times (unrolled; plain SQL on every warehouse).
    A label is `<sort key>|<record key>`, so the smallest label names the component after its
    first record in that order (int_customer_records' anchor_label: the oldest record).

    records: a relation or CTE with record_key and `label_column`;
    edges:   a relation or CTE with record_key and linked_record_key (either direction). -#}
{% macro connected_components(records, edges, hops, label_column='anchor_label') -%}
-- both directions of every link, plus each record to itself
component_neighbours as (
    select record_key, linked_record_key as neighbour_key from {{ edges }}
    union
    select linked_record_key, record_key from {{ edges }}
    union
    select record_key, record_key from {{ records }}
),

component_labels_0 as (
    select record_key, {{ label_column }} as label from {{ records }}
),
{% for hop in range(1, hops + 1) %}
component_labels_{{ hop }} as (
    select component_neighbours.record_key, min(component_labels_{{ hop - 1 }}.label) as label
    from component_neighbours
    inner join component_labels_{{ hop - 1 }}
        on component_neighbours.neighbour_key = component_labels_{{ hop - 1 }}.record_key
    group by component_neighbours.record_key
),
{% endfor %}
components as (
    select
        record_key,
        {{ dbt.split_part('label', "'|'", 2) }} as anchor_record_key
    from component_labels_{{ hops }}
)
{%- endmacro %}
