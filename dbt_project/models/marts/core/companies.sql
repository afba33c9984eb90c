{#- The golden company: a CRM company with the ERP accounts it is billed under (or an ERP
    account no CRM company claims), each field chosen by the survivorship rules in
    dbt_project.yml (`company_survivorship`) with its lineage (<field>__source,
    <field>__updated_at). -#}
{%- set survivorship = var('company_survivorship') -%}
{%- set lineage = [] -%}
{%- for group, spec in survivorship.items() -%}
    {%- for column in spec['columns'] -%}
        {%- do lineage.append('survivor_' ~ group ~ '.' ~ column ~ '__source') -%}
        {%- do lineage.append('survivor_' ~ group ~ '.' ~ column ~ '__updated_at') -%}
    {%- endfor -%}
{%- endfor %}

with

clusters as (
    select * from {{ ref('int_company_clusters') }}
),

records as (
    select * from {{ ref('int_company_records') }}
),

members as (
    select clusters.company_id, records.*
    from records
    inner join clusters on records.record_key = clusters.record_key
),

crm_contacts as (
    select company_id as crm_company_id, count(*) as contact_count
    from {{ ref('stg_crm__contacts') }}
    where not is_deleted and company_id is not null
    group by company_id
),

{{ survivor_ctes('members', 'company_id', survivorship) }}

primary_records as (
    select
        company_id,
        system,
        record_id,
        row_number() over (
            partition by company_id, system
            order by case when is_deleted then 1 else 0 end, updated_at desc nulls last, record_key
        ) as record_rank
    from members
),

presence as (
    select
        company_id,
        count(*) as source_record_count,
        max(case when system = 'crm' and not is_deleted then 1 else 0 end) = 1 as is_in_crm,
        max(case when system = 'erp' and not is_deleted then 1 else 0 end) = 1 as is_in_erp,
        min(case when is_deleted then 1 else 0 end) = 1 as is_deleted,
        min(created_at) as first_seen_at,
        max(updated_at) as last_updated_at
    from members
    group by company_id
),

final as (
    select
        presence.company_id,
        crm_primary.record_id as crm_company_id,
        erp_primary.record_id as erp_contact_id,
        {%- for group, spec in survivorship.items() %}
        {%- for column in spec['columns'] %}
        survivor_{{ group }}.{{ column }},
        {%- endfor %}
        {%- endfor %}
        presence.source_record_count,
        coalesce(crm_contacts.contact_count, 0) as crm_contact_count,
        presence.is_in_crm,
        presence.is_in_erp,
        presence.is_deleted,
        presence.first_seen_at,
        presence.last_updated_at,
        {{ lineage | join(',\n        ') }}
    from presence
    {%- for group in survivorship %}
    left join survivor_{{ group }} on presence.company_id = survivor_{{ group }}.company_id
    {%- endfor %}
    left join primary_records as crm_primary
        on presence.company_id = crm_primary.company_id
        and crm_primary.system = 'crm' and crm_primary.record_rank = 1
    left join primary_records as erp_primary
        on presence.company_id = erp_primary.company_id
        and erp_primary.system = 'erp' and erp_primary.record_rank = 1
    left join crm_contacts on crm_primary.record_id = crm_contacts.crm_company_id
)

select * from final
