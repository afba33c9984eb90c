with

source as (
    {{ source_or_empty('erp', 'credit_notes', {
        '_dlt_load_id': 'varchar', 'credit_note_id': 'varchar', 'contact__contact_id': 'varchar',
        'credit_note_number': 'varchar', 'reference': 'varchar', 'type': 'varchar',
        'status': 'varchar', 'currency_code': 'varchar', 'total': 'decimal(18, 2)',
        'remaining_credit': 'decimal(18, 2)', '_goldloop_deleted': 'boolean',
        'date': 'timestamp with time zone', 'updated_date_utc': 'timestamp with time zone'
    }) }}
),

final as (
    select
        credit_note_id,
        contact__contact_id as contact_id,
        credit_note_number,
        nullif(trim(reference), '') as reference,
        upper(type) as credit_note_type,
        upper(status) as credit_note_status,
        upper(currency_code) as currency_code,
        cast(total as decimal(18, 2)) as total_amount,
        cast(remaining_credit as decimal(18, 2)) as remaining_credit,
        coalesce(_goldloop_deleted, false) as is_deleted,
        cast({{ to_utc('date') }} as date) as credit_note_date,
        {{ to_utc('updated_date_utc') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
