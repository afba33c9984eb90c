{#- The key of one source record across systems: <system>:<object>:<record_id>
    (e.g. crm:contacts:1001, shop:customers:northwind/6000000000001). -#}
{% macro record_key(system, object, record_id) -%}
    {{ system }} || ':' || {{ object }} || ':' || {{ record_id }}
{%- endmacro %}

{#- A short, stable id derived from a record key (the first 16 hex digits of its md5). -#}
{% macro stable_id(prefix, key) -%}
    '{{ prefix }}' || substr({{ dbt.hash(key) }}, 1, 16)
{%- endmacro %}
