{#- What the erp_contacts sync pushes: one Xero contact per golden person customer, golden
    values under Xero's field names; `contact_id` is the ContactID to update (null: create).

    Xero rejects a Name another active contact has (case-insensitive), so an existing contact
    keeps its Name, and a new one is named after the person (else the e-mail, else the
    customer id) with " (<customer id>)" added when that name is taken by any live ERP contact
    or another new row.

    ContactNumber is Xero's external reference, and a create without a ContactID updates the
    contact holding its number (archived ones too): it is unique in this feed and a new number
    is never one another contact holds.
    - An existing contact keeps its own number (it often holds the CRM id). When several of the
      feed's contacts share one (duplicates in Xero, or a cluster split by identity
      resolution), the lowest ContactID keeps it and the others send none: they are updated by
      ContactID and Xero keeps their number.
    - A new contact (or an existing one without a number) gets the customer id, or, when
      another contact already holds it (a customer whose cluster was re-keyed after a round
      trip), the customer id with "-<n>" added, n one more than the contacts holding it or a
      suffixed form of it.

    `destination_updated_at` is the contact's UpdatedDateUTC as last extracted (conflicts).

    Left out: business accounts, deleted customers, and customers whose ERP contacts were all
    archived in Xero (not re-created).

    Incremental by customer (macros/changed_customers.sql): a build reworks the customers whose
    records changed and every customer holding a value one of them holds or held
    (macros/sync_shared_values.sql). -#}
{{ config(pre_hook="{{ forget_changed_customers('sync_key',
        sync_erp__contacts_shared_values) }}",
    post_hook="{{ consume_customer_changes(sync_erp__contacts_shared_values) }}") }}
with

customers as (
    select * from {{ ref('customers') }}
    where not is_deleted and not is_business_account
        and {{ changed_customers_only('customer_id', entangled=true) }}
),

erp_contacts as (
    select * from {{ ref('stg_erp__contacts') }}
),

live_names as (
    select distinct lower(contact_name) as name_key
    from erp_contacts
    where not is_deleted and contact_name is not null
),

-- every ContactNumber Xero holds (archived contacts too), by its unsuffixed form
held_numbers as (
    select
        contact_id,
        lower(contact_number) as number_key,
        regexp_replace(lower(contact_number), '-[0-9]+$', '') as base_key
    from erp_contacts
    where contact_number is not null
),

candidates as (
    select
        customers.customer_id,
        case when customers.is_in_erp then customers.erp_contact_id end as contact_id,
        erp_contacts.contact_name as existing_name,
        erp_contacts.contact_number as existing_contact_number,
        erp_contacts.updated_at as erp_updated_at,
        {{ erp_person_name('customers') }} as person_name,
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

-- an existing contact's own number: one holder per number in the feed
own_numbers as (
    select
        customer_id,
        existing_contact_number as own_number,
        row_number() over (
            partition by lower(existing_contact_number) order by contact_id
        ) as holder_rank
    from named
    where contact_id is not null and existing_contact_number is not null
),

-- rows that need a number: the customer id, unless another contact holds it
number_holders as (
    select
        named.customer_id,
        count(case when held_numbers.number_key = lower(named.customer_id) then 1 end)
            as exact_holders,
        count(held_numbers.contact_id) as prefix_holders
    from named
    left join held_numbers
        on held_numbers.base_key = lower(named.customer_id)
        and held_numbers.contact_id <> coalesce(named.contact_id, '')
    where named.contact_id is null or named.existing_contact_number is null
    group by named.customer_id
),

numbered as (
    select
        named.*,
        case
            when own_numbers.holder_rank = 1 then own_numbers.own_number
            when own_numbers.customer_id is not null then null
            when number_holders.exact_holders = 0 then named.customer_id
            else named.customer_id || '-'
                || cast(number_holders.prefix_holders + 1 as {{ dbt.type_string() }})
        end as contact_number
    from named
    left join own_numbers on named.customer_id = own_numbers.customer_id
    left join number_holders on named.customer_id = number_holders.customer_id
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
        cast(contact_number as {{ dbt.type_string() }}) as contact_number,
        cast(case when contact_id is not null then erp_updated_at end as timestamp)
            as destination_updated_at
    from numbered
)

select * from final
