{#- Which golden company each company record belongs to (CRM companies, ERP company
    accounts), and the evidence that linked an ERP account to its CRM company. -#}
with

clusters as (
    select * from {{ ref('int_company_clusters') }}
),

records as (
    select record_key, is_deleted, updated_at from {{ ref('int_company_records') }}
),

final as (
    select
        clusters.company_id,
        clusters.system,
        clusters.object,
        clusters.record_id,
        clusters.record_key,
        clusters.link_rule,
        clusters.is_anchor_record,
        records.is_deleted,
        records.updated_at
    from clusters
    inner join records on clusters.record_key = records.record_key
)

select * from final
