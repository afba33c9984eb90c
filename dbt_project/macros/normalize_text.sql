{#- Comparable forms of typed text. Every macro returns NULL for NULL or blank input. -#}

{#- An e-mail address trimmed and lower-cased. -#}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{#- The address without a +tag in the local part (ann+shop@x.com -> ann@x.com): a match key,
    never a golden value. -#}
{% macro email_without_tag(normalized_email) -%}
    case
        when {{ normalized_email }} like '%+%@%'
            then {{ dbt.split_part(normalized_email, "'+'", 1) }}
                || '@' || {{ dbt.split_part(normalized_email, "'@'", 2) }}
        else {{ normalized_email }}
    end
{%- endmacro %}

{#- Text trimmed with inner runs of whitespace collapsed (the value people see). -#}
{% macro clean_text(column) -%}
    nullif(trim(regexp_replace({{ column }}, '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- Folded for comparison: lower case, letters/digits/spaces only, single spaces. -#}
{% macro fold_text(column) -%}
    nullif(trim(regexp_replace(regexp_replace(lower({{ column }}), '[^a-z0-9 ]', ' ', 'g'),
        '\s+', ' ', 'g')), '')
{%- endmacro %}

{#- A street line folded with street suffixes abbreviated (12 Maple Street -> 12 maple st).
    Plain replace() on space-padded text: word boundaries differ between regex dialects. -#}
{% macro fold_street(column) -%}
    {%- set suffixes = {
        'street': 'st', 'avenue': 'ave', 'road': 'rd', 'drive': 'dr', 'lane': 'ln',
        'boulevard': 'blvd', 'court': 'ct', 'place': 'pl', 'close': 'cl', 'crescent': 'cres',
        'terrace': 'tce', 'parade': 'pde'} -%}
    {%- set ns = namespace(expr="(' ' || " ~ fold_text(column) ~ " || ' ')") -%}
    {%- for full, short in suffixes.items() -%}
        {%- set ns.expr = "replace(" ~ ns.expr ~ ", ' " ~ full ~ " ', ' " ~ short ~ " ')" -%}
    {%- endfor -%}
    nullif(trim({{ ns.expr }}), '')
{%- endmacro %}

{#- A postcode upper-cased without spaces (sw1a 1aa -> SW1A1AA). -#}
{% macro fold_postcode(column) -%}
    nullif(upper(regexp_replace({{ column }}, '[^A-Za-z0-9]', '', 'g')), '')
{%- endmacro %}

{#- Shouted or all-lower text in capitalised form (JOHN SMITH, john smith -> John Smith); text
    with its own mixed case (McDonald, van Dyk) is kept as typed. -#}
{% macro tidy_case(column) -%}
    case
        when {{ column }} = upper({{ column }}) or {{ column }} = lower({{ column }})
            then {{ goldloop.capitalize_words(column) }}
        else {{ column }}
    end
{%- endmacro %}

{% macro capitalize_words(column) -%}
    {{ return(adapter.dispatch('capitalize_words', 'goldloop')(column)) }}
{%- endmacro %}

{% macro default__capitalize_words(column) -%}
    initcap({{ column }})
{%- endmacro %}

{% macro duckdb__capitalize_words(column) -%}
    array_to_string(list_transform(string_split(lower({{ column }}), ' '),
        lambda word: upper(left(word, 1)) || substr(word, 2)), ' ')
{%- endmacro %}

{#- A company name folded for comparison, legal-form words at its end dropped
    (Ali Studio, Ltd. / ALI STUDIO LTD / Ali Studio -> ali studio). -#}
{% macro fold_company_name(column) -%}
    nullif(trim(regexp_replace(' ' || {{ fold_text(column) }},
        '( (ltd|limited|plc|inc|incorporated|llc|llp|corp|corporation|co|company|pty|group'
        || '|teoranta|gmbh|ag|bv|sa|sarl))+$', '')), '')
{%- endmacro %}
