{#- A product code in the shop's SKU form: upper case, spaces and underscores as dashes
    (bea 1018, bea_1018 -> BEA-1018). -#}
{% macro normalize_product_code(column) -%}
    nullif(upper(regexp_replace(trim({{ column }}), '[ _]+', '-', 'g')), '')
{%- endmacro %}
