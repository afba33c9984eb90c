{#- No two rows share the same values in every one of `columns` (a grain of several columns).
    Grouping on the columns themselves, not on their concatenation: no string is built per row.
-#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_these_values
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
