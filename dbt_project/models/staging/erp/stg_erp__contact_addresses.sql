{#- Blank address slots (Xero always sends POBOX and STREET) are dropped. -#}
with

source as (
    {{ source_or_empty('erp', 'contacts__addresses', {
        '_dlt_id': 'varchar', '_dlt_parent_id': 'varchar', 'address_type': 'varchar',
        'address_line1': 'varchar', 'city': 'varchar', 'region': 'varchar',
        'postal_code': 'varchar', 'country': 'varchar'
    }) }}
),

renamed as (
    select
        _dlt_id as contact_address_id,
        _dlt_parent_id as contact_row_id,
        upper(address_type) as address_type,
        {{ clean_text('address_line1') }} as address_line1,
        {{ clean_text('city') }} as city,
        {{ clean_text('region') }} as region,
        {{ clean_text('postal_code') }} as postcode,
        {{ country_code('country') }} as country_code
    from source
),

final as (
    select
        contact_address_id,
        contact_row_id,
        address_type,
        {{ tidy_case('address_line1') }} as address_line1,
        {{ tidy_case('city') }} as city,
        region,
        upper(postcode) as postcode,
        country_code
    from renamed
    where coalesce(address_line1, city, postcode) is not null
)

select * from final
