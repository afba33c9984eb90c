{#- An incremental table on DuckDB (why: dbt_project.yml), replaced by payment_id for the
    payments dlt loaded since the last build (macros/incremental.sql); elsewhere a view. -#}
{{ config(unique_key='payment_id') }}

with

source as (
    {{ source_or_empty('erp', 'payments', {
        '_dlt_load_id': 'varchar', 'payment_id': 'varchar', 'invoice__invoice_id': 'varchar',
        'invoice__invoice_number': 'varchar', 'payment_type': 'varchar', 'status': 'varchar',
        'reference': 'varchar', 'amount': 'decimal(18, 2)', 'is_reconciled': 'boolean',
        '_goldloop_deleted': 'boolean', 'date': 'timestamp with time zone',
        'updated_date_utc': 'timestamp with time zone'
    }) }}
),

final as (
    select
        payment_id,
        invoice__invoice_id as invoice_id,
        invoice__invoice_number as invoice_number,
        upper(payment_type) as payment_type,
        upper(status) as payment_status,
        nullif(trim(reference), '') as reference,
        cast(amount as decimal(18, 2)) as amount,
        coalesce(is_reconciled, false) as is_reconciled,
        coalesce(_goldloop_deleted, false) as is_deleted,
        cast({{ to_utc('date') }} as date) as payment_date,
        {{ to_utc('updated_date_utc') }} as updated_at,
        _dlt_load_id as load_id
    from source
    where {{ loaded_since_last_build() }}
)

select * from final
