{#- Deterministic match keys: records that share a key (same rule, same value) are the same
    customer. A cross-reference is a key too: a CRM contact carries its own id as `crm_ref` and
    the ERP contact whose ContactNumber names it carries the same value; a shop customer carries
    the ERP contact its orders were invoiced to (Xero Reference = <shop>/<order name>).

    Incremental (macros/match_keys.sql): a build rekeys the records dlt loaded since the last
    one and applies the difference in the order_invoice keys of the ERP contacts the loaded
    orders, invoices and records touch; each key row keeps its record's
    load_id (null for order_invoice keys). -#}
{{ config(materialized='incremental', incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_changed_keys(ref('int_customer_records'), ref('stg_shop__orders'),
                                     ref('stg_erp__invoices')) }}",
    post_hook="{{ log_changed_keys(ref('stg_shop__orders'), ref('stg_erp__invoices')) }}") }}
with

records as (
    select * from {{ ref('int_customer_records') }}
    {%- if is_incremental() %}
    where record_key in (select record_key from {{ state_table('changed') }})
    {%- endif %}
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

-- a shop customer and the ERP contact its orders were invoiced to: the ones this table lacks
-- (compared with the order_invoice keys of the same records only, not every key held)
order_invoice_keys as (
    {%- if is_incremental() %}
    select record_key, match_rule, match_value from {{ state_table('order_invoice') }}
    except
    select record_key, match_rule, match_value from {{ this }}
    where match_rule = 'order_invoice'
        and record_key in (select record_key from {{ state_table('order_invoice') }})
    {%- else %}
    {{ order_invoice_keys_sql(ref('int_customer_records'), ref('stg_shop__orders'),
        ref('stg_erp__invoices')) }}
    {%- endif %}
),

keyed as (
    select distinct keys.record_key, keys.match_rule, keys.match_value, records.load_id
    from keys
    inner join records on keys.record_key = records.record_key

    union all

    select record_key, match_rule, match_value, cast(null as {{ dbt.type_string() }})
    from order_invoice_keys
),

final as (
    select record_key, match_rule, match_value, load_id
    from keyed
    where match_rule in ('{{ var("identity_rules") | join("', '") }}')
)

select * from final
