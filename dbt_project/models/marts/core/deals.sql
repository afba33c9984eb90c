{#- CRM deals with what the ERP invoiced for them (live invoices referencing DEAL-<id>). -#}
with

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and not is_deleted and reference like 'DEAL-%'
),

invoiced as (
    select
        substr(reference, 6) as deal_id,
        count(*) as invoice_count,
        sum(total_amount) as invoiced_amount
    from invoices
    group by substr(reference, 6)
),

primary_companies as (
    select deal_id, min(associated_record_id) as company_id
    from {{ ref('stg_crm__deal_associations') }}
    where associated_object = 'companies'
    group by deal_id
),

final as (
    select
        deals.deal_id,
        primary_companies.company_id,
        deals.owner_id,
        deals.deal_name,
        deals.deal_stage,
        deals.currency_code,
        deals.amount,
        cast(coalesce(invoiced.invoiced_amount, 0) as decimal(18, 2)) as invoiced_amount,
        coalesce(invoiced.invoice_count, 0) as invoice_count,
        deals.is_closed,
        deals.is_closed_won,
        deals.is_deleted,
        deals.closed_at,
        deals.created_at,
        deals.updated_at
    from deals
    left join invoiced on deals.deal_id = invoiced.deal_id
    left join primary_companies on deals.deal_id = primary_companies.deal_id
)

select * from final
