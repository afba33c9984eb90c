{#- An incremental table on DuckDB (why: dbt_project.yml), replaced by invoice_id for the
    invoices dlt loaded since the last build (macros/incremental.sql); elsewhere a view. -#}
{{ config(unique_key='invoice_id') }}

with

source as (
    {{ source_or_empty('erp', 'invoices', {
        '_dlt_load_id': 'varchar',
        'invoice_id': 'varchar', '_dlt_id': 'varchar', 'contact__contact_id': 'varchar',
        'invoice_number': 'varchar', 'reference': 'varchar', 'type': 'varchar',
        'status': 'varchar', 'currency_code': 'varchar', 'sub_total': 'decimal(18, 2)',
        'total_tax': 'decimal(18, 2)', 'total': 'decimal(18, 2)',
        'amount_due': 'decimal(18, 2)', 'amount_paid': 'decimal(18, 2)',
        'amount_credited': 'decimal(18, 2)', '_goldloop_deleted': 'boolean',
        'date': 'timestamp with time zone', 'due_date': 'timestamp with time zone',
        'updated_date_utc': 'timestamp with time zone'
    }) }}
),

final as (
    select
        invoice_id,
        _dlt_id as invoice_row_id,
        contact__contact_id as contact_id,
        invoice_number,
        nullif(trim(reference), '') as reference,
        upper(type) as invoice_type,
        upper(status) as invoice_status,
        upper(currency_code) as currency_code,
        cast(sub_total as decimal(18, 2)) as subtotal_amount,
        cast(total_tax as decimal(18, 2)) as tax_amount,
        cast(total as decimal(18, 2)) as total_amount,
        cast(amount_due as decimal(18, 2)) as amount_due,
        cast(amount_paid as decimal(18, 2)) as amount_paid,
        cast(amount_credited as decimal(18, 2)) as amount_credited,
        coalesce(upper(type) = 'ACCREC', false) as is_sales_invoice,
        coalesce(_goldloop_deleted, false) as is_deleted,
        cast({{ to_utc('date') }} as date) as invoice_date,
        cast({{ to_utc('due_date') }} as date) as due_date,
        {{ to_utc('updated_date_utc') }} as updated_at,
        _dlt_load_id as load_id
    from source
    where {{ loaded_since_last_build() }}
)

select * from final
