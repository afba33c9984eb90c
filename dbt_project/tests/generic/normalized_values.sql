{#- The column holds only trimmed, lower-case addresses with one @. -#}
{% test normalized_email(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and ({{ column_name }} <> lower(trim({{ column_name }}))
        or {{ column_name }} not like '%_@_%'
        or {{ column_name }} like '%@%@%')
{% endtest %}

{#- The column holds only E.164 numbers: + then 8 to 15 digits, no leading zero. -#}
{% test e164_phone(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and (left({{ column_name }}, 1) <> '+'
        or substr({{ column_name }}, 2, 1) = '0'
        or length({{ column_name }}) not between 9 and 16
        or {{ column_name }} <> '+' || regexp_replace({{ column_name }}, '[^0-9]', '', 'g'))
{% endtest %}
