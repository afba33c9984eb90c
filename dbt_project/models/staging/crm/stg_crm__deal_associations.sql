with

source as (
    {{ source_or_empty('crm', 'associations', {
        'from_type': 'varchar', 'from_id': 'varchar', 'to_type': 'varchar', 'to_id': 'varchar',
        'type': 'varchar', 'type_id': 'bigint', 'category': 'varchar', 'label': 'varchar',
        '_goldloop_replaced': 'boolean'
    }) }}
),

final as (
    select
        {{ dbt.concat(["from_id", "'|'", "to_type", "'|'", "to_id", "'|'",
            "coalesce(cast(type_id as " ~ dbt.type_string() ~ "), '')"]) }} as association_id,
        from_id as deal_id,
        to_type as associated_object,
        to_id as associated_record_id,
        type as association_type,
        cast(type_id as {{ dbt.type_string() }}) as association_type_id,
        category as association_category,
        label as association_label
    from source
    where from_type = 'deals' and not coalesce(_goldloop_replaced, false)
)

select * from final
