with

source as (
    {{ source_or_empty('shop', 'products__variants', {
        'record_id': 'varchar', '_dlt_parent_id': 'varchar', 'shop': 'varchar',
        'product_id': 'bigint', 'sku': 'varchar', 'title': 'varchar', 'price': 'decimal(18, 2)',
        'position': 'bigint'
    }) }}
),

final as (
    select
        record_id as variant_record_id,
        _dlt_parent_id as product_row_id,
        shop,
        shop || '/' || cast(product_id as {{ dbt.type_string() }}) as product_record_id,
        nullif(trim(sku), '') as sku,
        {{ clean_text('title') }} as variant_title,
        cast(price as decimal(18, 2)) as unit_price,
        cast(position as integer) as position
    from source
)

select * from final
