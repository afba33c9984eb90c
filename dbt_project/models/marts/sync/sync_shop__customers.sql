{#- What the shop_customers sync pushes: golden values for each shop customer account a golden
    person customer has, under Shopify's field names. Shops are not given customers they do not
    have: one row per (golden customer, shop) with a live account there (the most recently
    updated one when a shop holds duplicates). `accepts_marketing` is the most restrictive
    consent across systems.

    Shopify keeps e-mails unique per shop: when another live account of the same shop already
    holds the golden e-mail, the account keeps its own (the duplicate is for a steward).

    The golden address (its lines always come from one record) goes to the account's default
    address, under Shopify's address field names (`address1`, `city`, `province`, `zip`,
    `country_code`). `destination_updated_at` is the account's updated_at as last extracted
    (conflicts).

    Incremental by customer (macros/changed_customers.sql): a build reworks the customers whose
    records changed and every customer holding a value one of them holds or held
    (macros/sync_shared_values.sql). -#}
{{ config(pre_hook="{{ forget_changed_customers('substr(sync_key, length(shop) + 2)',
        sync_shop__customers_shared_values) }}",
    post_hook="{{ consume_customer_changes(sync_shop__customers_shared_values) }}") }}
with

customers as (
    select * from {{ ref('customers') }}
    where not is_deleted and not is_business_account
        and {{ changed_customers_only('customer_id', entangled=true) }}
),

customer_xref as (
    select * from {{ ref('customer_xref') }}
    where system = 'shop' and not is_deleted
        and {{ changed_customers_only('customer_id', entangled=true) }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
    where not is_deleted
),

accounts as (
    select
        customer_xref.customer_id,
        shop_customers.shop,
        shop_customers.customer_id as shop_customer_id,
        shop_customers.customer_record_id,
        shop_customers.email as shop_email,
        shop_customers.updated_at as shop_updated_at,
        row_number() over (
            partition by customer_xref.customer_id, shop_customers.shop
            order by shop_customers.updated_at desc nulls last, shop_customers.customer_record_id
        ) as account_rank
    from customer_xref
    inner join shop_customers
        on customer_xref.record_id = shop_customers.customer_record_id
),

joined as (
    select
        customers.customer_id,
        accounts.shop,
        accounts.shop_customer_id,
        accounts.customer_record_id,
        accounts.shop_email,
        accounts.shop_updated_at,
        customers.email as golden_email,
        customers.first_name,
        customers.last_name,
        customers.phone,
        customers.address_line1,
        customers.city,
        customers.region,
        customers.postcode,
        customers.country_code,
        customers.has_marketing_consent
    from accounts
    inner join customers on accounts.customer_id = customers.customer_id
    where accounts.account_rank = 1
),

-- another live account of the same shop holding the golden e-mail
email_taken as (
    select distinct joined.customer_record_id
    from joined
    inner join shop_customers as others
        on others.shop = joined.shop
        and others.email = joined.golden_email
        and others.customer_record_id <> joined.customer_record_id
),

final as (
    select
        cast(joined.shop || '/' || joined.customer_id as {{ dbt.type_string() }}) as sync_key,
        cast(joined.shop as {{ dbt.type_string() }}) as shop,
        cast(joined.shop_customer_id as {{ dbt.type_string() }}) as shop_customer_id,
        cast(case when email_taken.customer_record_id is null then joined.golden_email
            else joined.shop_email end as {{ dbt.type_string() }}) as email,
        cast(joined.first_name as {{ dbt.type_string() }}) as first_name,
        cast(joined.last_name as {{ dbt.type_string() }}) as last_name,
        cast(joined.phone as {{ dbt.type_string() }}) as phone,
        joined.has_marketing_consent as accepts_marketing,
        cast(joined.address_line1 as {{ dbt.type_string() }}) as address1,
        cast(joined.city as {{ dbt.type_string() }}) as city,
        cast(joined.region as {{ dbt.type_string() }}) as province,
        cast(joined.postcode as {{ dbt.type_string() }}) as zip,
        cast(joined.country_code as {{ dbt.type_string() }}) as country_code,
        cast(joined.shop_updated_at as timestamp) as destination_updated_at
    from joined
    left join email_taken on joined.customer_record_id = email_taken.customer_record_id
)

select * from final
