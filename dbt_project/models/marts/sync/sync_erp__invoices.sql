{#- What the deal_invoices sync pushes: an ERP sales invoice (ACCREC) for each live closed-won
    CRM deal that no live ERP invoice bills yet (Reference DEAL-<deal id>, how finance and the
    deals_vs_invoices report tie the two). Billed to the live ERP account of the deal's golden
    company (marts/core/companies), else
    the ERP contact of the deal's first contact; when neither is known `contact_id` is null and
    `contact_name` names the company (or person) for Xero to find or create by name.

    Lines come from the deal's line items, coded with the ERP item code of their product (the
    shop SKU when the ERP has no item for it); a deal without line items is billed as one line
    of its amount. `line_items` is a JSON array text of {ItemCode, Description, Quantity,
    UnitAmount}; `total` is their sum. -#}
with

deals as (
    select * from {{ ref('deals') }}
    where is_closed_won and not is_deleted and invoice_count = 0
),

companies as (
    select
        crm_company_id,
        company_name,
        case when is_in_erp then erp_contact_id end as live_erp_contact_id
    from {{ ref('companies') }}
),

-- the associations of the deals to invoice only
deal_associations as (
    select * from {{ ref('stg_crm__deal_associations') }}
    where deal_id in (select deal_id from deals)
),

line_items as (
    select * from {{ ref('stg_crm__line_items') }}
    where not is_deleted
),

product_xref as (
    select * from {{ ref('product_xref') }}
    where system = 'crm'
),

products as (
    select * from {{ ref('products') }}
),

customer_xref as (
    select * from {{ ref('customer_xref') }}
    where system = 'crm'
),

customers as (
    select * from {{ ref('customers') }}
),

first_contacts as (
    select deal_id, min(associated_record_id) as contact_id
    from deal_associations
    where associated_object = 'contacts'
    group by deal_id
),

deal_people as (
    select
        first_contacts.deal_id,
        case when customers.is_in_erp then customers.erp_contact_id end as erp_contact_id,
        nullif(trim(coalesce(customers.first_name, '') || ' '
            || coalesce(customers.last_name, '')), '') as person_name
    from first_contacts
    inner join customer_xref on first_contacts.contact_id = customer_xref.record_id
    inner join customers on customer_xref.customer_id = customers.customer_id
),

lines as (
    select
        deal_associations.deal_id,
        coalesce(products.erp_item_code, products.sku, line_items.sku) as item_code,
        line_items.line_item_name as description,
        line_items.quantity,
        line_items.unit_price as unit_amount,
        line_items.line_item_id as line_order
    from deal_associations
    inner join line_items on deal_associations.associated_record_id = line_items.line_item_id
    left join product_xref on line_items.product_id = product_xref.record_id
    left join products on product_xref.product_id = products.product_id
    where deal_associations.associated_object = 'line_items'
),

-- one line of the deal's amount when the deal has no line items
deal_lines as (
    select deal_id, item_code, description, quantity, unit_amount, line_order from lines

    union all

    select
        deals.deal_id,
        cast(null as {{ dbt.type_string() }}),
        deals.deal_name,
        cast(1 as decimal(18, 4)),
        deals.amount,
        ''
    from deals
    where not exists (select 1 from lines where lines.deal_id = deals.deal_id)
),

line_summaries as (
    select
        deal_id,
        {{ json_array_agg([
            ('ItemCode', 'item_code'), ('Description', 'description'),
            ('Quantity', 'quantity'), ('UnitAmount', 'unit_amount')], 'line_order') }}
            as line_items,
        count(*) as line_count,
        cast(sum(round(quantity * unit_amount, 2)) as decimal(18, 2)) as total
    from deal_lines
    group by deal_id
),

final as (
    select
        cast(deals.deal_id as {{ dbt.type_string() }}) as sync_key,
        cast(coalesce(companies.live_erp_contact_id, deal_people.erp_contact_id)
            as {{ dbt.type_string() }}) as contact_id,
        cast(case
            when companies.live_erp_contact_id is null and deal_people.erp_contact_id is null
                then coalesce(companies.company_name, deal_people.person_name)
        end as {{ dbt.type_string() }}) as contact_name,
        cast('DEAL-' || deals.deal_id as {{ dbt.type_string() }}) as reference,
        cast(deals.currency_code as {{ dbt.type_string() }}) as currency_code,
        cast(line_summaries.line_items as {{ dbt.type_string() }}) as line_items,
        cast(line_summaries.line_count as integer) as line_count,
        line_summaries.total,
        cast(deals.amount as decimal(18, 2)) as deal_amount,
        cast(coalesce(deals.closed_at, deals.updated_at) as date) as date,
        cast({{ dbt.dateadd('day', var('deal_invoice_due_days'), 'cast(coalesce(deals.closed_at, deals.updated_at) as date)') }}
            as date) as due_date
    from deals
    inner join line_summaries on deals.deal_id = line_summaries.deal_id
    left join companies on deals.company_id = companies.crm_company_id
    left join deal_people on deals.deal_id = deal_people.deal_id
)

select * from final
