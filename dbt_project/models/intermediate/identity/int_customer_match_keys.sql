{#- Deterministic match keys: records that share a key (same rule, same value) are the same
    customer. A cross-reference is a key too: a CRM contact carries its own id as `crm_ref` and
    the ERP contact whose ContactNumber names it carries the same value; a shop customer carries
    the ERP contact its orders were invoiced to (Xero Reference = <shop>/<order name>). -#}
with

records as (
    select * from {{ ref('int_customer_records') }}
),

orders as (
    select customer_record_id, order_reference from {{ ref('stg_shop__orders') }}
    where customer_record_id is not null
),

sales_invoices as (
    select contact_id, reference from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and contact_id is not null and reference is not null
),

-- the ERP contacts that are people: an account billed for many buyers (a shop's cash-sale
-- account) names no person and links nobody
person_erp_contacts as (
    select record_key, record_id as contact_id from records
    where system = 'erp' and (first_name_key is not null or last_name_key is not null)
),

shop_customers as (
    select record_key, record_id as customer_record_id from records where system = 'shop'
),

order_invoices as (
    select distinct
        shop_customers.record_key as shop_record_key,
        person_erp_contacts.record_key as erp_record_key,
        person_erp_contacts.contact_id
    from orders
    inner join shop_customers on orders.customer_record_id = shop_customers.customer_record_id
    inner join sales_invoices on orders.order_reference = sales_invoices.reference
    inner join person_erp_contacts on sales_invoices.contact_id = person_erp_contacts.contact_id
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

    union all

    -- a shop customer and the ERP contact its orders were invoiced to
    select shop_record_key, 'order_invoice', contact_id from order_invoices

    union all

    select erp_record_key, 'order_invoice', contact_id from order_invoices
),

final as (
    select distinct record_key, match_rule, match_value
    from keys
    where match_rule in ('{{ var("identity_rules") | join("', '") }}')
)

select * from final
