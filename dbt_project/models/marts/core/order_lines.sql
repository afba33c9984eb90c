{#- Shop order lines with the golden product of their SKU. Incremental: a build rewrites the
    lines of every order dlt loaded since the last build (macros/incremental.sql; dlt writes an
    order's lines again with it), deleting the order's old lines first, so a line removed from
    an order disappears too. `--full-refresh` rebuilds everything. -#}
{{ config(
    materialized='incremental',
    unique_key='order_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    pre_hook="{{ remember_loads_now([ref('stg_shop__orders')]) }}",
    post_hook="{{ keep_loads_read() }}",
) }}

with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select order_row_id, order_record_id, updated_at from {{ ref('stg_shop__orders') }}
    where {{ loaded_since_read('load_id') }}
),

-- cast to the contract's types: the rows of an incremental build are compared with the table
final as (
    select
        cast(order_lines.order_line_record_id as varchar) as order_line_id,
        cast(orders.order_record_id as varchar) as order_id,
        cast(case when order_lines.sku is not null
            then {{ stable_id('prd_', 'upper(order_lines.sku)') }} end
            as varchar) as product_id,
        cast(order_lines.product_record_id as varchar) as shop_product_id,
        cast(order_lines.variant_record_id as varchar) as shop_variant_id,
        cast(upper(order_lines.sku) as varchar) as sku,
        cast(order_lines.line_title as varchar) as line_title,
        cast(order_lines.quantity as integer) as quantity,
        cast(order_lines.unit_price as decimal(18, 2)) as unit_price,
        cast(order_lines.discount_amount as decimal(18, 2)) as discount_amount,
        cast(order_lines.line_amount as decimal(18, 2)) as line_amount,
        cast(orders.updated_at as timestamp) as updated_at,
        {{ build_started_at() }} as built_at
    from order_lines
    inner join orders on order_lines.order_row_id = orders.order_row_id
)

select * from final
