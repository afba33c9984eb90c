with

source as (
    {{ source_or_empty('crm', 'products', {
        '_dlt_load_id': 'varchar', 'id': 'varchar', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        'archived_at': 'timestamp with time zone', '_goldloop_deleted': 'boolean',
        'name': 'varchar', 'hs_sku': 'varchar', 'price': 'varchar', 'description': 'varchar'
    }) }}
),

final as (
    select
        id as product_id,
        nullif(trim(hs_sku), '') as sku,
        {{ clean_text('name') }} as product_name,
        {{ clean_text('description') }} as description,
        cast(nullif(trim(price), '') as decimal(18, 2)) as unit_price,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('archived_at') }} as archived_at,
        _dlt_load_id as load_id
    from source
)

select * from final
