{#- An aggregate: the group's rows as a JSON array of objects, as text, in `order_by` order.
    `fields` is a list of (JSON key, SQL expression) pairs; decimals keep their scale. -#}
{% macro json_array_agg(fields, order_by) -%}
    {{ return(adapter.dispatch('json_array_agg', 'goldloop')(fields, order_by)) }}
{%- endmacro %}

{% macro duckdb__json_array_agg(fields, order_by) -%}
    cast(to_json(list({
        {%- for key, expression in fields %}'{{ key }}': {{ expression }}
        {{- ", " if not loop.last }}{% endfor -%}
    } order by {{ order_by }})) as varchar)
{%- endmacro %}

{% macro default__json_array_agg(fields, order_by) -%}
    cast(json_agg(json_build_object(
        {%- for key, expression in fields %}'{{ key }}', {{ expression }}
        {{- ", " if not loop.last }}{% endfor -%}
    ) order by {{ order_by }}) as text)
{%- endmacro %}
