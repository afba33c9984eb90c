with

source as (
    {{ source_or_empty('shop', 'orders__line_items', {
        'record_id': 'varchar', '_dlt_parent_id': 'varchar', 'shop': 'varchar',
        'product_id': 'bigint', 'variant_id': 'bigint', 'sku': 'varchar', 'title': 'varchar',
        'quantity': 'bigint', 'price': 'decimal(18, 2)', 'total_discount': 'decimal(18, 2)'
    }) }}
),

final as (
    select
        record_id as order_line_record_id,
        _dlt_parent_id as order_row_id,
        shop,
        shop || '/' || cast(product_id as {{ dbt.type_string() }}) as product_record_id,
        shop || '/' || cast(variant_id as {{ dbt.type_string() }}) as variant_record_id,
        nullif(trim(sku), '') as sku,
        {{ clean_text('title') }} as line_title,
        cast(quantity as integer) as quantity,
        cast(price as decimal(18, 2)) as unit_price,
        cast(total_discount as decimal(18, 2)) as discount_amount,
        cast(quantity as integer) * cast(price as decimal(18, 2)) as line_amount
    from source
)

select * from final
