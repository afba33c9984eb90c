{#- Which golden company each company record belongs to: a CRM company with the ERP accounts
    linked to it (int_company_accounts_linked), or an ERP account no CRM company claims, alone.
    company_id = com_ + 16 hex digits of md5(the CRM company's record key, else the ERP
    account's): stable while the CRM company exists. -#}
with

records as (
    select * from {{ ref('int_company_records') }}
),

links as (
    select * from {{ ref('int_company_accounts_linked') }}
),

anchored as (
    select
        records.record_key,
        records.system,
        records.object,
        records.record_id,
        case
            when records.system = 'crm' then records.record_key
            when links.company_id is not null
                then {{ record_key("'crm'", "'companies'", 'links.company_id') }}
            else records.record_key
        end as anchor_record_key,
        links.link_rule
    from records
    left join links on records.system = 'erp' and records.record_id = links.erp_contact_id
),

final as (
    select
        {{ stable_id('com_', 'anchor_record_key') }} as company_id,
        record_key,
        system,
        object,
        record_id,
        anchor_record_key,
        record_key = anchor_record_key as is_anchor_record,
        coalesce(link_rule, case when record_key = anchor_record_key then 'anchor' end)
            as link_rule
    from anchored
)

select * from final
