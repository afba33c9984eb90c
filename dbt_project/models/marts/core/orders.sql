{#- Shop orders with their golden customer and the ERP invoice that bills them (the first
    live one; duplicates and breaks are in orders_vs_invoices).

    Incremental (delete+insert by order_id): a build reworks the orders dlt loaded since the
    last build (macros/incremental.sql), the orders of shop customers of the customers the
    change log names since the last build whose orders hold another customer now
    (macros/changed_customers.sql, records_with_new_customer), and the orders an invoice loaded since then refers to or billed
    (a late invoice, a re-billed one). -#}
{{ config(materialized='incremental', unique_key='order_id',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns',
    pre_hook="{{ remember_loads_now([ref('stg_shop__orders'), ref('stg_erp__invoices')]) }}",
    post_hook=["{{ consume_customer_changes() }}", "{{ keep_loads_read() }}"]) }}
with

all_invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and not is_deleted
),

{%- if is_incremental() %}
changed_invoices as (
    select invoices.invoice_id, invoices.reference from {{ ref('stg_erp__invoices') }} as invoices
    where {{ loaded_since_read('invoices.load_id') }}
),
{%- endif %}

orders as (
    select * from {{ ref('stg_shop__orders') }}
    {%- if is_incremental() %}
    -- picked on the few columns the choice reads: the view's other columns are computed for
    -- the picked orders only (all of them, read before the choice, cost twice as much)
    where order_record_id in (
        select orders.order_record_id from {{ ref('stg_shop__orders') }} as orders
        where {{ loaded_since_read('orders.load_id') }}
            or orders.customer_record_id in (
                {{ records_with_new_customer(ref('customer_xref'), 'shop',
                                            'shop_customer_id') }})
            -- the orders a changed invoice refers to now, and those it billed before
            or orders.order_reference in (select reference from changed_invoices)
            or orders.order_record_id in (
                select already_built.order_id from {{ this }} as already_built
                where already_built.invoice_id in (select invoice_id from changed_invoices)))
    {%- endif %}
),

customer_xref as (
    select * from {{ ref('customer_xref') }}
    where system = 'shop'
),

invoices as (
    select * from all_invoices
    {%- if is_incremental() %}
    -- the invoices of the reworked orders' references only
    where reference in (select order_reference from orders)
    {%- endif %}
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
        orders.updated_at,
        {{ build_started_at() }} as built_at
    from orders
    left join customer_xref on orders.customer_record_id = customer_xref.record_id
    left join first_invoices
        on orders.order_reference = first_invoices.reference
        and first_invoices.invoice_rank = 1
)

select * from final
