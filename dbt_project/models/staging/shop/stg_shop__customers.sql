{#- Incremental on DuckDB (a table there: the phone normaliser is a Python function):
    a build normalises only the rows dlt loaded since the last one (macros/incremental.sql,
    loaded_since_last_build) and replaces them by customer_record_id. -#}
{{ config(unique_key='customer_record_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}

with

source as (
    {{ source_or_empty('shop', 'customers', {
        'record_id': 'varchar', 'shop': 'varchar', 'id': 'bigint', 'email': 'varchar',
        'first_name': 'varchar', 'last_name': 'varchar', 'phone': 'varchar',
        'default_address__address1': 'varchar', 'default_address__city': 'varchar',
        'default_address__province': 'varchar', 'default_address__zip': 'varchar',
        'default_address__country_code': 'varchar', 'default_address__country': 'varchar',
        'state': 'varchar', 'currency': 'varchar', 'orders_count': 'bigint',
        'total_spent': 'decimal(18, 2)', 'accepts_marketing': 'boolean',
        '_goldloop_deleted': 'boolean', '_dlt_load_id': 'varchar',
        'created_at': 'timestamp with time zone', 'updated_at': 'timestamp with time zone'
    }) }}
),

renamed as (
    select
        record_id as customer_record_id,
        shop,
        cast(id as {{ dbt.type_string() }}) as customer_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        phone as phone_as_entered,
        {{ clean_text('default_address__address1') }} as address_line1,
        {{ clean_text('default_address__city') }} as city,
        {{ clean_text('default_address__province') }} as region,
        {{ clean_text('default_address__zip') }} as postcode,
        {{ country_code('coalesce(default_address__country_code, default_address__country)') }}
            as country_code,
        lower(state) as customer_state,
        upper(currency) as currency_code,
        cast(orders_count as integer) as order_count,
        cast(total_spent as decimal(18, 2)) as total_spent,
        coalesce(accepts_marketing, false) as accepts_marketing,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        _dlt_load_id as load_id
    from source
    where {{ loaded_since_last_build() }}
),

final as (
    select
        customer_record_id,
        shop,
        customer_id,
        email,
        {{ tidy_case('first_name') }} as first_name,
        {{ tidy_case('last_name') }} as last_name,
        {{ normalize_phone('phone_as_entered', 'country_code') }} as phone,
        phone_as_entered,
        {{ tidy_case('address_line1') }} as address_line1,
        {{ tidy_case('city') }} as city,
        region,
        upper(postcode) as postcode,
        country_code,
        customer_state,
        currency_code,
        order_count,
        total_spent,
        accepts_marketing,
        is_deleted,
        created_at,
        updated_at,
        load_id
    from renamed
)

select * from final
