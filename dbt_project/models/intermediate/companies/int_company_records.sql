{#- Every company record in one shape: CRM companies and the ERP contacts that are company
    accounts (no person named, and not a shop's cash-sale account: one that bills shop orders),
    with fold-case match fields. -#}
with

crm_companies as (
    select * from {{ ref('stg_crm__companies') }}
),

erp_contacts as (
    select * from {{ ref('int_erp_contacts_addressed') }}
    where first_name is null and last_name is null
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice
),

shop_orders as (
    select order_reference from {{ ref('stg_shop__orders') }}
),

-- the accounts shop sales are billed to (one per shop), not companies
cash_sale_accounts as (
    select distinct invoices.contact_id
    from invoices
    inner join shop_orders on invoices.reference = shop_orders.order_reference
),

unioned as (
    select
        'crm' as system,
        'companies' as object,
        company_id as record_id,
        company_id as crm_company_ref,
        company_name,
        domain,
        cast(null as {{ dbt.type_string() }}) as email,
        phone,
        address_line1,
        city,
        region,
        postcode,
        country_code,
        industry,
        is_deleted,
        created_at,
        updated_at
    from crm_companies

    union all

    select
        'erp',
        'contacts',
        erp_contacts.contact_id,
        erp_contacts.contact_number,
        erp_contacts.contact_name,
        cast(null as {{ dbt.type_string() }}),
        erp_contacts.email,
        erp_contacts.phone,
        erp_contacts.address_line1,
        erp_contacts.city,
        erp_contacts.region,
        erp_contacts.postcode,
        erp_contacts.country_code,
        cast(null as {{ dbt.type_string() }}),
        erp_contacts.is_deleted,
        cast(null as timestamp),
        erp_contacts.updated_at
    from erp_contacts
    where erp_contacts.contact_id not in (
        select contact_id from cash_sale_accounts where contact_id is not null)
),

final as (
    select
        {{ record_key('system', 'object', 'record_id') }} as record_key,
        system,
        object,
        record_id,
        crm_company_ref,
        company_name,
        domain,
        email,
        phone,
        address_line1,
        city,
        region,
        postcode,
        country_code,
        industry,
        {{ fold_company_name('company_name') }} as company_name_key,
        coalesce(domain, {{ dbt.split_part('email', "'@'", 2) }}) as domain_key,
        is_deleted,
        created_at,
        updated_at
    from unioned
)

select * from final
