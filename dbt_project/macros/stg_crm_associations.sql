{#- Staging of HubSpot's associations (one raw table, `associations`) for one kind of record:
    the links from `from_type` records (contacts, deals) to other records, one row per link and
    association type, with the record's id named `id_column`. Links HubSpot replaced (the
    record changed) are left out. -#}
{% macro stg_crm_associations(from_type, id_column) -%}
with

source as (
    {{ source_or_empty('crm', 'associations', {
        'from_type': 'varchar', 'from_id': 'varchar', 'to_type': 'varchar', 'to_id': 'varchar',
        'type': 'varchar', 'type_id': 'bigint', 'category': 'varchar', 'label': 'varchar',
        '_goldloop_replaced': 'boolean', '_dlt_load_id': 'varchar'
    }) }}
),

final as (
    select
        {{ dbt.concat(["from_id", "'|'", "to_type", "'|'", "to_id", "'|'",
            "coalesce(cast(type_id as " ~ dbt.type_string() ~ "), '')"]) }} as association_id,
        from_id as {{ id_column }},
        to_type as associated_object,
        to_id as associated_record_id,
        type as association_type,
        cast(type_id as {{ dbt.type_string() }}) as association_type_id,
        category as association_category,
        label as association_label,
        _dlt_load_id as load_id
    from source
    where from_type = '{{ from_type }}' and not coalesce(_goldloop_replaced, false)
)

select * from final
{%- endmacro %}
