{#- ERP payments. Incremental (delete+insert by payment_id): a build reworks the payments
    dlt loaded since the last build (macros/incremental.sql). -#}
{{ config(materialized='incremental', unique_key='payment_id',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns',
    pre_hook="{{ remember_loads_now([ref('stg_erp__payments')]) }}",
    post_hook="{{ keep_loads_read() }}") }}
with

payments as (
    select * from {{ ref('stg_erp__payments') }} as payments
    where {{ loaded_since_read('payments.load_id') }}
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
        updated_at,
        {{ build_started_at() }} as built_at
    from payments
)

select * from final
