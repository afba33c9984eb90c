{#- Every product record of every system with the shop SKU it stands for: the shop's own
    variant SKU; for CRM products and ERP items the steward's mapping seed, else the code in SKU
    form when a shop sells that SKU, else the shop product of the same name. -#}
with

crm_products as (
    select * from {{ ref('stg_crm__products') }}
),

erp_items as (
    select * from {{ ref('stg_erp__items') }}
),

shop_products as (
    select * from {{ ref('stg_shop__products') }}
),

shop_variants as (
    select * from {{ ref('stg_shop__product_variants') }}
),

mappings as (
    select * from {{ ref('product_code_mappings') }}
),

shop_records as (
    select
        'shop' as system,
        'products' as object,
        shop_products.product_record_id as record_id,
        min(upper(shop_variants.sku)) as code,
        shop_products.product_title as product_name,
        min(shop_variants.unit_price) as unit_price,
        shop_products.is_deleted,
        shop_products.updated_at
    from shop_products
    left join shop_variants
        on shop_products.product_record_id = shop_variants.product_record_id
    group by shop_products.product_record_id, shop_products.product_title,
        shop_products.is_deleted, shop_products.updated_at
),

shop_skus as (
    select distinct code as shop_sku, {{ fold_text('product_name') }} as name_key
    from shop_records
    where code is not null
),

other_records as (
    select 'crm' as system, 'products' as object, product_id as record_id, sku as code,
        product_name, unit_price, is_deleted, updated_at
    from crm_products

    union all

    select 'erp', 'items', item_id, item_code, item_name, unit_price, is_deleted, updated_at
    from erp_items
),

resolved as (
    select
        other_records.*,
        coalesce(
            mappings.shop_sku,
            by_code.shop_sku,
            by_name.shop_sku,
            {{ normalize_product_code('other_records.code') }}
        ) as shop_sku,
        case
            when mappings.shop_sku is not null then 'mapping'
            when by_code.shop_sku is not null then 'code'
            when by_name.shop_sku is not null then 'name'
            else 'unmatched'
        end as match_method
    from other_records
    left join mappings
        on other_records.system = mappings.system and other_records.code = mappings.code
    left join shop_skus as by_code
        on {{ normalize_product_code('other_records.code') }} = by_code.shop_sku
    left join shop_skus as by_name
        on {{ fold_text('other_records.product_name') }} = by_name.name_key
),

final as (
    select system, object, record_id, code, code as shop_sku, 'shop' as match_method, product_name,
        unit_price, is_deleted, updated_at
    from shop_records

    union all

    select system, object, record_id, code, shop_sku, match_method, product_name,
        unit_price, is_deleted, updated_at
    from resolved
)

select * from final
