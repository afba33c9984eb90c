{#- What the erp_contacts sync pushes: one Xero contact per golden person customer, golden
    values under Xero's field names; `contact_id` is the ContactID to update (null: create).

    Xero rejects a Name another active contact has (case-insensitive), so an existing contact
    keeps its Name, and a new one is named after the person (else the e-mail, else the
    customer id) with " (<customer id>)" added when that name is taken by any live ERP contact
    or another new row. ContactNumber is Xero's external reference: an existing one is kept
    (it often holds the CRM id), otherwise it is the customer id.

    Left out: business accounts, deleted customers, and customers whose ERP contacts were all
    archived in Xero (not re-created). -#}
with

customers as (
    select * from {{ ref('customers') }}
    where not is_deleted and not is_business_account
),

erp_contacts as (
    select * from {{ ref('stg_erp__contacts') }}
),

live_names as (
    select distinct lower(contact_name) as name_key
    from erp_contacts
    where not is_deleted and contact_name is not null
),

candidates as (
    select
        customers.customer_id,
        case when customers.is_in_erp then customers.erp_contact_id end as contact_id,
        erp_contacts.contact_name as existing_name,
        erp_contacts.contact_number as existing_contact_number,
        coalesce(
            nullif(trim(coalesce(customers.first_name, '') || ' '
                || coalesce(customers.last_name, '')), ''),
            customers.email,
            customers.customer_id) as person_name,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone,
        customers.address_line1,
        customers.city,
        customers.postcode,
        customers.country_code
    from customers
    left join erp_contacts
        on customers.is_in_erp and customers.erp_contact_id = erp_contacts.contact_id
    -- all of its ERP contacts archived: leave it out of the ERP
    where customers.is_in_erp or customers.erp_contact_id is null
),

new_name_counts as (
    select lower(person_name) as name_key, count(*) as rows_with_name
    from candidates
    where contact_id is null
    group by lower(person_name)
),

named as (
    select
        candidates.*,
        case
            when candidates.contact_id is not null then candidates.existing_name
            when live_names.name_key is not null or new_name_counts.rows_with_name > 1
                then candidates.person_name || ' (' || candidates.customer_id || ')'
            else candidates.person_name
        end as contact_name
    from candidates
    left join live_names on lower(candidates.person_name) = live_names.name_key
    left join new_name_counts on lower(candidates.person_name) = new_name_counts.name_key
),

final as (
    select
        cast(customer_id as {{ dbt.type_string() }}) as sync_key,
        cast(contact_id as {{ dbt.type_string() }}) as contact_id,
        cast(contact_name as {{ dbt.type_string() }}) as name,
        cast(first_name as {{ dbt.type_string() }}) as first_name,
        cast(last_name as {{ dbt.type_string() }}) as last_name,
        cast(email as {{ dbt.type_string() }}) as email_address,
        cast(phone as {{ dbt.type_string() }}) as phone,
        cast(address_line1 as {{ dbt.type_string() }}) as address_line1,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(postcode as {{ dbt.type_string() }}) as postal_code,
        cast({{ country_name('country_code') }} as {{ dbt.type_string() }}) as country,
        cast(coalesce(existing_contact_number, customer_id) as {{ dbt.type_string() }})
            as contact_number
    from named
)

select * from final
