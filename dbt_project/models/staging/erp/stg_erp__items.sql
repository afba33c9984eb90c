with

source as (
    {{ source_or_empty('erp', 'items', {
        '_dlt_load_id': 'varchar',
        'item_id': 'varchar', 'code': 'varchar', 'name': 'varchar', 'description': 'varchar',
        'sales_details__unit_price': 'decimal(18, 2)', 'is_sold': 'boolean',
        '_goldloop_deleted': 'boolean', 'updated_date_utc': 'timestamp with time zone'
    }) }}
),

final as (
    select
        item_id,
        code as item_code,
        {{ clean_text('name') }} as item_name,
        {{ clean_text('description') }} as description,
        cast(sales_details__unit_price as decimal(18, 2)) as unit_price,
        coalesce(is_sold, false) as is_sold,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('updated_date_utc') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
