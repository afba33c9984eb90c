{#- The first capture group of `pattern` in `column` (null when it does not match), in each
    warehouse's dialect: regexp_extract on DuckDB, substring(... from ...) elsewhere.
    regexp_group('name', '\(([^)]*)\)$') on 'Ann Lee (Acme Ltd)' -> 'Acme Ltd'. -#}
{% macro regexp_group(column, pattern) -%}
    {{ return(adapter.dispatch('regexp_group', 'goldloop')(column, pattern)) }}
{%- endmacro %}

{% macro default__regexp_group(column, pattern) -%}
    substring({{ column }} from '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_group(column, pattern) -%}
    nullif(regexp_extract({{ column }}, '{{ pattern }}', 1), '')
{%- endmacro %}
