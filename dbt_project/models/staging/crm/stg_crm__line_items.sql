with

source as (
    {{ source_or_empty('crm', 'line_items', {
        '_dlt_load_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        'archived_at': 'timestamp with time zone', '_goldloop_deleted': 'boolean',
        'name': 'varchar', 'quantity': 'varchar', 'price': 'varchar', 'amount': 'varchar',
        'hs_product_id': 'varchar', 'hs_sku': 'varchar'
    }) }}
),

final as (
    select
        id as line_item_id,
        nullif(trim(hs_product_id), '') as product_id,
        nullif(trim(hs_sku), '') as sku,
        {{ clean_text('name') }} as line_item_name,
        cast(nullif(trim(quantity), '') as decimal(18, 4)) as quantity,
        cast(nullif(trim(price), '') as decimal(18, 2)) as unit_price,
        cast(nullif(trim(amount), '') as decimal(18, 2)) as amount,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('archived_at') }} as archived_at,
        _dlt_load_id as load_id
    from source
)

select * from final
