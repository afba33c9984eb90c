{#- What the crm_contacts sync pushes: one HubSpot contact per golden person customer, golden
    values under HubSpot's property names, upserted by e-mail (HubSpot's idProperty) or by the
    contact id the customer already has. Consent is the most restrictive across systems.

    Left out: business accounts (not persons), deleted customers, customers whose CRM contacts
    were all archived in HubSpot (someone removed them: not re-created), and customers with
    neither an e-mail nor a CRM contact (nothing to upsert by). HubSpot keeps e-mails unique,
    so an e-mail two golden customers share stays with one of them (the one whose contact
    already holds it, else the oldest customer); the other keeps its contact's current e-mail.
    `destination_updated_at` is the contact's last-modified as last extracted: a sync flags a
    contact changed in HubSpot after its last write (its conflict policy decides).

    Incremental by customer (macros/changed_customers.sql): a build reworks the customers whose
    records changed and every customer holding a value one of them holds or held
    (macros/sync_shared_values.sql). -#}
{{ config(pre_hook="{{ forget_changed_customers('sync_key',
        sync_crm__contacts_shared_values) }}",
    post_hook="{{ consume_customer_changes(sync_crm__contacts_shared_values) }}") }}
with

customers as (
    select * from {{ ref('customers') }}
    where not is_deleted and not is_business_account
        and {{ changed_customers_only('customer_id', entangled=true) }}
),

crm_contacts as (
    select contact_id, email, updated_at from {{ ref('stg_crm__contacts') }}
),

candidates as (
    select
        customers.customer_id,
        case when customers.is_in_crm then customers.crm_contact_id end as crm_record_id,
        customers.email,
        crm_contacts.email as crm_email,
        crm_contacts.updated_at as crm_updated_at,
        customers.first_name,
        customers.last_name,
        customers.phone,
        customers.address_line1,
        customers.city,
        customers.postcode,
        customers.country_code,
        customers.has_marketing_consent,
        customers.first_seen_at
    from customers
    left join crm_contacts
        on customers.is_in_crm and customers.crm_contact_id = crm_contacts.contact_id
    -- all of its CRM contacts archived: leave it out of the CRM
    where customers.is_in_crm or customers.crm_contact_id is null
),

email_owners as (
    select
        customer_id,
        row_number() over (
            partition by email
            order by case when crm_email = email then 0 else 1 end,
                first_seen_at nulls last, customer_id
        ) as email_rank
    from candidates
    where email is not null
),

emailed as (
    select
        candidates.*,
        case
            when email_owners.email_rank = 1 then candidates.email
            else candidates.crm_email
        end as proposed_email
    from candidates
    left join email_owners on candidates.customer_id = email_owners.customer_id
),

-- a fallback to the contact's own e-mail can still meet another row's: one holder each
deduplicated as (
    select
        *,
        case when row_number() over (
            partition by proposed_email
            order by case when crm_email = proposed_email then 0 else 1 end,
                first_seen_at nulls last, customer_id
        ) = 1 then proposed_email end as sync_email
    from emailed
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as sync_key,
        cast(sync_email as {{ dbt.type_string() }}) as email,
        cast(first_name as {{ dbt.type_string() }}) as firstname,
        cast(last_name as {{ dbt.type_string() }}) as lastname,
        cast(phone as {{ dbt.type_string() }}) as phone,
        cast(address_line1 as {{ dbt.type_string() }}) as address,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(postcode as {{ dbt.type_string() }}) as zip,
        cast({{ country_name('country_code') }} as {{ dbt.type_string() }}) as country,
        cast(case when has_marketing_consent then 'false' else 'true' end
            as {{ dbt.type_string() }}) as hs_email_optout,
        cast(crm_record_id as {{ dbt.type_string() }}) as crm_record_id,
        cast(case when crm_record_id is not null then crm_updated_at end as timestamp)
            as destination_updated_at
    from deduplicated
    where sync_email is not null or crm_record_id is not null
)

select * from final
