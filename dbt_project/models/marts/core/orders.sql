{#- Shop orders with their golden customer and the ERP invoice that bills them (the first
    live one; duplicates and breaks are in orders_vs_invoices). -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

customer_xref as (
    select * from {{ ref('customer_xref') }}
    where system = 'shop'
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and not is_deleted
),

first_invoices as (
    select
        reference,
        invoice_id,
        row_number() over (partition by reference order by invoice_date, invoice_number)
            as invoice_rank
    from invoices
),

final as (
    select
        orders.order_record_id as order_id,
        customer_xref.customer_id,
        first_invoices.invoice_id,
        orders.shop,
        orders.order_name,
        orders.order_reference,
        orders.customer_record_id as shop_customer_id,
        orders.currency_code,
        orders.financial_status,
        orders.subtotal_amount,
        orders.tax_amount,
        orders.discount_amount,
        orders.total_amount,
        orders.is_cancelled,
        orders.ordered_at,
        orders.cancelled_at,
        orders.updated_at
    from orders
    left join customer_xref on orders.customer_record_id = customer_xref.record_id
    left join first_invoices
        on orders.order_reference = first_invoices.reference
        and first_invoices.invoice_rank = 1
)

select * from final
