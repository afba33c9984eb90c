with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select order_row_id, order_record_id from {{ ref('stg_shop__orders') }}
),

final as (
    select
        order_lines.order_line_record_id as order_line_id,
        orders.order_record_id as order_id,
        case when order_lines.sku is not null
            then {{ stable_id('prd_', 'upper(order_lines.sku)') }} end as product_id,
        order_lines.product_record_id as shop_product_id,
        order_lines.variant_record_id as shop_variant_id,
        upper(order_lines.sku) as sku,
        order_lines.line_title,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount
    from order_lines
    inner join orders on order_lines.order_row_id = orders.order_row_id
)

select * from final
