{#- An incremental table on DuckDB (why: dbt_project.yml), replaced by contact_id for the
    contacts dlt loaded since the last build (macros/incremental.sql); elsewhere a view. -#}
{{ config(unique_key='contact_id') }}

with

source as (
    {{ source_or_empty('erp', 'contacts', {
        'contact_id': 'varchar', '_dlt_id': 'varchar', 'contact_number': 'varchar',
        'name': 'varchar', 'first_name': 'varchar', 'last_name': 'varchar',
        'email_address': 'varchar', 'contact_status': 'varchar', 'is_customer': 'boolean',
        'is_supplier': 'boolean', '_goldloop_deleted': 'boolean', '_dlt_load_id': 'varchar',
        'updated_date_utc': 'timestamp with time zone'
    }) }}
),

final as (
    select
        contact_id,
        _dlt_id as contact_row_id,
        nullif(trim(contact_number), '') as contact_number,
        {{ clean_text('name') }} as contact_name,
        -- Xero names must be unique: a second "Ann Lee" is often saved as "Ann Lee (Acme Ltd)",
        -- naming her employer ("Ann Lee (2)" names nobody)
        {{ regexp_group(clean_text('name'), '\(([^)]*[a-zA-Z][^)]*)\)$') }} as employer_name,
        {{ tidy_case(clean_text('first_name')) }} as first_name,
        {{ tidy_case(clean_text('last_name')) }} as last_name,
        {{ normalize_email('email_address') }} as email,
        upper(contact_status) as contact_status,
        coalesce(is_customer, false) as is_customer,
        coalesce(is_supplier, false) as is_supplier,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('updated_date_utc') }} as updated_at,
        _dlt_load_id as load_id
    from source
    where {{ loaded_since_last_build() }}
)

select * from final
