{#- Shop orders against the ERP invoices that bill them (Xero Reference = <shop>/<order name>).
    One row per break:
      order_missing_invoice    a live (not cancelled) order with no invoice at all
      invoice_amount_mismatch  an order's first invoice totals differently from the order
      duplicate_invoice        a second (third...) live invoice for the same order
    `system`/`record_id` name the record to fix, as the sandbox's breaks export does: the shop
    order for a missing invoice, the ERP invoice otherwise.

    Incremental by order (macros/reworked_orders.sql): a build reworks the orders loaded since
    the last one and those whose reference an invoice loaded since names now or named then. -#}
{{ config(materialized='incremental', incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_reworked_orders(ref('stg_shop__orders'), ref('stg_erp__invoices')) }}",
    post_hook="{{ keep_reworked_orders_state(ref('stg_erp__invoices')) }}") }}
with

orders as (
    select * from {{ ref('stg_shop__orders') }} as orders
    where {{ reworked_orders_only('orders.order_record_id') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice
    {%- if order_rework_is_kept() %}
        and reference in (select order_reference from orders)
    {%- endif %}
),

-- every invoice of an order, first raised first; voided/deleted ones kept for the
-- missing-invoice test (a voided order is billed by a voided invoice) but not as duplicates
order_invoices as (
    select
        orders.order_record_id,
        orders.order_reference,
        orders.currency_code as order_currency_code,
        orders.total_amount as order_amount,
        invoices.invoice_id,
        invoices.invoice_number,
        invoices.invoice_status,
        invoices.currency_code as invoice_currency_code,
        invoices.total_amount as invoice_amount,
        invoices.is_deleted as is_invoice_deleted,
        row_number() over (
            partition by orders.order_record_id
            order by case when invoices.is_deleted then 1 else 0 end,
                invoices.invoice_date, invoices.invoice_number
        ) as invoice_rank
    from orders
    inner join invoices on orders.order_reference = invoices.reference
),

missing as (
    select
        'order_missing_invoice' as break_kind,
        'shop' as system,
        orders.order_record_id as record_id,
        orders.order_record_id,
        orders.order_reference,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as invoice_number,
        orders.total_amount as order_amount,
        cast(null as decimal(18, 2)) as invoice_amount
    from orders
    where not orders.is_cancelled
        and not exists (
            select 1 from order_invoices
            where order_invoices.order_record_id = orders.order_record_id
        )
),

mismatched as (
    select
        'invoice_amount_mismatch' as break_kind,
        'erp' as system,
        invoice_id as record_id,
        order_record_id,
        order_reference,
        invoice_id,
        invoice_number,
        order_amount,
        invoice_amount
    from order_invoices
    where invoice_rank = 1
        and abs(invoice_amount - order_amount) >= {{ var('amount_tolerance') }}
),

duplicated as (
    select
        'duplicate_invoice' as break_kind,
        'erp' as system,
        invoice_id as record_id,
        order_record_id,
        order_reference,
        invoice_id,
        invoice_number,
        order_amount,
        invoice_amount
    from order_invoices
    where invoice_rank > 1 and not is_invoice_deleted
),

unioned as (
    select * from missing
    union all
    select * from mismatched
    union all
    select * from duplicated
),

final as (
    select
        {{ stable_id('brk_', "break_kind || ':' || record_id") }} as break_id,
        break_kind,
        system,
        record_id,
        order_record_id,
        order_reference,
        invoice_id,
        invoice_number,
        order_amount,
        invoice_amount,
        invoice_amount - order_amount as amount_difference,
        {{ build_started_at() }} as built_at
    from unioned
)

select * from final
