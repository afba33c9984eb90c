{#- ERP payments. Incremental (delete+insert by payment_id): a build reworks the payments
    changed since the latest one it holds, less `incremental_lookback_hours`. -#}
{{ config(materialized='incremental', unique_key='payment_id',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}
with

payments as (
    select * from {{ ref('stg_erp__payments') }} as payments
    where {{ changed_since_last_build('payments.updated_at', 'updated_at') }}
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
