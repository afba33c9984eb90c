{#- Which golden product each CRM product, ERP item and shop product stands for, with the code
    the system uses and how the link was made. -#}
with

product_records as (
    select * from {{ ref('int_product_records') }}
),

final as (
    select
        case when shop_sku is not null then {{ stable_id('prd_', 'shop_sku') }} end as product_id,
        system,
        object,
        record_id,
        code,
        match_method,
        is_deleted
    from product_records
)

select * from final
