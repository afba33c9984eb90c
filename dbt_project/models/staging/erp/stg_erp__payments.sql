{#- Incremental on DuckDB (a table there: the incremental facts read a few rows of it, and a
    view would cast every row at each read): a build casts only the rows dlt loaded since the
    last one (macros/incremental.sql, loaded_since_last_build) and replaces them by payment_id.
    Elsewhere a view. -#}
{{ config(unique_key='payment_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}

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
