with

source as (
    {{ source_or_empty('shop', 'products', {
        '_dlt_load_id': 'varchar',
        'record_id': 'varchar', '_dlt_id': 'varchar', 'shop': 'varchar', 'id': 'bigint',
        'title': 'varchar', 'handle': 'varchar', 'status': 'varchar',
        '_goldloop_deleted': 'boolean', 'created_at': 'timestamp with time zone',
        'updated_at': 'timestamp with time zone'
    }) }}
),

final as (
    select
        record_id as product_record_id,
        _dlt_id as product_row_id,
        shop,
        cast(id as {{ dbt.type_string() }}) as product_id,
        {{ clean_text('title') }} as product_title,
        handle as product_handle,
        lower(status) as product_status,
        coalesce(_goldloop_deleted, false) as is_deleted,
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at,
        _dlt_load_id as load_id
    from source
)

select * from final
