{#- Every customer record of every system in one shape: the identity layer's input.
    CRM contacts, ERP contacts and shop customers (each shop's own record), with the golden
    candidate values (already normalised in staging), fold-case match fields and the anchor
    label that orders records oldest first for stable golden ids.

    `record_sources` says where each column comes from per source; a column not named takes the
    source's column of the same name.

    Incremental: a build reworks the records dlt loaded since the last one (their staging rows'
    load_id, macros/incremental.sql) and replaces them by record_key (stamped `built_at`); it
    never deletes one (a full refresh rewrites every row). -#}
{{ config(materialized='incremental', unique_key='record_key',
    incremental_strategy='delete+insert', on_schema_change='append_new_columns') }}
{%- set columns = ['record_id', 'crm_contact_ref', 'erp_contact_ref', 'email', 'first_name',
    'last_name', 'employer_name', 'phone', 'phone_as_entered', 'address_line1', 'city', 'region',
    'postcode', 'country_code', 'has_marketing_consent', 'created_at', 'updated_at', 'is_deleted',
    'load_id'] -%}
{%- set record_sources = {
    'crm_contacts': {
        'system': 'crm', 'object': 'contacts', 'record_id': 'contact_id',
        'crm_contact_ref': 'contact_id', 'erp_contact_ref': 'erp_contact_id',
        'has_marketing_consent': 'not is_email_opted_out',
        'employer_name': 'cast(null as ' ~ dbt.type_string() ~ ')'},
    'erp_contacts': {
        'system': 'erp', 'object': 'contacts', 'record_id': 'contact_id',
        'crm_contact_ref': 'contact_number', 'erp_contact_ref': 'contact_id',
        'has_marketing_consent': 'cast(null as boolean)',
        'created_at': 'cast(null as timestamp)'},
    'shop_customers': {
        'system': 'shop', 'object': 'customers', 'record_id': 'customer_record_id',
        'crm_contact_ref': 'cast(null as ' ~ dbt.type_string() ~ ')',
        'erp_contact_ref': 'cast(null as ' ~ dbt.type_string() ~ ')',
        'employer_name': 'cast(null as ' ~ dbt.type_string() ~ ')',
        'has_marketing_consent': 'accepts_marketing'},
} -%}
with

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

erp_contacts as (
    select * from {{ ref('int_erp_contacts_addressed') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

domain_corrections as (
    select * from {{ ref('email_domain_corrections') }}
),

unioned as (
    {%- for relation, spec in record_sources.items() %}
    select
        '{{ spec['system'] }}' as system,
        '{{ spec['object'] }}' as object,
        {%- for column in columns %}
        {{ spec.get(column, column) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    where {{ loaded_since_last_build('load_id') }}
    {% if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}
),

with_email_parts as (
    select
        *,
        {{ dbt.split_part(email_without_tag('email'), "'@'", 1) }} as email_local_part,
        {{ dbt.split_part('email', "'@'", 2) }} as email_domain,
        regexp_replace(phone_as_entered, '[^0-9]', '', 'g') as phone_as_entered_digits
    from unioned
),

final as (
    select
        {{ record_key('system', 'object', 'record_id') }} as record_key,
        system,
        object,
        record_id,
        crm_contact_ref,
        erp_contact_ref,
        email,
        first_name,
        last_name,
        employer_name,
        phone,
        address_line1,
        city,
        region,
        postcode,
        country_code,
        case when email is not null then email_local_part || '@'
            || coalesce(domain_corrections.domain, email_domain) end as email_key,
        -- the last nine digits; a number the phone parser could not read (0011 61 4..) still
        -- ends in the same digits, so its typed form is the fallback
        case
            when length(phone) >= 10 then right(phone, 9)
            when length(phone_as_entered_digits) >= 10 then right(phone_as_entered_digits, 9)
        end as phone_key,
        {{ fold_text('first_name') }} as first_name_key,
        {{ fold_text('last_name') }} as last_name_key,
        {{ fold_street('address_line1') }} as street_key,
        {{ fold_postcode('postcode') }} as postcode_key,
        has_marketing_consent,
        created_at,
        updated_at,
        is_deleted,
        load_id,
        -- oldest record first (unknown creation last), then system priority, then key
        lpad(cast(coalesce(cast(extract(epoch from created_at) as bigint), 99999999999)
            as varchar), 12, '0')
            || ':' || case system
            {%- for system in var('system_priority') %}
                when '{{ system }}' then '{{ loop.index }}'
            {%- endfor %}
                else '9' end
            || '|' || {{ record_key('system', 'object', 'record_id') }} as anchor_label,
        -- when the build that wrote the row started: the clusterings compare the anchor labels
        -- of the records written since they last clustered (macros/connected_components.sql)
        {{ build_started_at() }} as built_at
    from with_email_parts
    left join domain_corrections on with_email_parts.email_domain = domain_corrections.typo_domain
)

select * from final
