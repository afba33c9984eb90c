{#- A phone number in E.164 (+<country code><national number>), NULL when it is not one.
    `country` is the record's ISO country code, used to read national forms ("07700 900123").
    DuckDB: phonenumbers through the goldloop_phone_e164() function (udfs/goldloop_udfs.py).
    Other targets: a plain-SQL reading of the common forms (+.., 00.., national with trunk
    prefix) for the countries in calling_codes below. -#}
{% macro normalize_phone(phone, country) -%}
    {{ return(adapter.dispatch('normalize_phone', 'goldloop')(phone, country)) }}
{%- endmacro %}

{% macro duckdb__normalize_phone(phone, country) -%}
    goldloop_phone_e164({{ phone }}, {{ country }})
{%- endmacro %}

{% macro default__normalize_phone(phone, country) -%}
    {%- set calling_codes = {
        'US': ('1', '1'), 'CA': ('1', '1'), 'GB': ('44', '0'), 'AU': ('61', '0'),
        'IE': ('353', '0'), 'NZ': ('64', '0'), 'DE': ('49', '0'), 'FR': ('33', '0'),
        'NL': ('31', '0'), 'ES': ('34', ''), 'IT': ('39', ''), 'SE': ('46', '0')} -%}
    {%- set digits = "regexp_replace(replace(" ~ phone ~ ", '(0)', ''), '[^0-9]', '', 'g')" -%}
    case
        when {{ phone }} is null or {{ digits }} = '' then null
        when trim({{ phone }}) like '+%' then '+' || {{ digits }}
        when trim({{ phone }}) like '00%' then '+' || substr({{ digits }}, 3)
    {%- for code, (cc, trunk) in calling_codes.items() %}
        when coalesce({{ country }}, 'US') = '{{ code }}' then
        {%- if cc == '1' %}
            case
                when length({{ digits }}) = 10 then '+1' || {{ digits }}
                when length({{ digits }}) = 11 and {{ digits }} like '1%' then '+' || {{ digits }}
            end
        {%- elif trunk %}
            '+{{ cc }}' || case when {{ digits }} like '{{ trunk }}%'
                then substr({{ digits }}, {{ trunk | length + 1 }}) else {{ digits }} end
        {%- else %}
            '+{{ cc }}' || {{ digits }}
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}
