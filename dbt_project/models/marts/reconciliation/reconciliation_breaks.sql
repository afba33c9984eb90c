{#- Every open reconciliation break in one list (the reconciliation marts each keep their own
    detail): which report found it, its kind, the record to fix, the money it puts at stake
    and the business day it belongs to (the order's day, the deal's close, the employee's
    termination). The report site and the breaks history (snapshots/) read the amount at
    stake from here: this is the one place its rule lives.

    Amount at stake, per kind, in the order's or the deal's currency: a missing invoice puts
    the order's total at stake, an amount mismatch the difference, a duplicate invoice the
    extra invoice's total, a won deal not invoiced the deal amount, a deal invoiced
    differently the difference (counted on the deal's first invoice only, deals_vs_invoices
    having a row per invoice of such a deal, the others at 0); a leaver's CRM seat has no
    amount and no currency. -#}
with

orders_vs_invoices as (
    select * from {{ ref('orders_vs_invoices') }}
),

deals_vs_invoices as (
    select * from {{ ref('deals_vs_invoices') }}
),

leavers_with_access as (
    select * from {{ ref('leavers_with_access') }}
),

orders as (
    -- the order's day and currency as the shop holds them (staging, as orders_vs_invoices
    -- reads them): no wait for the golden customers the orders mart carries
    select order_record_id as order_id, ordered_at, currency_code
    from {{ ref('stg_shop__orders') }}
),

deals as (
    select deal_id, currency_code from {{ ref('stg_crm__deals') }}
),

order_breaks as (
    select
        orders_vs_invoices.break_id,
        'orders_vs_invoices' as report,
        orders_vs_invoices.break_kind,
        orders_vs_invoices.system,
        orders_vs_invoices.record_id,
        orders.currency_code,
        orders_vs_invoices.amount_difference,
        case orders_vs_invoices.break_kind
            when 'order_missing_invoice' then orders_vs_invoices.order_amount
            when 'duplicate_invoice' then orders_vs_invoices.invoice_amount
            else abs(orders_vs_invoices.amount_difference)
        end as amount_at_stake,
        cast(orders.ordered_at as date) as occurred_on
    from orders_vs_invoices
    left join orders on orders_vs_invoices.order_record_id = orders.order_id
),

deal_breaks as (
    select
        deals_vs_invoices.break_id,
        'deals_vs_invoices' as report,
        deals_vs_invoices.break_kind,
        deals_vs_invoices.system,
        deals_vs_invoices.record_id,
        deals.currency_code,
        deals_vs_invoices.amount_difference,
        case
            when deals_vs_invoices.break_kind = 'deal_won_not_invoiced'
                then deals_vs_invoices.deal_amount
            when row_number() over (
                partition by deals_vs_invoices.deal_id order by deals_vs_invoices.invoice_id
            ) = 1
                then abs(deals_vs_invoices.amount_difference)
            else 0
        end as amount_at_stake,
        cast(deals_vs_invoices.closed_at as date) as occurred_on
    from deals_vs_invoices
    left join deals on deals_vs_invoices.deal_id = deals.deal_id
),

leaver_breaks as (
    select
        break_id,
        'leavers_with_access' as report,
        break_kind,
        system,
        record_id,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        cast(null as decimal(18, 2)) as amount_difference,
        cast(null as decimal(18, 2)) as amount_at_stake,
        termination_date as occurred_on
    from leavers_with_access
),

unioned as (
    select * from order_breaks
    union all
    select * from deal_breaks
    union all
    select * from leaver_breaks
),

final as (
    select
        break_id,
        report,
        break_kind,
        system,
        record_id,
        cast(currency_code as varchar(3)) as currency_code,
        cast(amount_difference as decimal(18, 2)) as amount_difference,
        cast(amount_at_stake as decimal(18, 2)) as amount_at_stake,
        occurred_on
    from unioned
)

select * from final
