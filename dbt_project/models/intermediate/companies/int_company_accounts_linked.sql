{#- Which CRM company each ERP company account belongs to, by the strongest evidence:
      1 crm_reference  the account's ContactNumber is the CRM company id
      2 deal_billing   the account is billed for a deal of that company (DEAL-<id>)
      3 domain         the account's e-mail domain is the company's web domain
      4 name           same name once folded and legal forms dropped (Ltd, Inc, Pty...)
    A rule links only when it names exactly one CRM company (live ones first). One row per
    ERP company account that some rule links. -#}
with

records as (
    select * from {{ ref('int_company_records') }}
),

crm_companies as (
    select * from records where system = 'crm'
),

erp_accounts as (
    select * from records where system = 'erp'
),

deal_companies as (
    select deal_id, min(associated_record_id) as company_id
    from {{ ref('stg_crm__deal_associations') }}
    where associated_object = 'companies'
    group by deal_id
),

deal_invoices as (
    select contact_id, substr(reference, 6) as deal_id
    from {{ ref('stg_erp__invoices') }}
    where is_sales_invoice and not is_deleted and reference like 'DEAL-%'
),

evidence as (
    select erp_accounts.record_id as erp_contact_id, crm_companies.record_id as company_id,
        1 as rule_rank, 'crm_reference' as link_rule, crm_companies.is_deleted
    from erp_accounts
    inner join crm_companies on erp_accounts.crm_company_ref = crm_companies.record_id

    union all

    select erp_accounts.record_id, crm_companies.record_id, 2, 'deal_billing',
        crm_companies.is_deleted
    from erp_accounts
    inner join deal_invoices on erp_accounts.record_id = deal_invoices.contact_id
    inner join deal_companies on deal_invoices.deal_id = deal_companies.deal_id
    inner join crm_companies on deal_companies.company_id = crm_companies.record_id

    union all

    select erp_accounts.record_id, crm_companies.record_id, 3, 'domain',
        crm_companies.is_deleted
    from erp_accounts
    inner join crm_companies on erp_accounts.domain_key = crm_companies.domain_key

    union all

    select erp_accounts.record_id, crm_companies.record_id, 4, 'name', crm_companies.is_deleted
    from erp_accounts
    inner join crm_companies
        on erp_accounts.company_name_key = crm_companies.company_name_key
),

-- per account, the strongest evidence (rule, then live companies first)
ranked as (
    select
        *,
        dense_rank() over (
            partition by erp_contact_id
            order by rule_rank, case when is_deleted then 1 else 0 end
        ) as evidence_rank
    from evidence
),

final as (
    select erp_contact_id, min(company_id) as company_id, min(link_rule) as link_rule
    from ranked
    where evidence_rank = 1
    group by erp_contact_id
    having count(distinct company_id) = 1
)

select * from final
