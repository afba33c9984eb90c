{#- ISO 3166-1 alpha-2 code from a typed country (code or English name); other text is kept
    upper-cased so it still compares equal to itself. -#}
{% macro country_code(column) -%}
    {%- set names = {
        'UNITED STATES': 'US', 'UNITED STATES OF AMERICA': 'US', 'USA': 'US',
        'UNITED KINGDOM': 'GB', 'UK': 'GB', 'GREAT BRITAIN': 'GB', 'ENGLAND': 'GB',
        'CANADA': 'CA', 'AUSTRALIA': 'AU', 'IRELAND': 'IE', 'NEW ZEALAND': 'NZ',
        'GERMANY': 'DE', 'FRANCE': 'FR', 'NETHERLANDS': 'NL', 'SPAIN': 'ES', 'ITALY': 'IT',
        'SWEDEN': 'SE', 'DENMARK': 'DK', 'NORWAY': 'NO', 'FINLAND': 'FI', 'BELGIUM': 'BE',
        'AUSTRIA': 'AT', 'SWITZERLAND': 'CH', 'PORTUGAL': 'PT', 'POLAND': 'PL', 'JAPAN': 'JP',
        'SINGAPORE': 'SG', 'INDIA': 'IN', 'BRAZIL': 'BR', 'MEXICO': 'MX',
        'SOUTH AFRICA': 'ZA'} -%}
    case upper(trim({{ column }}))
        when '' then null
    {%- for name, code in names.items() %}
        when '{{ name }}' then '{{ code }}'
    {%- endfor %}
        else upper(trim({{ column }}))
    end
{%- endmacro %}
