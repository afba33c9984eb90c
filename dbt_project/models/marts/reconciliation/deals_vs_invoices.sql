{#- Won CRM deals against the ERP invoices that bill them (Xero Reference = DEAL-<deal id>).
    One row per break:
      deal_won_not_invoiced         a live closed-won deal with no live invoice
      deal_invoice_amount_mismatch  the deal's invoices total differently from the deal amount
    `system`/`record_id` name the record to fix: the CRM deal, or the ERP invoice. -#}
with

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

invoices as (
    select * from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and not is_deleted
),

won_deals as (
    select * from deals
    where is_closed_won and not is_deleted
),

deal_invoices as (
    select
        won_deals.deal_id,
        won_deals.amount as deal_amount,
        invoices.invoice_id,
        invoices.invoice_number,
        invoices.total_amount as invoice_amount,
        sum(invoices.total_amount) over (partition by won_deals.deal_id) as invoiced_amount
    from won_deals
    inner join invoices on invoices.reference = 'DEAL-' || won_deals.deal_id
),

not_invoiced as (
    select
        'deal_won_not_invoiced' as break_kind,
        'crm' as system,
        won_deals.deal_id as record_id,
        won_deals.deal_id,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as invoice_number,
        won_deals.amount as deal_amount,
        cast(null as decimal(18, 2)) as invoiced_amount,
        won_deals.closed_at
    from won_deals
    where not exists (
        select 1 from deal_invoices where deal_invoices.deal_id = won_deals.deal_id
    )
),

mismatched as (
    select
        'deal_invoice_amount_mismatch' as break_kind,
        'erp' as system,
        deal_invoices.invoice_id as record_id,
        deal_invoices.deal_id,
        deal_invoices.invoice_id,
        deal_invoices.invoice_number,
        deal_invoices.deal_amount,
        deal_invoices.invoiced_amount,
        won_deals.closed_at
    from deal_invoices
    inner join won_deals on deal_invoices.deal_id = won_deals.deal_id
    where abs(deal_invoices.invoiced_amount - deal_invoices.deal_amount)
        >= {{ var('amount_tolerance') }}
),

unioned as (
    select * from not_invoiced
    union all
    select * from mismatched
),

final as (
    select
        {{ stable_id('brk_', "break_kind || ':' || record_id") }} as break_id,
        break_kind,
        system,
        record_id,
        deal_id,
        invoice_id,
        invoice_number,
        deal_amount,
        invoiced_amount,
        invoiced_amount - deal_amount as amount_difference,
        closed_at
    from unioned
)

select * from final
