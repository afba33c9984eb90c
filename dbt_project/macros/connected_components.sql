{#- Connected components by label propagation, as CTEs ending in `components`
    (record_key, anchor_record_key). Records are numbered in `label_column` order (int_customer_
    records' anchor_label: oldest first), so the smallest number in a component names it after
    its first record. Each hop, every linked record takes the smallest number among itself and
    its neighbours, then the number its number holds (pointer jumping: a chain of n links
    settles in about log2(n) hops, not n); `hops` hops, unrolled (plain SQL on every
    warehouse). Records without links keep their own number without taking part.

    records: a relation or CTE with record_key and `label_column`;
    edges:   a relation or CTE with record_key and linked_record_key (either direction);
    name:    the last CTE's name. -#}
{% macro connected_components(records, edges, hops, label_column='anchor_label',
                               name='components') -%}
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
{{ name }} as (
    select
        component_nodes.record_key,
        anchors.record_key as anchor_record_key
    from component_nodes
    left join component_labels_{{ hops }} as labels on component_nodes.node = labels.node
    inner join component_nodes as anchors
        on coalesce(labels.label, component_nodes.node) = anchors.node
)
{%- endmacro %}

{#- Whether this build can rework only what changed: not a full refresh, and the model, its
    links and its labels from the last build are all there. -#}
{% macro components_are_incremental() -%}
    {{ return(state_is_kept(['links', 'labels'])) }}
{%- endmacro %}

{#- What a model clustering with incremental_components keeps (`<model>__<kind>`): per kind,
    its value column and the query of what this build clusters. -#}
{% macro component_state(records, edges, label_column='anchor_label') -%}
    {{ return([
        ('links', 'linked_record_key',
         'select record_key, linked_record_key from ' ~ edges),
        ('labels', 'label',
         'select record_key, ' ~ label_column ~ ' as label from ' ~ records)]) }}
{%- endmacro %}

{#- A pre-hook of a model clustering with incremental_components: the links and the labels that
    came or went since the last build, compared with the kept ones once (`__changed_links`,
    `__changed_labels`, each row flagged is_new or gone). The model reworks what they touch;
    the post-hook applies them to the kept state. One full join per kind, not two `except`s:
    each side is read and hashed once. Only part of each is compared where it can be:
      - links: `link_models`, the models whose links `edges` reads, log the records whose
        links they touched (macros/touched_log.sql); while their logs cover what came since
        this model last kept its links, only those records' links;
      - labels: the records written since (`built_at`), while the records were not all
        rewritten since (rows_kept_since). -#}
{% macro compare_component_state(records, edges, label_column='anchor_label', link_models=[]) -%}
    {%- if components_are_incremental() -%}
    {%- set consumed = state_table('consumed') -%}
    {%- set logs = touched_logs_covering(link_models, consumed) if link_models else none -%}
    {%- set records_in_place = load_relation(consumed) is not none
        and rows_kept_since(records, '(select consumed_at from ' ~ consumed ~ ')') -%}
    {%- for kind, value, now in component_state(records, edges, label_column) %}
    {%- set touched_only = (logs is not none) if kind == 'links' else records_in_place %}
    drop table if exists {{ state_table('changed_' ~ kind) }};
    create table {{ state_table('changed_' ~ kind) }} as
    {%- if touched_only %}
    with
    touched as (
        {%- if kind == 'links' %}
        {{ touched_since_sql(logs, consumed) }}
        {%- else %}
        select record_key from {{ records }}
        where built_at is null or built_at > (select consumed_at from {{ consumed }})
        {%- endif %}
    ),
    now as (
        select * from ({{ now }}) as now where record_key in (select record_key from touched)
        {%- if kind == 'links' %}
        union
        select * from ({{ now }}) as now
        where linked_record_key in (select record_key from touched)
        {%- endif %}
    ),
    kept as (
        select * from {{ state_table(kind) }} where record_key in (select record_key from touched)
        {%- if kind == 'links' %}
        union
        select * from {{ state_table(kind) }}
        where linked_record_key in (select record_key from touched)
        {%- endif %}
    )
    {%- endif %}
    select distinct
        coalesce(now.record_key, kept.record_key) as record_key,
        case when now.record_key is null then kept.{{ value }} else now.{{ value }} end
            as {{ value }},
        now.record_key is not null as is_new
    {%- if touched_only %}
    from now
    full outer join kept
    {%- else %}
    from ({{ now }}) as now
    full outer join {{ state_table(kind) }} as kept
    {%- endif %}
        on now.record_key = kept.record_key
            and now.{{ value }} = kept.{{ value }}
    where now.record_key is null or kept.record_key is null;
    {%- endfor %}
    {%- endif %}
    select 1
{%- endmacro %}

{#- Whether the rows of `relation` (a model whose incremental builds replace rows and never
    delete one, each stamped `built_at`) not stamped after `since` (a SQL timestamp) were all
    there, as they are, at `since`: some row is that old (a full refresh rewrites every row).
    Run time only. -#}
{% macro rows_kept_since(relation, since) -%}
    {%- set older = run_query("select count(*) from (select 1 from " ~ relation
        ~ " where built_at <= " ~ since ~ " limit 1) as older") -%}
    {{ return(older.columns[0].values()[0] == 1) }}
{%- endmacro %}

{#- A post-hook: keep the links and labels this build clustered (see incremental_components):
    the changes compare_component_state found applied to the kept ones, or (a full build) all
    of them copied; and when (`__consumed`), for the next build's reading of the link logs. -#}
{% macro keep_component_state(records, edges, label_column='anchor_label') -%}
    {%- if components_are_incremental() -%}
    {%- for kind, value, _ in component_state(records, edges, label_column) %}
    delete from {{ state_table(kind) }} as kept
    where exists (
        select 1 from {{ state_table('changed_' ~ kind) }} as changed
        where not changed.is_new and changed.record_key = kept.record_key
            and changed.{{ value }} = kept.{{ value }});
    insert into {{ state_table(kind) }} (record_key, {{ value }})
    select record_key, {{ value }} from {{ state_table('changed_' ~ kind) }} where is_new;
    drop table {{ state_table('changed_' ~ kind) }};
    {%- endfor %}
    {%- else -%}
    {%- for kind, _, now in component_state(records, edges, label_column) %}
    drop table if exists {{ state_table(kind) }};
    create table {{ state_table(kind) }} as {{ now }};
    {%- endfor %}
    {%- endif %}
    drop table if exists {{ state_table('consumed') }};
    create table {{ state_table('consumed') }} as select {{ build_started_at() }} as consumed_at;
    select 1
{%- endmacro %}

{#- `components` (record_key, anchor_record_key) for every record of `records`, like
    connected_components, reworking only what changed since the last build when it can
    (components_are_incremental): the records touched by a link that came or went, or whose
    label came, went or changed, and every record of the components they were in, are
    clustered again; every other record keeps its anchor from the model's previous rows
    (`anchor_column`). That set is closed: a link from it to a record outside it either is new
    (its other end was touched) or was there last time (its two ends shared a component). The
    same components as a full build.

    In a model materialized incremental (unique_key record_key, delete+insert), `components`
    holds only the reworked records: the build replaces their rows and keeps every other.
    The model's hooks: compare_component_state (pre) and keep_component_state (post), on the
    same `records` and `edges`. -#}
{% macro incremental_components(records, edges, hops, anchor_column,
                                label_column='anchor_label') -%}
{%- if not components_are_incremental() -%}
{{ connected_components(records, edges, hops, label_column) }}
{%- else -%}
previous_components as (
    select record_key, {{ anchor_column }} as anchor_record_key from {{ this }}
),

-- the links and labels that came or went (compare_component_state, the model's pre-hook)
changed_links as (
    select record_key, linked_record_key from {{ state_table('changed_links') }}
),

changed_labels as (
    select record_key, label from {{ state_table('changed_labels') }}
),

touched as (
    select record_key from changed_links
    union
    select linked_record_key from changed_links
    union
    select record_key from changed_labels
),

rework as (
    select record_key from touched
    union
    select previous_components.record_key
    from previous_components
    inner join previous_components as touched_components
        on previous_components.anchor_record_key = touched_components.anchor_record_key
    inner join touched on touched_components.record_key = touched.record_key
),

rework_records as (
    select * from {{ records }}
    where record_key in (select record_key from rework)
),

rework_edges as (
    select * from {{ edges }}
    where record_key in (select record_key from rework)
        and linked_record_key in (select record_key from rework)
),

{{ connected_components('rework_records', 'rework_edges', hops, label_column,
    'reworked_components') }},

components as (
    select record_key, anchor_record_key from reworked_components
    {%- if config.get('materialized') != 'incremental' %}
    union all
    select previous_components.record_key, previous_components.anchor_record_key
    from previous_components
    where previous_components.record_key not in (select record_key from rework)
        and previous_components.record_key in (select record_key from {{ records }})
    {%- endif %}
)
{%- endif -%}
{%- endmacro %}

{#- SQL: the links of `links` (record_key, linked_record_key, match_rule) with an end that
    `clusters` (a model incremental by incremental_components, stamping `built_at`) clustered
    since the test `pass` (singular_test_pass, macros/test_scope.sql): what a convergence test
    reads, since every link with neither end clustered since was there, between the same
    components, when it last passed. -#}
{% macro links_of_reclustered(links, clusters, pass) %}
    select record_key, linked_record_key, match_rule from {{ links }}
    where record_key in (
        select record_key from {{ clusters }}
        where {{ written_since_test_passed(clusters, {'built_at': 'built_at'}, pass) }})
    union
    select record_key, linked_record_key, match_rule from {{ links }}
    where linked_record_key in (
        select record_key from {{ clusters }}
        where {{ written_since_test_passed(clusters, {'built_at': 'built_at'}, pass) }})
{%- endmacro %}
