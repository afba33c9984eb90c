{#- Incremental on DuckDB (a table there: the phone normaliser is a Python function):
    a build normalises only the rows dlt loaded since the last one (macros/incremental.sql,
    loaded_since_last_build) and replaces them by contact_id. -#}
{{ config(unique_key='contact_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}

with

source as (
    {{ source_or_empty('crm', 'contacts', {
        'id': 'varchar', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        'archived_at': 'timestamp with time zone', '_goldloop_deleted': 'boolean',
        '_dlt_load_id': 'varchar',
        'email': 'varchar', 'firstname': 'varchar', 'lastname': 'varchar', 'phone': 'varchar',
        'mobilephone': 'varchar', 'address': 'varchar', 'city': 'varchar', 'state': 'varchar',
        'zip': 'varchar', 'country': 'varchar', 'company': 'varchar', 'jobtitle': 'varchar',
        'lifecyclestage': 'varchar', 'hubspot_owner_id': 'varchar',
        'associatedcompanyid': 'varchar', 'hs_email_optout': 'varchar',
        'erp_contact_id': 'varchar'
    }) }}
),

renamed as (
    select
        id as contact_id,
        nullif(trim(associatedcompanyid), '') as company_id,
        nullif(trim(hubspot_owner_id), '') as owner_id,
        nullif(trim(erp_contact_id), '') as erp_contact_id,
        {{ normalize_email('email') }} as email,
        {{ clean_text('firstname') }} as first_name,
        {{ clean_text('lastname') }} as last_name,
        phone as phone_as_entered,
        mobilephone as mobile_phone_as_entered,
        {{ clean_text('address') }} as address_line1,
        {{ clean_text('city') }} as city,
        {{ clean_text('state') }} as region,
        {{ clean_text('zip') }} as postcode,
        {{ country_code('country') }} as country_code,
        {{ clean_text('company') }} as company_name,
        {{ clean_text('jobtitle') }} as job_title,
        nullif(trim(lifecyclestage), '') as lifecycle_stage,
        coalesce(lower(trim(hs_email_optout)) = 'true', false) as is_email_opted_out,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ to_utc('archived_at') }} as archived_at,
        _dlt_load_id as load_id
    from source
    where {{ loaded_since_last_build() }}
),

final as (
    select
        contact_id,
        company_id,
        owner_id,
        erp_contact_id,
        email,
        {{ tidy_case('first_name') }} as first_name,
        {{ tidy_case('last_name') }} as last_name,
        {{ normalize_phone('phone_as_entered', 'country_code') }} as phone,
        {{ normalize_phone('mobile_phone_as_entered', 'country_code') }} as mobile_phone,
        phone_as_entered,
        {{ tidy_case('address_line1') }} as address_line1,
        {{ tidy_case('city') }} as city,
        region,
        upper(postcode) as postcode,
        country_code,
        company_name,
        job_title,
        lifecycle_stage,
        is_email_opted_out,
        is_deleted,
        created_at,
        updated_at,
        archived_at,
        load_id
    from renamed
)

select * from final
