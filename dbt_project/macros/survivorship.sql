{#- Survivorship: which source record gives a golden field its value.

    A rule (from the `customer_survivorship` var in dbt_project.yml) orders one customer's
    candidate records; the first one wins, for every column of the group at once so linked
    attributes (the lines of one address) always come from the same record. Live records always
    beat soft-deleted ones; the record key breaks the last ties so a build is deterministic.

      source_priority   systems in `sources` order, then the most recently updated
      most_recent       the most recently updated, then `sources` order
      most_complete     the most non-null columns of the group, then `sources` order, then recent
      most_restrictive  false before true (consent: an opt-out anywhere wins), then most recent -#}
{% macro survivorship_order(spec, system_column='system', updated_column='updated_at',
                             deleted_column='is_deleted', key_column='record_key') -%}
    {%- set rule = spec.get('rule', 'source_priority') -%}
    {%- set sources = spec.get('sources', var('system_priority')) -%}
    {%- set columns = spec['columns'] -%}
    {%- set priority -%}
        case {{ system_column }}
        {%- for system in sources %} when '{{ system }}' then {{ loop.index }}{% endfor %}
        else {{ sources | length + 1 }} end
    {%- endset -%}
    {%- set recent = updated_column ~ ' desc nulls last' -%}
    {%- if rule == 'source_priority' -%}
        {%- set steps = [priority, recent] -%}
    {%- elif rule == 'most_recent' -%}
        {%- set steps = [recent, priority] -%}
    {%- elif rule == 'most_complete' -%}
        {%- set filled = [] -%}
        {%- for column in columns -%}
            {%- do filled.append('case when ' ~ column ~ ' is null then 0 else 1 end') -%}
        {%- endfor -%}
        {%- set steps = ['(' ~ filled | join(' + ') ~ ') desc', priority, recent] -%}
    {%- elif rule == 'most_restrictive' -%}
        {%- set steps = ['case when ' ~ columns[0] ~ ' then 1 else 0 end', recent, priority] -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "unknown survivorship rule '" ~ rule ~ "' (use source_priority, most_recent, "
            ~ "most_complete or most_restrictive) in var customer_survivorship") }}
    {%- endif -%}
    case when {{ deleted_column }} then 1 else 0 end, {{ steps | join(', ') }}, {{ key_column }}
{%- endmacro %}

{#- The CTEs that pick one winner per group: `survivor_<group>` with partition key,
    the group's columns, <column>__source and <column>__updated_at. -#}
{% macro survivor_ctes(records, partition_key, survivorship) -%}
{%- for group, spec in survivorship.items() %}
ranked_{{ group }} as (
    select
        {{ partition_key }},
        {%- for column in spec['columns'] %}
        {{ column }},
        system as {{ column }}__source,
        updated_at as {{ column }}__updated_at,
        {%- endfor %}
        row_number() over (
            partition by {{ partition_key }}
            order by {{ survivorship_order(spec) }}
        ) as survivor_rank
    from {{ records }}
    where {{ spec['columns'][0] }} is not null
),

survivor_{{ group }} as (
    select * from ranked_{{ group }} where survivor_rank = 1
),
{% endfor -%}
{%- endmacro %}
