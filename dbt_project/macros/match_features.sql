{#- int_customer_match_features' post-hook: drop the rows of records gone or left without a
    name (delete+insert replaces only the records a build selects). -#}
{% macro forget_records_without_features() -%}
    delete from {{ this }}
    where record_key not in (
        select record_key from {{ ref('int_customer_records') }}
        where first_name_key is not null or last_name_key is not null)
{%- endmacro %}
