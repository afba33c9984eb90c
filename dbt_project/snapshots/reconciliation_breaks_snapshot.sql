{#- The history of every reconciliation break, one version per break and change: the build
    that first saw a break opens its row (dbt_valid_from), the build that no longer sees it
    (fixed, or its record deleted) closes it (dbt_valid_to). Breaks open on a day are the rows
    valid at that day's end, which is how the report site draws its trend charts.

    A copy of marts.reconciliation_breaks: its amount at stake and currency are the mart's
    (the rule lives there, once). -#}
{% snapshot reconciliation_breaks_snapshot %}

{{ config(
    schema='snapshots',
    unique_key='break_id',
    strategy='check',
    check_cols=['break_kind', 'system', 'record_id', 'currency_code', 'amount_difference',
                'amount_at_stake', 'occurred_on'],
    hard_deletes='invalidate',
) }}

select
    break_id,
    report,
    break_kind,
    system,
    record_id,
    currency_code,
    amount_difference,
    amount_at_stake,
    occurred_on
from {{ ref('reconciliation_breaks') }}

{% endsnapshot %}
