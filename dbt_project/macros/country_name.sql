{#- The English name of an ISO 3166-1 alpha-2 code, as HubSpot and Xero show countries (the
    inverse of country_code for the countries it knows); other codes are kept as they are. -#}
{% macro country_name(column) -%}
    {%- set names = {
        'US': 'United States', 'GB': 'United Kingdom', 'CA': 'Canada', 'AU': 'Australia',
        'IE': 'Ireland', 'NZ': 'New Zealand', 'DE': 'Germany', 'FR': 'France',
        'NL': 'Netherlands', 'ES': 'Spain', 'IT': 'Italy', 'SE': 'Sweden', 'DK': 'Denmark',
        'NO': 'Norway', 'FI': 'Finland', 'BE': 'Belgium', 'AT': 'Austria',
        'CH': 'Switzerland', 'PT': 'Portugal', 'PL': 'Poland', 'JP': 'Japan',
        'SG': 'Singapore', 'IN': 'India', 'BR': 'Brazil', 'MX': 'Mexico',
        'ZA': 'South Africa'} -%}
    case {{ column }}
    {%- for code, name in names.items() %}
        when '{{ code }}' then '{{ name }}'
    {%- endfor %}
        else {{ column }}
    end
{%- endmacro %}
