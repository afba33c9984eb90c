{#- The golden product: one per shop SKU (the catalogue's key), named and priced from the
    shop when a shop sells it, else from the CRM, else the ERP. -#}
with

product_records as (
    select * from {{ ref('int_product_records') }}
    where shop_sku is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by shop_sku
            order by case when is_deleted then 1 else 0 end,
                case system when 'shop' then 1 when 'crm' then 2 else 3 end,
                updated_at desc nulls last, record_id
        ) as record_rank
    from product_records
),

presence as (
    select
        shop_sku,
        max(case when system = 'crm' then code end) as crm_sku,
        max(case when system = 'erp' then code end) as erp_item_code,
        max(case when system = 'shop' and not is_deleted then 1 else 0 end) = 1 as is_sold_in_shop,
        min(case when is_deleted then 1 else 0 end) = 1 as is_deleted
    from product_records
    group by shop_sku
),

final as (
    select
        {{ stable_id('prd_', 'presence.shop_sku') }} as product_id,
        presence.shop_sku as sku,
        presence.crm_sku,
        presence.erp_item_code,
        ranked.product_name,
        ranked.system as product_name__source,
        ranked.unit_price,
        presence.erp_item_code is not null and presence.erp_item_code <> presence.shop_sku
            as has_erp_code_mismatch,
        presence.is_sold_in_shop,
        presence.is_deleted
    from presence
    inner join ranked on presence.shop_sku = ranked.shop_sku and ranked.record_rank = 1
)

select * from final
