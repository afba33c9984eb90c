{#- Incremental on DuckDB (a table there: the phone normaliser is a Python function):
    a build normalises only the rows dlt loaded since the last one (macros/incremental.sql,
    loaded_since_last_build) and replaces them by company_id. -#}
{{ config(unique_key='company_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}

with

source as (
    {{ source_or_empty('crm', 'companies', {
        'id': 'varchar', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone', 'archived': 'boolean',
        'archived_at': 'timestamp with time zone', '_goldloop_deleted': 'boolean',
        '_dlt_load_id': 'varchar',
        'name': 'varchar', 'domain': 'varchar', 'website': 'varchar', 'phone': 'varchar',
        'address': 'varchar', 'city': 'varchar', 'state': 'varchar', 'zip': 'varchar',
        'country': 'varchar', 'industry': 'varchar', 'hubspot_owner_id': 'varchar'
    }) }}
),

renamed as (
    select
        id as company_id,
        nullif(trim(hubspot_owner_id), '') as owner_id,
        {{ clean_text('name') }} as company_name,
        -- the bare host name: www. and scheme dropped, lower case
        nullif(regexp_replace(lower(trim(coalesce(domain, website))),
            '^(https?://)?(www\.)?([^/]*).*$', '\3'), '') as domain,
        phone as phone_as_entered,
        {{ clean_text('address') }} as address_line1,
        {{ clean_text('city') }} as city,
        {{ clean_text('state') }} as region,
        {{ clean_text('zip') }} as postcode,
        {{ country_code('country') }} as country_code,
        nullif(trim(industry), '') as industry,
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
        company_id,
        owner_id,
        company_name,
        domain,
        {{ normalize_phone('phone_as_entered', 'country_code') }} as phone,
        phone_as_entered,
        {{ tidy_case('address_line1') }} as address_line1,
        {{ tidy_case('city') }} as city,
        region,
        upper(postcode) as postcode,
        country_code,
        industry,
        is_deleted,
        created_at,
        updated_at,
        archived_at,
        load_id
    from renamed
)

select * from final
