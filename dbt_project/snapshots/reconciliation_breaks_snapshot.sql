{#- The history of every reconciliation break, one version per break and change: the build
    that first saw a break opens its row (dbt_valid_from), the build that no longer sees it
    (fixed, or its record deleted) closes it (dbt_valid_to). Breaks open on a day are the rows
    valid at that day's end, which is how the report site draws its trend charts.

    Amount at stake, per kind (the same rules as the report site's reconciliation page): a
    missing invoice puts the order's total at stake, an amount mismatch the difference, a
    duplicate invoice the extra invoice's total, a won deal not invoiced the deal amount, a
    deal invoiced differently the difference (counted on the deal's first invoice only, the
    mart having a row per invoice of such a deal); a leaver's CRM seat has no amount. -#}
{% snapshot reconciliation_breaks_snapshot %}

{{ config(
    schema='snapshots',
    unique_key='break_id',
    strategy='check',
    check_cols=['break_kind', 'system', 'record_id', 'currency_code', 'amount_difference',
                'amount_at_stake', 'occurred_on'],
    hard_deletes='invalidate',
) }}

with

breaks as (
    select * from {{ ref('reconciliation_breaks') }}
),

orders_vs_invoices as (
    select * from {{ ref('orders_vs_invoices') }}
),

deals_vs_invoices as (
    select * from {{ ref('deals_vs_invoices') }}
),

orders as (
    select order_id, currency_code from {{ ref('orders') }}
),

deals as (
    select deal_id, currency_code from {{ ref('deals') }}
),

order_stakes as (
    select
        orders_vs_invoices.break_id,
        orders.currency_code,
        case orders_vs_invoices.break_kind
            when 'order_missing_invoice' then orders_vs_invoices.order_amount
            when 'duplicate_invoice' then orders_vs_invoices.invoice_amount
            else abs(orders_vs_invoices.amount_difference)
        end as amount_at_stake
    from orders_vs_invoices
    left join orders on orders_vs_invoices.order_record_id = orders.order_id
),

deal_stakes as (
    select
        deals_vs_invoices.break_id,
        deals.currency_code,
        case
            when deals_vs_invoices.break_kind = 'deal_won_not_invoiced'
                then deals_vs_invoices.deal_amount
            when row_number() over (
                partition by deals_vs_invoices.deal_id order by deals_vs_invoices.invoice_id
            ) = 1
                then abs(deals_vs_invoices.amount_difference)
            else 0
        end as amount_at_stake
    from deals_vs_invoices
    left join deals on deals_vs_invoices.deal_id = deals.deal_id
),

stakes as (
    select * from order_stakes
    union all
    select * from deal_stakes
),

final as (
    select
        breaks.break_id,
        breaks.report,
        breaks.break_kind,
        breaks.system,
        breaks.record_id,
        cast(stakes.currency_code as varchar(3)) as currency_code,
        breaks.amount_difference,
        cast(stakes.amount_at_stake as decimal(18, 2)) as amount_at_stake,
        breaks.occurred_on
    from breaks
    left join stakes on breaks.break_id = stakes.break_id
)

select * from final

{% endsnapshot %}
