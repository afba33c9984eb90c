{#- ERP contacts with the address and phone Xero keeps in child lists, flattened: the street
    address if filled, else the postal one; the DEFAULT phone, else mobile, else direct dial,
    read in the address's country. One row per contact.

    On DuckDB an incremental table (dbt_project.yml): the phone is read by goldloop_phone_e164(),
    a Python function, so a build reads only the contacts of dlt loads it has not processed
    (macros/incremental.sql) and replaces them by contact_id. -#}
{{ config(unique_key='contact_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
with

contacts as (
    select * from {{ ref('stg_erp__contacts') }}
    where {{ loaded_since_last_build('load_id') }}
),

-- the child lists of those contacts only
addresses as (
    select * from {{ ref('stg_erp__contact_addresses') }}
    where contact_row_id in (select contact_row_id from contacts)
),

phones as (
    select * from {{ ref('stg_erp__contact_phones') }}
    where contact_row_id in (select contact_row_id from contacts)
),

ranked_addresses as (
    select
        *,
        row_number() over (
            partition by contact_row_id
            order by case address_type when 'STREET' then 1 when 'POBOX' then 2 else 3 end,
                contact_address_id
        ) as address_rank
    from addresses
),

ranked_phones as (
    select
        *,
        row_number() over (
            partition by contact_row_id
            order by case phone_type when 'DEFAULT' then 1 when 'MOBILE' then 2
                when 'DDI' then 3 else 4 end,
                contact_phone_id
        ) as phone_rank
    from phones
    where phone_type <> 'FAX'
),

final as (
    select
        contacts.contact_id,
        contacts.contact_number,
        contacts.contact_name,
        contacts.employer_name,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        {{ normalize_phone('ranked_phones.phone_as_entered', 'ranked_addresses.country_code') }}
            as phone,
        ranked_phones.phone_as_entered,
        ranked_addresses.address_line1,
        ranked_addresses.city,
        ranked_addresses.region,
        ranked_addresses.postcode,
        ranked_addresses.country_code,
        contacts.contact_status,
        contacts.is_customer,
        contacts.is_supplier,
        contacts.is_deleted,
        contacts.updated_at,
        contacts.load_id
    from contacts
    left join ranked_addresses
        on contacts.contact_row_id = ranked_addresses.contact_row_id
        and ranked_addresses.address_rank = 1
    left join ranked_phones
        on contacts.contact_row_id = ranked_phones.contact_row_id
        and ranked_phones.phone_rank = 1
)

select * from final
