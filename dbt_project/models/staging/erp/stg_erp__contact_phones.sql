{#- Blank phone slots (Xero always sends DDI, DEFAULT, FAX and MOBILE) are dropped. The number
    is E.164-normalised later, once joined to the contact's country. -#}
with

source as (
    {{ source_or_empty('erp', 'contacts__phones', {
        '_dlt_id': 'varchar', '_dlt_parent_id': 'varchar', 'phone_type': 'varchar',
        'phone_number': 'varchar', 'phone_area_code': 'varchar',
        'phone_country_code': 'varchar'
    }) }}
),

final as (
    select
        _dlt_id as contact_phone_id,
        _dlt_parent_id as contact_row_id,
        upper(phone_type) as phone_type,
        nullif(trim(concat_ws(' ',
            case when nullif(trim(phone_country_code), '') is not null
                then '+' || trim(phone_country_code) end,
            nullif(trim(phone_area_code), ''),
            nullif(trim(phone_number), '')
        )), '') as phone_as_entered
    from source
    where nullif(trim(phone_number), '') is not null
)

select * from final
