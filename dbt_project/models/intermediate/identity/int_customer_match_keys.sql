{#- Deterministic match keys: records that share a key (same rule, same value) are the same
    customer. A cross-reference is a key too: a CRM contact carries its own id as `crm_ref` and
    the ERP contact whose ContactNumber names it carries the same value. -#}
with

records as (
    select * from {{ ref('int_customer_records') }}
),

keys as (
    -- CRM contact <-> ERP contact: Xero ContactNumber holds the CRM id
    select record_key, 'crm_erp_reference' as match_rule, crm_contact_ref as match_value
    from records
    where crm_contact_ref is not null

    union all

    -- CRM contact <-> ERP contact: the CRM's erp_contact_id property holds the Xero ContactID
    select record_key, 'crm_erp_reference', 'erp:' || erp_contact_ref
    from records
    where erp_contact_ref is not null

    union all

    select record_key, 'email', email_key
    from records
    where email_key is not null

    union all

    -- a phone is shared within households and desks: it needs a name too. The last nine
    -- digits are compared, so a number read in the wrong country still matches.
    select record_key, 'phone_last_name', phone_key || '|' || last_name_key
    from records
    where phone_key is not null and last_name_key is not null

    union all

    select record_key, 'phone_first_name', phone_key || '|' || first_name_key
    from records
    where phone_key is not null and first_name_key is not null

    union all

    select record_key, 'name_postcode',
        first_name_key || ' ' || last_name_key || '|' || postcode_key
    from records
    where first_name_key is not null and last_name_key is not null and postcode_key is not null

    union all

    -- same street line and postcode, same family name and first initial (A. Robinson)
    select record_key, 'address_last_name',
        street_key || '|' || postcode_key || '|' || last_name_key || '|' || left(first_name_key, 1)
    from records
    where street_key is not null and postcode_key is not null
        and last_name_key is not null and first_name_key is not null

    union all

    -- same street line and postcode, same first name and family initial (a typo in the name)
    select record_key, 'address_first_name',
        street_key || '|' || postcode_key || '|' || first_name_key || '|' || left(last_name_key, 1)
    from records
    where street_key is not null and postcode_key is not null
        and last_name_key is not null and first_name_key is not null
),

final as (
    select distinct record_key, match_rule, match_value
    from keys
    where match_rule in ('{{ var("identity_rules") | join("', '") }}')
)

select * from final
