{#- Every open reconciliation break in one list (the reconciliation marts each keep their own
    detail): which report found it, its kind, the record to fix and the business day it belongs
    to (the order's day, the deal's close, the employee's termination). -#}
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
    select order_id, ordered_at from {{ ref('orders') }}
),

unioned as (
    select
        orders_vs_invoices.break_id,
        'orders_vs_invoices' as report,
        orders_vs_invoices.break_kind,
        orders_vs_invoices.system,
        orders_vs_invoices.record_id,
        orders_vs_invoices.amount_difference,
        cast(orders.ordered_at as date) as occurred_on
    from orders_vs_invoices
    left join orders on orders_vs_invoices.order_record_id = orders.order_id

    union all

    select
        break_id,
        'deals_vs_invoices',
        break_kind,
        system,
        record_id,
        amount_difference,
        cast(closed_at as date)
    from deals_vs_invoices

    union all

    select
        break_id,
        'leavers_with_access',
        break_kind,
        system,
        record_id,
        cast(null as decimal(18, 2)),
        termination_date
    from leavers_with_access
),

final as (
    select
        break_id,
        report,
        break_kind,
        system,
        record_id,
        cast(amount_difference as decimal(18, 2)) as amount_difference,
        occurred_on
    from unioned
)

select * from final
