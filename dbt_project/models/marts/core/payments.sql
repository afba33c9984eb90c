with

payments as (
    select * from {{ ref('stg_erp__payments') }}
),

final as (
    select
        payment_id,
        invoice_id,
        invoice_number,
        payment_type,
        payment_status,
        amount,
        is_reconciled,
        is_deleted,
        payment_date,
        updated_at
    from payments
)

select * from final
