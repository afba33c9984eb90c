{#- The golden customer: one row per cluster of matched records, each field chosen by the
    survivorship rules in dbt_project.yml (`customer_survivorship`) and carrying its lineage
    (<field>__source, <field>__updated_at). Marketing consent is the most restrictive value
    across systems: an opt-out anywhere is an opt-out everywhere.

    Incremental by customer (macros/changed_customers.sql): a build reworks only the customers
    whose records changed, came, went or moved since its last build. -#}
{{ config(pre_hook="{{ forget_changed_customers() }}",
    post_hook="{{ consume_customer_changes() }}") }}
{%- set survivorship = var('customer_survivorship') -%}
{%- set consent = {
    'consent': {'rule': 'most_restrictive', 'columns': ['has_marketing_consent']}} -%}

with

clusters as (
    select * from {{ ref('int_customer_clusters') }}
),

records as (
    select * from {{ ref('int_customer_records') }}
),

members as (
    select clusters.customer_id, records.*
    from records
    inner join clusters on records.record_key = clusters.record_key
    where {{ changed_customers_only('clusters.customer_id') }}
),

{{ survivor_ctes('members', 'customer_id', survivorship) }}
{{ survivor_ctes('members', 'customer_id', consent) }}

-- the most recent live record of each system (the ids the syncs write back to)
primary_records as (
    select
        customer_id,
        system,
        record_id,
        row_number() over (
            partition by customer_id, system
            order by case when is_deleted then 1 else 0 end, updated_at desc nulls last, record_key
        ) as record_rank
    from members
),

presence as (
    select
        customer_id,
        count(*) as source_record_count,
        count(distinct system) as source_system_count,
        max(case when system = 'crm' and not is_deleted then 1 else 0 end) = 1 as is_in_crm,
        max(case when system = 'erp' and not is_deleted then 1 else 0 end) = 1 as is_in_erp,
        max(case when system = 'shop' and not is_deleted then 1 else 0 end) = 1 as is_in_shop,
        min(case when is_deleted then 1 else 0 end) = 1 as is_deleted,
        -- an ERP account no record names a person for (a company billed for deals, a shop's
        -- cash-sale account): a golden record, but not a person to sync as a contact
        max(case when first_name is not null or last_name is not null then 1 else 0 end) = 0
            as is_business_account,
        min(created_at) as first_seen_at,
        max(updated_at) as last_updated_at
    from members
    group by customer_id
),

final as (
    select
        presence.customer_id,
        crm_primary.record_id as crm_contact_id,
        erp_primary.record_id as erp_contact_id,
        shop_primary.record_id as shop_customer_id,
        {%- for group, spec in survivorship.items() %}
        {%- for column in spec['columns'] %}
        survivor_{{ group }}.{{ column }},
        {%- endfor %}
        {%- endfor %}
        presence.source_record_count,
        presence.source_system_count,
        coalesce(survivor_consent.has_marketing_consent, false) as has_marketing_consent,
        presence.is_in_crm,
        presence.is_in_erp,
        presence.is_in_shop,
        presence.is_deleted,
        presence.is_business_account,
        presence.first_seen_at,
        presence.last_updated_at,
        {%- for group, spec in survivorship.items() %}
        {%- for column in spec['columns'] %}
        survivor_{{ group }}.{{ column }}__source,
        survivor_{{ group }}.{{ column }}__updated_at,
        {%- endfor %}
        {%- endfor %}
        survivor_consent.has_marketing_consent__source,
        survivor_consent.has_marketing_consent__updated_at,
        {{ build_started_at() }} as built_at
    from presence
    {%- for group in survivorship %}
    left join survivor_{{ group }} on presence.customer_id = survivor_{{ group }}.customer_id
    {%- endfor %}
    left join survivor_consent on presence.customer_id = survivor_consent.customer_id
    left join primary_records as crm_primary
        on presence.customer_id = crm_primary.customer_id
        and crm_primary.system = 'crm' and crm_primary.record_rank = 1
    left join primary_records as erp_primary
        on presence.customer_id = erp_primary.customer_id
        and erp_primary.system = 'erp' and erp_primary.record_rank = 1
    left join primary_records as shop_primary
        on presence.customer_id = shop_primary.customer_id
        and shop_primary.system = 'shop' and shop_primary.record_rank = 1
)

select * from final
