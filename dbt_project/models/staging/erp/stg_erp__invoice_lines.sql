with

source as (
    {{ source_or_empty('erp', 'invoices__line_items', {
        'line_item_id': 'varchar', '_dlt_parent_id': 'varchar', 'item_code': 'varchar',
        'description': 'varchar', 'account_code': 'varchar', 'quantity': 'decimal(18, 4)',
        'unit_amount': 'decimal(18, 2)', 'line_amount': 'decimal(18, 2)',
        '_dlt_list_idx': 'bigint'
    }) }}
),

final as (
    select
        line_item_id as invoice_line_id,
        _dlt_parent_id as invoice_row_id,
        nullif(trim(item_code), '') as item_code,
        {{ clean_text('description') }} as description,
        nullif(trim(account_code), '') as account_code,
        cast(quantity as decimal(18, 4)) as quantity,
        cast(unit_amount as decimal(18, 2)) as unit_amount,
        cast(line_amount as decimal(18, 2)) as line_amount,
        _dlt_list_idx as line_number
    from source
)

select * from final
