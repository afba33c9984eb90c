{#- Layers land in plainly named schemas (staging, intermediate, marts, seeds) rather than dbt's
    default <target schema>_<custom schema>, so readers and the reverse-ETL syncs can name
    `marts.customers` on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
